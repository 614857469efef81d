"""Which entities a daily run re-evaluates from the previous day's state.

An entity whose only change points are events is left out when its attributes, company or
referenced memberships already rule membership out: it cannot be a member on either day.
In a segment nothing references, so is any changed entity (late ones too) that is neither a
member before nor can be one at `as_of`.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlglot import exp

from segment_pipeline.compile.relations import changed_table
from segment_pipeline.definitions.project import load_project
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.evaluate.membership import MembershipRun
from segment_pipeline.ingest.landing import ingest_landing_date

DAY_1, DAY_2 = date(2026, 1, 1), date(2026, 1, 2)
ATTRIBUTES = {"co_big": 500, "co_small": 5}
CONTACTS = {
    "senior_big": ("vp", "co_big"),
    "junior_big": ("ic", "co_big"),
    "senior_small": ("vp", "co_small"),
    "senior_loner": ("vp", None),
}


def write_landing(landing, late: bool) -> None:
    landing.jsonl(
        "2026-01-01",
        "companies",
        [
            {"company_id": key, "updated_at": "2025-12-01T00:00:00Z", "employee_count": count}
            for key, count in ATTRIBUTES.items()
        ],
    )
    landing.jsonl(
        "2026-01-01",
        "contacts",
        [
            {
                "contact_id": key,
                "updated_at": "2025-12-01T00:00:00Z",
                "seniority": seniority,
                "company_id": company,
            }
            for key, (seniority, company) in CONTACTS.items()
        ],
    )
    # Everyone clicks once on day 1 (the state) and once on day 2 (the evaluated day);
    # late, two clicks of day 1 land on day 2: their contacts start from the first of them.
    clicks = {DAY_1: [(key, "2026-01-01T09:00:00Z") for key in CONTACTS]}
    clicks[DAY_2] = [(key, "2026-01-02T10:00:00Z") for key in CONTACTS]
    if late:
        clicks[DAY_2] += [(key, "2026-01-01T12:00:00Z") for key in ("senior_big", "junior_big")]
    for day, day_clicks in clicks.items():
        rows = [
            {
                "event_id": f"{key}-{at}",
                "contact_id": key,
                "event_name": "clicked",
                "occurred_at": at,
            }
            for key, at in day_clicks
        ]
        landing.jsonl(day.isoformat(), "events", rows)


def evaluate(run: MembershipRun, segments: list[Segment]) -> None:
    run.prepare(segments)
    run.evaluate(segments)


@pytest.mark.parametrize("referenced", [False, True])
@pytest.mark.parametrize(
    ("late", "joined_at"), [(False, "2026-01-02 10:00:00"), (True, "2026-01-01 12:00:00")]
)
def test_changed_entities_that_cannot_qualify_are_not_re_evaluated(
    warehouse, sources, landing, project_dir, late, joined_at, referenced
):
    write_landing(landing, late)
    project_dir.segment(
        "big_companies",
        {"entity": "company", "where": {"attribute": "employee_count >= 100"}},
    )
    project_dir.segment(
        "senior_clickers",
        {
            "entity": "contact",
            "where": {
                "all": [
                    {"attribute": "seniority = 'vp'"},
                    {"in_segment": "big_companies"},
                    {"event": "clicked", "within": {"last_days": 2}, "count": {"at_least": 2}},
                ]
            },
        },
    )
    names = ["big_companies", "senior_clickers"]
    if referenced:
        names.append("following")
        project_dir.segment(
            "following", {"entity": "contact", "where": {"in_segment": "senior_clickers"}}
        )
    project = load_project(project_dir.root)
    segments = [project.segments[name] for name in names]
    ingest_landing_date(warehouse, sources, landing.root, DAY_1)
    evaluate(MembershipRun(warehouse, project, DAY_1), segments)
    ingest_landing_date(warehouse, sources, landing.root, DAY_2)

    run = MembershipRun(warehouse, project, DAY_2)
    evaluate(run, segments)

    assert run.plan.incremental == set(names)
    assert (run.plan.since_late is not None) == late
    flagged = run.warehouse.query(
        exp.select("entity_id", "late")
        .from_(changed_table("senior_clickers"))
        .order_by("entity_id")
    )
    expected = [("senior_big", late)]
    if late and referenced:
        # What references read includes who was briefly a member: every late entity is.
        expected.insert(0, ("junior_big", True))
    assert list(flagged.itertuples(index=False, name=None)) == expected
    # The second click within two days, for the one contact who qualifies otherwise.
    members = run.members(project.segments["senior_clickers"])
    assert members["entity_id"].tolist() == ["senior_big"]
    assert members["joined_at"].tolist() == [pd.Timestamp(joined_at)]


def test_late_rows_that_restore_a_referenced_membership_reach_the_referencing_segment(
    warehouse, sources, landing, project_dir
):
    """A late click keeps a company in a segment it had left the day before: its timeline
    from the first late row on is constant, yet its contacts' membership changes."""
    day_0 = date(2025, 12, 30)
    landing.jsonl(
        day_0.isoformat(),
        "companies",
        [{"company_id": "co_big", "updated_at": "2025-12-01T00:00:00Z", "employee_count": 500}],
    )
    landing.jsonl(
        day_0.isoformat(),
        "contacts",
        [{"contact_id": "c1", "updated_at": "2025-12-01T00:00:00Z", "company_id": "co_big"}],
    )
    clicks = {day_0: "2025-12-30T10:00:00Z", DAY_2: "2026-01-01T08:00:00Z"}
    for day, at in clicks.items():
        row = {"event_id": at, "contact_id": "c1", "event_name": "clicked", "occurred_at": at}
        landing.jsonl(day.isoformat(), "events", [row])
    project_dir.segment(
        "clicking_companies",
        {"entity": "company", "where": {"event": "clicked", "within": {"last_days": 2}}},
    )
    project_dir.segment(
        "at_clicking_companies",
        {"entity": "contact", "where": {"in_segment": "clicking_companies"}},
    )
    project = load_project(project_dir.root)
    segments = [project.segments["clicking_companies"], project.segments["at_clicking_companies"]]
    for day in (day_0, DAY_1):
        ingest_landing_date(warehouse, sources, landing.root, day)
    first = MembershipRun(warehouse, project, DAY_1)
    evaluate(first, segments)
    # Day 1 saw only the first click, which left the window at 2026-01-01 10:00.
    assert first.members(project.segments["at_clicking_companies"]).empty
    ingest_landing_date(warehouse, sources, landing.root, DAY_2)

    run = MembershipRun(warehouse, project, DAY_2)
    evaluate(run, segments)

    assert run.plan.incremental == {"clicking_companies", "at_clicking_companies"}
    members = run.members(project.segments["at_clicking_companies"])
    assert list(zip(members["entity_id"], members["joined_at"], strict=True)) == [
        ("c1", pd.Timestamp("2025-12-30 10:00:00"))
    ]
