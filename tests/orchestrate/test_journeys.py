"""Journeys through real Dagster runs (SPEC 9): the four seed rules and re-entry.

Every test runs several days, edits a definition, and runs again, because what a journey
must get right is exactly what happens around a definition change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from segment_pipeline.orchestrate.assets.journeys import journey_key

from .conftest import failure_description
from .journey_project import Enrolment, JourneyProject

VP = {"attribute": "seniority = 'vp'"}
CXO = {"attribute": "seniority = 'cxo'"}


@pytest.fixture
def journeys(tmp_path: Path) -> JourneyProject:
    return JourneyProject(tmp_path)


def test_an_enrolled_member_finishes_whatever_the_segment_does_later(
    journeys: JourneyProject,
) -> None:
    """Seed rule 1: ct1 entered on day 0 and stays enrolled to day 3 though it left."""
    journeys.contact(0, "ct1", "vp", hour=0)
    journeys.contact(0, "ct2", "cxo", hour=0)
    journeys.segment(VP)
    journeys.journey(starts_on=0, duration_days=3)
    journeys.run(0, 1)
    assert journeys.enrolments() == {("ct1", 0, 3)}

    journeys.segment(CXO)
    journeys.run(0, 4)
    assert journeys.enrolments() == {("ct1", 0, 3), ("ct2", 0, 3)}


def test_nobody_enters_on_a_definition_no_longer_in_force(journeys: JourneyProject) -> None:
    """Seed rule 2: after the edit only the new definition's members enter, and a journey
    run on a snapshot computed before the edit is refused."""
    journeys.contact(0, "ct1", "vp", hour=0)
    journeys.contact(0, "ct2", "cxo", hour=0)
    journeys.segment(VP)
    journeys.journey(starts_on=1, duration_days=10)
    journeys.run(0, 2)
    assert journeys.enrolments() == {("ct1", 1, 11)}

    journeys.segment(CXO)
    stale = journeys.backfill(2, 2, [journey_key("welcome")])
    assert not stale.success
    assert "materialise segments/trigger for 2026-03-04 first" in failure_description(stale)
    journeys.run(3, 4)
    assert journeys.enrolments() == {("ct1", 1, 11), ("ct2", 3, 13)}


def test_only_current_members_enter(journeys: JourneyProject) -> None:
    """Seed rule 3: ct1 was a member before the journey started and left; it never enters."""
    for contact in ("ct1", "ct2"):
        journeys.contact(0, contact, "vp", hour=0)
    journeys.event(0, "ct1", "viewed")
    journeys.event(2, "ct2", "viewed")
    journeys.segment({"event": "viewed", "within": {"last_days": 1}})
    journeys.journey(starts_on=2, duration_days=5)
    journeys.run(0, 1)
    assert journeys.enrolments() == set()

    journeys.segment({"event": "viewed", "within": {"last_days": 2}})
    journeys.run(0, 3)
    assert journeys.enrolments() == {("ct2", 2, 7)}


def test_join_time_does_not_matter(journeys: JourneyProject) -> None:
    """Seed rule 4: members since day 0 enter on starts_on, before and after an edit."""
    journeys.contact(0, "ct1", "vp", hour=0)
    journeys.contact(0, "ct2", "cxo", hour=0)
    journeys.segment(VP)
    journeys.journey(starts_on=3, duration_days=7)
    journeys.run(0, 3)
    assert journeys.enrolments() == {("ct1", 3, 10)}

    journeys.segment({"attribute": "seniority IN ('vp', 'cxo')"})
    journeys.run(0, 4)
    assert journeys.enrolments() == {("ct1", 3, 10), ("ct2", 3, 10)}


def test_a_windowed_trigger_whose_event_changes(journeys: JourneyProject) -> None:
    """The seed's "A1 at T1 changed to A2 at T2": after the edit a member enters only when
    it is in the segment under the new definition; enrolments from A1 stay."""
    for contact in ("ct1", "ct2", "ct3"):
        journeys.contact(0, contact, "vp", hour=0)
    journeys.event(0, "ct1", "a1")
    journeys.event(1, "ct2", "a2")
    journeys.event(2, "ct3", "a1")
    journeys.segment({"event": "a1", "within": {"last_days": 7}})
    journeys.journey(starts_on=0, duration_days=10)
    journeys.run(0, 1)
    assert journeys.enrolments() == {("ct1", 0, 10)}

    journeys.segment({"event": "a2", "within": {"last_days": 7}})
    journeys.run(2, 3)
    assert journeys.enrolments() == {("ct1", 0, 10), ("ct2", 2, 12)}


def _leave_and_return(journeys: JourneyProject, allow_reentry: bool) -> None:
    """ct1 a vp throughout; ct2 a vp, an ic from day 1, a cxo from day 3."""
    journeys.contact(0, "ct1", "vp", hour=0)
    journeys.contact(0, "ct2", "vp", hour=0)
    journeys.contact(1, "ct2", "ic")
    journeys.contact(3, "ct2", "cxo")
    journeys.segment(VP)
    journeys.journey(starts_on=0, duration_days=2, allow_reentry=allow_reentry)


@pytest.mark.parametrize(
    ("allow_reentry", "expected"),
    [
        (False, {("ct1", 0, 2), ("ct2", 0, 2)}),
        (True, {("ct1", 0, 2), ("ct1", 2, 4), ("ct1", 4, 6), ("ct2", 0, 2), ("ct2", 3, 5)}),
    ],
)
def test_reentry(journeys: JourneyProject, allow_reentry: bool, expected: set[Enrolment]) -> None:
    """duration_days ends an enrolment; with re-entry a member still in the segment enters
    again on its completes_on, and one that left enters again only once it is back."""
    _leave_and_return(journeys, allow_reentry)
    journeys.run(0, 1)
    journeys.segment({"attribute": "seniority IN ('vp', 'cxo')"})
    journeys.run(2, 4)
    assert journeys.enrolments() == expected


@pytest.mark.slow
def test_a_backfill_equals_run_and_rerunning_any_day_changes_nothing(tmp_path: Path) -> None:
    """A single-run backfill of days 0..4 writes the table `segment-pipeline run` writes;
    re-running any day, alone or in a range, leaves every row as it was."""
    ran, backfilled = JourneyProject(tmp_path / "run"), JourneyProject(tmp_path / "backfill")
    for journeys in (ran, backfilled):
        _leave_and_return(journeys, allow_reentry=True)
        journeys.segment({"attribute": "seniority IN ('vp', 'cxo')"})
    ran.run(0, 4)
    assert backfilled.backfill(0, 4).success
    rows = ran.rows()
    assert rows == backfilled.rows()
    assert len(rows) == 5

    for n in range(5):
        ran.run(n, n)
        assert ran.rows() == rows, f"re-running day {n}"
    assert backfilled.backfill(1, 3).success
    assert backfilled.rows() == rows
