"""The journey asset's Dagster metadata per day against counts made here from its rows.

Each day is its own run (as the schedule makes them), so each partition has one
materialisation whose `entrants`, `active` and `completed` must equal what the recorded
enrolments say about that day, counted in Python rather than by the code under test.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from segment_pipeline.orchestrate.assets.journeys import journey_key

from .journey_project import JourneyProject

DAYS = range(7)


def _metadata(result: dg.ExecuteInProcessResult, key: dg.AssetKey) -> dict[str, object]:
    events = [
        event for event in result.get_asset_materialization_events() if event.asset_key == key
    ]
    assert len(events) == 1, f"{key} was materialised {len(events)} times"
    return {name: value.value for name, value in events[0].materialization.metadata.items()}


def test_each_days_entrants_active_and_completed_match_the_enrolments(tmp_path: Path) -> None:
    journeys = JourneyProject(tmp_path)
    journeys.contact(0, "ct1", "vp", hour=0)
    journeys.contact(1, "ct2", "vp")
    journeys.contact(2, "ct3", "vp")
    journeys.contact(3, "ct2", "ic")
    journeys.segment({"attribute": "seniority = 'vp'"})
    journeys.journey(starts_on=1, duration_days=2, allow_reentry=True)

    shown = {}
    for n in DAYS:
        result = journeys.backfill(n, n)
        assert result.success
        shown[n] = _metadata(result, journey_key("welcome"))

    rows = journeys.enrolments()
    expected = {
        n: {
            "entrants": sum(1 for _, entered, _ in rows if entered == n),
            "active": sum(1 for _, entered, ends in rows if entered <= n < ends),
            "completed": sum(1 for _, _, ends in rows if ends == n),
        }
        for n in DAYS
    }
    assert {n: {k: shown[n][k] for k in expected[n]} for n in DAYS} == expected
    assert all(shown[n]["dagster/row_count"] == expected[n]["active"] for n in DAYS)
    # The scenario exercises every count: entries on several days, completions, re-entries.
    assert sum(e["entrants"] for e in expected.values()) > len({entity for entity, _, _ in rows})
    assert sum(e["completed"] for e in expected.values()) > 0
