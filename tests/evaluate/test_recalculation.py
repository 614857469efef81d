"""The four seed rules of SPEC 5, each through real Dagster materialisations.

A definition is edited between two materialisations of the same partition; the join times
must move to when the member actually started to qualify under the new definition.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

FIRST_LANDING, DAY = date(2026, 1, 1), date(2026, 1, 10)
T1, T2 = "2026-01-02T09:00:00Z", "2026-01-04T10:30:00Z"
T3, T4 = "2026-01-06T00:00:00Z", "2026-01-08T17:45:12Z"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_localize(None)


def company(landing, rows):
    landing.jsonl("2026-01-01", "companies", rows)


def one_contact(landing, events):
    landing.jsonl(
        "2026-01-01",
        "contacts",
        [
            {"contact_id": "c1", "updated_at": "2025-12-01T00:00:00Z", "company_id": "co1"},
        ],
    )
    landing.jsonl(
        "2026-01-09",
        "events",
        [
            {"event_id": f"e{i}", "contact_id": "c1", "event_name": name, "occurred_at": at}
            for i, (name, at) in enumerate(events)
        ],
    )


def test_rule_1_event_change_moves_the_join_time(pipeline, project_dir, landing):
    one_contact(landing, [("a1", T1), ("a2", T2)])
    project_dir.segment("did_it", {"entity": "contact", "where": {"event": "a1"}})
    pipeline.run(FIRST_LANDING, DAY)
    assert pipeline.members("did_it", DAY) == {"c1": ts(T1)}
    project_dir.segment("did_it", {"entity": "contact", "where": {"event": "a2"}})
    pipeline.materialize(DAY)
    assert pipeline.members("did_it", DAY) == {"c1": ts(T2)}


def test_rule_2_window_change_moves_the_join_time(pipeline, project_dir, landing):
    one_contact(landing, [("a1", T2), ("a1", T4)])
    window = {"from": "2026-01-01", "to": "2026-01-04"}
    project_dir.segment(
        "windowed", {"entity": "contact", "where": {"event": "a1", "within": window}}
    )
    pipeline.run(FIRST_LANDING, DAY)
    assert pipeline.members("windowed", DAY) == {"c1": ts(T2)}
    window = {"from": "2026-01-06", "to": "2026-01-08"}
    project_dir.segment(
        "windowed", {"entity": "contact", "where": {"event": "a1", "within": window}}
    )
    pipeline.materialize(DAY)
    assert pipeline.members("windowed", DAY) == {"c1": ts(T4)}


def test_rule_3_frequency_change_removes_the_member(pipeline, project_dir, landing):
    one_contact(landing, [("a1", T1), ("a1", T2)])
    project_dir.segment(
        "frequent", {"entity": "contact", "where": {"event": "a1", "count": {"at_least": 2}}}
    )
    pipeline.run(FIRST_LANDING, DAY)
    assert pipeline.members("frequent", DAY) == {"c1": ts(T2)}
    project_dir.segment(
        "frequent", {"entity": "contact", "where": {"event": "a1", "count": {"at_least": 3}}}
    )
    pipeline.materialize(DAY)
    assert pipeline.members("frequent", DAY) == {}
    deltas = pipeline.table("segment_deltas", "frequent")
    today = deltas[deltas["snapshot_date"] == pd.Timestamp(DAY)]
    assert today[["entity_id", "change", "reason"]].values.tolist() == [
        ["c1", "removed", "definition_changed"]
    ]


def test_rule_4_attribute_change_joins_at_the_version_that_qualifies(
    pipeline, project_dir, landing
):
    company(
        landing,
        [
            {"company_id": "co1", "updated_at": T1, "country": "FR"},
            {"company_id": "co1", "updated_at": T2, "country": "GB"},
        ],
    )
    project_dir.segment("british", {"entity": "company", "where": {"attribute": "country = 'GB'"}})
    pipeline.run(FIRST_LANDING, DAY)
    assert pipeline.members("british", DAY) == {"co1": ts(T2)}
    definitions = pipeline.table("segment_definitions", "british")
    assert len(definitions) == 1


def test_an_event_ageing_out_is_a_join_time(pipeline, project_dir, landing):
    one_contact(landing, [("complaint", T1)])
    project_dir.segment(
        "calm",
        {"entity": "contact", "where": {"not": {"event": "complaint", "within": {"last_days": 3}}}},
    )
    pipeline.run(FIRST_LANDING, DAY)
    assert pipeline.members("calm", DAY) == {"c1": ts(T1) + pd.Timedelta(days=3)}


def test_re_running_a_partition_and_later_landings_change_nothing(pipeline, project_dir, landing):
    one_contact(landing, [("a1", T1)])
    project_dir.segment("did_it", {"entity": "contact", "where": {"event": "a1"}})
    pipeline.run(FIRST_LANDING, date(2026, 1, 9))
    first = pipeline.table("segment_snapshots")
    landing.jsonl(
        "2026-01-10",
        "events",
        [
            {"event_id": "late", "contact_id": "c2", "event_name": "a1", "occurred_at": T1},
        ],
    )
    landing.jsonl(
        "2026-01-10",
        "contacts",
        [
            {"contact_id": "c2", "updated_at": "2025-12-01T00:00:00Z"},
        ],
    )
    pipeline.materialize(date(2026, 1, 10))
    pipeline.materialize(date(2026, 1, 9))
    again = pipeline.table("segment_snapshots")
    again_day9 = again[again["snapshot_date"] == pd.Timestamp(date(2026, 1, 9))]
    pd.testing.assert_frame_equal(first, again_day9.reset_index(drop=True))
    assert pipeline.members("did_it", date(2026, 1, 10)) == {"c1": ts(T1), "c2": ts(T1)}
