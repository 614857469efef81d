"""SQL models as Dagster assets: computed per partition over the data as of that day."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from segment_pipeline.orchestrate.launch import RunFailed

DAY1, DAY2, DAY3 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)

ACTIVITY = """
-- entity: company, key: company_id
with

seen as (select company_id, count(*) as events from events group by company_id),

final as (
    select
        c.company_id,
        c.employee_count,
        coalesce(seen.events, 0) as events,
    from companies as c
    left join seen using (company_id)
)

select * from final
"""
#: A model reading another model by a quoted, schema-qualified name.
BUSY = 'select company_id, events >= 2 as is_busy from main."ACTIVITY"\n'


def _rows(pipeline, table: str) -> pd.DataFrame:
    frame = pipeline.table(table)
    frame["snapshot_date"] = frame["snapshot_date"].dt.date
    return frame.sort_values(list(frame.columns), ignore_index=True)


def test_models_are_computed_per_partition_as_of_that_day(pipeline, project_dir, landing):
    project_dir.model("activity", ACTIVITY)
    project_dir.model("busy", BUSY)
    project_dir.segment("everyone", {"entity": "company", "where": {"all": []}})
    landing.jsonl(
        "2026-01-01",
        "companies",
        [
            {"company_id": "a", "updated_at": "2026-01-01T08:00:00", "employee_count": 10},
            {"company_id": "b", "updated_at": "2026-01-01T09:00:00", "employee_count": 20},
        ],
    )
    landing.jsonl(
        "2026-01-02",
        "companies",
        [
            # b is deleted on the 2nd; a row stamped on the 3rd is not visible on the 2nd
            {"company_id": "b", "updated_at": "2026-01-02T10:00:00", "is_deleted": True},
            {"company_id": "a", "updated_at": "2026-01-03T10:00:00", "employee_count": 99},
        ],
    )
    landing.jsonl(
        "2026-01-02",
        "events",
        [
            {
                "event_id": f"e{i}",
                "contact_id": "p",
                "company_id": "a",
                "event_name": "visit",
                "occurred_at": f"2026-01-02T0{i}:00:00",
            }
            for i in range(1, 3)
        ],
    )
    pipeline.run(DAY1, DAY2)
    activity = _rows(pipeline, "model_activity")
    assert activity.to_dict("records") == [
        {"snapshot_date": DAY1, "company_id": "a", "employee_count": 10, "events": 0},
        {"snapshot_date": DAY1, "company_id": "b", "employee_count": 20, "events": 0},
        {"snapshot_date": DAY2, "company_id": "a", "employee_count": 10, "events": 2},
    ]
    busy = _rows(pipeline, "model_busy")
    assert busy[["snapshot_date", "company_id", "is_busy"]].values.tolist() == [
        [DAY1, "a", False],
        [DAY1, "b", False],
        [DAY2, "a", True],
    ]
    # Re-running a partition replaces its rows: the same rows, not twice as many.
    pipeline.materialize(DAY2)
    pipeline.materialize(DAY3)
    again = _rows(pipeline, "model_activity")
    assert again[again["snapshot_date"] < DAY3].equals(activity)
    assert again[again["snapshot_date"] == DAY3]["employee_count"].tolist() == [99]
    runs = _rows(pipeline, "model_runs")
    assert runs.groupby("model").size().to_dict() == {"activity": 3, "busy": 3}


FIT = """
-- entity: company, key: company_id
select company_id, employee_count as score from companies
"""
COMPANIES = {
    "2026-01-01": [
        {"company_id": "a", "updated_at": "2026-01-01T08:00:00", "employee_count": 10},
        {"company_id": "b", "updated_at": "2026-01-01T08:00:00", "employee_count": 60},
    ],
    "2026-01-02": [{"company_id": "a", "updated_at": "2026-01-02T10:00:00", "employee_count": 100}],
}
CONTACTS = [{"contact_id": "p", "updated_at": "2026-01-01T07:00:00", "company_id": "a"}]
EVENTS = [
    {
        "event_id": "e1",
        "contact_id": "p",
        "event_name": "demo",
        "occurred_at": "2026-01-03T05:00:00",
    }
]


def _scored_project(project_dir, landing, fit: str = FIT) -> None:
    project_dir.model("fit", fit)
    project_dir.segment("fit", {"entity": "company", "where": {"attribute": "fit.score >= 50"}})
    project_dir.segment(
        "fit_and_demo",
        {
            "entity": "company",
            "where": {"all": [{"attribute": "fit.score >= 50"}, {"event": "demo"}]},
        },
    )
    project_dir.segment(
        "people_at_fit", {"entity": "contact", "where": {"company": "fit.score >= 50"}}
    )
    for day, rows in COMPANIES.items():
        landing.jsonl(day, "companies", rows)
    landing.jsonl("2026-01-01", "contacts", CONTACTS)
    landing.jsonl("2026-01-03", "events", EVENTS)


def test_score_members_join_at_the_as_of_of_the_first_qualifying_partition(
    pipeline, project_dir, landing
):
    _scored_project(project_dir, landing)
    for day in (DAY1, DAY2, DAY3):
        pipeline.materialize(day)
    first_day = pd.Timestamp("2026-01-02")  # as_of(DAY1)
    second_day = pd.Timestamp("2026-01-03")  # as_of(DAY2), not the version's 10:00 on Jan 2
    assert pipeline.members("fit", DAY1) == {"b": first_day}
    assert pipeline.members("fit", DAY2) == {"a": second_day, "b": first_day}
    assert pipeline.members("fit", DAY3) == {"a": second_day, "b": first_day}
    # score AND an event: the later of the two change points
    assert pipeline.members("fit_and_demo", DAY2) == {}
    assert pipeline.members("fit_and_demo", DAY3) == {"a": pd.Timestamp("2026-01-03 05:00")}
    # a contact segment on its company's score
    assert pipeline.members("people_at_fit", DAY1) == {}
    assert pipeline.members("people_at_fit", DAY3) == {"p": second_day}


def test_a_model_edit_recalculates_as_if_the_new_sql_had_always_run(pipeline, project_dir, landing):
    _scored_project(project_dir, landing)
    for day in (DAY1, DAY2, DAY3):
        pipeline.materialize(day)
    project_dir.model("fit", FIT.replace("employee_count as score", "employee_count * 10 as score"))
    pipeline.materialize(DAY3)
    # a scores 100 from the first partition on: a member since as_of(DAY1)
    assert pipeline.members("fit", DAY3) == {
        "a": pd.Timestamp("2026-01-02"),
        "b": pd.Timestamp("2026-01-02"),
    }
    assert pipeline.members("people_at_fit", DAY3) == {"p": pd.Timestamp("2026-01-02")}
    deltas = pipeline.table("segment_deltas", "fit")
    removed = deltas[(deltas["change"] == "removed")]
    assert removed.empty
    runs = pipeline.table("model_runs")
    assert runs["version"].nunique() == 1 and len(runs) == 3


def test_a_backfill_equals_day_by_day_runs(pipeline, project_dir, landing, tmp_path):
    _scored_project(project_dir, landing)
    for day in (DAY1, DAY2, DAY3):
        pipeline.materialize(day)
    backfilled = type(pipeline)(project_dir.root, landing.root, tmp_path / "backfill.duckdb")
    backfilled.run(DAY1, DAY3)
    for table in ("segment_snapshots", "segment_deltas", "model_fit", "model_runs"):
        assert backfilled.table(table).equals(pipeline.table(table)), table


TAGS = """
-- entity: company, key: company_id
select
    company_id,
    list_filter([case when employee_count >= 50 then 'big' end], tag -> tag is not null) as tags,
    employee_count as size,
