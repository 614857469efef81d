"""A contact segment whose `company:` predicate reads its company's model score (SPEC 4.4).

The score is a step function over partitions: the value computed for D holds from `as_of(D)`
until the next partition's. A contact joins when both hold: at `as_of` of the first partition
whose score qualifies for its company, or at the contact version that moves it to a company
already qualifying. Checked through real Dagster materialisations, day by day (the
incremental path) and as one backfill run from an empty warehouse (the whole-history path).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from tests.evaluate.conftest import Pipeline

DAY1, DAY2, DAY3 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)
FIT = """
-- entity: company, key: company_id
select company_id, employee_count as score from companies
"""
COMPANIES = {
    "2026-01-01": [
        {"company_id": "lo", "updated_at": "2026-01-01T08:00:00", "employee_count": 10},
        {"company_id": "hi", "updated_at": "2026-01-01T08:00:00", "employee_count": 60},
    ],
    # lo qualifies from the version at 10:00, but its score only from as_of(DAY2).
    "2026-01-02": [
        {"company_id": "lo", "updated_at": "2026-01-02T10:00:00", "employee_count": 100}
    ],
    # hi stops qualifying from as_of(DAY3).
    "2026-01-03": [{"company_id": "hi", "updated_at": "2026-01-03T09:00:00", "employee_count": 5}],
}
CONTACTS = {
    "2026-01-01": [
        {"contact_id": "p", "updated_at": "2026-01-01T07:00:00", "company_id": "lo"},
        {"contact_id": "q", "updated_at": "2026-01-01T07:00:00", "company_id": "lo"},
        {"contact_id": "r", "updated_at": "2026-01-01T07:00:00", "company_id": "hi"},
    ],
    # q moves to hi, whose score qualifies since as_of(DAY1).
    "2026-01-02": [{"contact_id": "q", "updated_at": "2026-01-02T15:00:00", "company_id": "hi"}],
}
EXPECTED = {
    DAY1: {"r": pd.Timestamp("2026-01-02")},
    DAY2: {
        "r": pd.Timestamp("2026-01-02"),
        "q": pd.Timestamp("2026-01-02 15:00"),
        "p": pd.Timestamp("2026-01-03"),
    },
    DAY3: {"p": pd.Timestamp("2026-01-03")},
}


def _project(project_dir, landing) -> None:
    project_dir.model("fit", FIT)
    project_dir.segment(
        "people_at_fit_companies", {"entity": "contact", "where": {"company": "fit.score >= 50"}}
    )
    for day, rows in COMPANIES.items():
        landing.jsonl(day, "companies", rows)
    for day, rows in CONTACTS.items():
        landing.jsonl(day, "contacts", rows)


def test_contacts_join_at_their_companys_first_qualifying_score_day_by_day(
    pipeline, project_dir, landing
):
    _project(project_dir, landing)
    for day in (DAY1, DAY2, DAY3):
        pipeline.materialize(day)
    for day, expected in EXPECTED.items():
        assert pipeline.members("people_at_fit_companies", day) == expected, day
    removed = pipeline.table("segment_deltas", "people_at_fit_companies")
    removed = removed[removed["change"] == "removed"]
    assert set(removed["entity_id"]) == {"q", "r"}


def test_a_backfill_from_an_empty_warehouse_dates_them_the_same(
    pipeline, project_dir, landing, tmp_path
):
    _project(project_dir, landing)
    backfill = Pipeline(project_dir.root, landing.root, tmp_path / "backfill.duckdb")
    backfill.run(DAY1, DAY3)
    for day, expected in EXPECTED.items():
        assert backfill.members("people_at_fit_companies", day) == expected, day
