"""Property tests: the pipeline's members and join times equal the brute-force model's.

Random histories and definitions (see `strategies`) are written as real landing files and
YAML, ingested into a real DuckDB file and evaluated; every snapshot must match the model
exactly, to the microsecond, whatever the ingestion order and whatever lands afterwards.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Literal

import pytest
import yaml
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from .model import MICROSECOND, MemberRow, SnapshotModel, model_members
from .pipeline_adapter import Evaluate, Ingest, run_pipeline
from .strategies import (
    Scenario,
    condition_yaml,
    scenarios,
    window_scenarios,
    write_landing,
    write_project,
)

PIPELINE_SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def describe(scenario: Scenario) -> None:
    """Show the segments as YAML in a falsifying example's report."""
    for segment in scenario.segments:
        definition = yaml.safe_dump(condition_yaml(segment.condition))
        note(f"{segment.name} ({segment.entity}):\n{definition}")


def assert_same(expected: set[MemberRow], actual: set[MemberRow], context: str) -> None:
    missing = sorted(expected - actual)
    unexpected = sorted(actual - expected)
    assert not missing and not unexpected, (
        f"{context}\n  expected but not returned: {missing}"
        f"\n  returned but not expected: {unexpected}"
    )


def run_scenario(
    scenario: Scenario,
    steps_for: Callable[[Path], list[Ingest | Evaluate]],
    engine: Literal["duckdb", "spark"] = "duckdb",
) -> list[set[MemberRow]]:
    """Write the scenario's files and run the steps built for its project directory."""
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        write_landing(root / "landing", scenario.days, scenario.history)
        project = write_project(root / "project", scenario.segments)
        warehouse = root / ("warehouse.duckdb" if engine == "duckdb" else "warehouse")
        return run_pipeline(warehouse, root / "landing", steps_for(project), engine)


def check_day_by_day(scenario: Scenario, engine: Literal["duckdb", "spark"] = "duckdb") -> None:
    """Ingest day by day, evaluating each day as it lands; then re-evaluate every day once
    all days have landed: a snapshot must not change when later days land."""
    describe(scenario)

    def steps_for(project: Path) -> list[Ingest | Evaluate]:
        steps: list[Ingest | Evaluate] = []
        for day in scenario.days:
            steps += [Ingest(day), Evaluate(day, project)]
        return steps + [Evaluate(day, project) for day in scenario.days]

    results = run_scenario(scenario, steps_for, engine)
    live, rerun = results[: len(scenario.days)], results[len(scenario.days) :]
    for day, actual in zip(scenario.days, live, strict=True):
        expected = model_members(scenario.history, scenario.segments, day, scenario.days)
        assert_same(expected, actual, f"snapshot {day}, evaluated right after landing {day}")
    for day, actual in zip(scenario.days, rerun, strict=True):
        expected = model_members(scenario.history, scenario.segments, day, scenario.days)
        assert_same(expected, actual, f"snapshot {day}, re-evaluated after all days landed")


@pytest.mark.slow
@settings(PIPELINE_SETTINGS, max_examples=90)
@given(scenario=scenarios())
def test_pipeline_matches_model_day_by_day(scenario: Scenario) -> None:
    """Random histories and random definition trees over every condition kind."""
    check_day_by_day(scenario)


@pytest.mark.slow
@settings(PIPELINE_SETTINGS, max_examples=60)
@given(scenario=window_scenarios())
def test_pipeline_matches_model_on_window_edges(scenario: Scenario) -> None:
    """Many events against windowed event conditions: the edges of time windows."""
    check_day_by_day(scenario)


@settings(PIPELINE_SETTINGS, max_examples=15)
@given(scenario=scenarios(scores=True))
def test_pipeline_matches_model_with_model_values(scenario: Scenario) -> None:
    """Leaves on a SQL model's score (own and through the company): a step function over
    the computed partitions, NULL before the first."""
    check_day_by_day(scenario)


@pytest.mark.slow
@settings(PIPELINE_SETTINGS, max_examples=30)
@given(scenario=scenarios(scores=True), data=st.data())
def test_ingestion_order_does_not_matter(scenario: Scenario, data: st.DataObject) -> None:
    """Days ingested in any order, one of them twice, give the model's snapshots."""
    describe(scenario)
    order = data.draw(st.permutations(scenario.days), label="ingestion order")
    reingest = data.draw(st.sampled_from(scenario.days), label="ingested twice")
    results = run_scenario(
        scenario,
        lambda project: [
            *(Ingest(day) for day in [*order, reingest]),
            *(Evaluate(day, project) for day in scenario.days),
        ],
    )
    for day, actual in zip(scenario.days, results, strict=True):
        expected = model_members(scenario.history, scenario.segments, day, scenario.days)
        assert_same(expected, actual, f"snapshot {day}, days ingested in order {order}")


@settings(max_examples=300, deadline=None)
@given(scenario=scenarios(scores=True))
def test_model_join_time_starts_an_unbroken_stretch(scenario: Scenario) -> None:
    """The model checked against its own definition on a dense grid of instants: members
    qualify at every grid instant from the join time to as_of, and the stretch cannot be
    extended before the join time; non-members do not qualify at as_of."""
    for day in scenario.days:
        model = SnapshotModel(scenario.history, scenario.segments, day, scenario.days)
        candidates = model.candidates()
        first = min(candidates)
        grid = sorted(
            {
                first + timedelta(minutes=30 * n)
                for n in range(int((model.as_of - first).total_seconds() // 1800))
            }
            | {
                c + delta
                for c in candidates
                for delta in (-MICROSECOND, MICROSECOND, timedelta(seconds=1))
            }
        )
        for segment in scenario.segments:
            for key in model.versions[segment.entity]:
                joined_at = model.join_time(segment.name, key)
                if joined_at is None:
                    assert not model.member(segment.name, key, model.as_of)
                    continue
                assert joined_at in candidates
                assert all(
                    model.member(segment.name, key, t) for t in grid if joined_at < t <= model.as_of
                )
                before = joined_at - MICROSECOND
                assert not model.member(segment.name, key, joined_at) or not model.member(
                    segment.name, key, before
                )