from companies
"""


def test_tag_membership_and_a_list_test_on_a_column_that_is_no_list(pipeline, project_dir, landing):
    project_dir.model("tags", TAGS)
    project_dir.segment(
        "big", {"entity": "company", "where": {"attribute": "list_contains(tags.tags, 'big')"}}
    )
    for day, rows in COMPANIES.items():
        landing.jsonl(day, "companies", rows)
    pipeline.run(DAY1, DAY2)
    assert pipeline.members("big", DAY2) == {
        "a": pd.Timestamp("2026-01-03"),
        "b": pd.Timestamp("2026-01-02"),
    }
    project_dir.segment(
        "odd", {"entity": "company", "where": {"attribute": "list_contains(tags.size, 'big')"}}
    )
    with pytest.raises(
        RunFailed, match=r"odd.yml: list_contains\(tags.size, \.\.\.\) needs a list"
    ):
        pipeline.run(DAY2, DAY2)


def test_sql_the_engine_refuses_fails_the_model_with_its_file(pipeline, project_dir, landing):
    project_dir.model("broken", "select company_id, cast(country as integer) as n from companies\n")
    project_dir.segment("everyone", {"entity": "company", "where": {"all": []}})
    landing.jsonl(
        "2026-01-01",
        "companies",
        [{"company_id": "a", "updated_at": "2026-01-01T08:00:00", "country": "GB"}],
    )
    with pytest.raises(RunFailed, match=r"models/broken.sql: model broken failed on 2026-01-01: "):
        pipeline.run(DAY1, DAY1)
