"""Journeys through real Dagster runs (SPEC 9): the four seed rules and re-entry.

Every test runs several days, edits a definition, and runs again, because what a journey
must get right is exactly what happens around a definition change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .journey_project import JourneyProject

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
