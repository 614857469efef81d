"""Property tests: deltas, removal reasons and history equal what the model implies.

The brute-force model gives each day's members; from consecutive days it follows who was
added and removed, whether a removed entity still exists (`deleted` otherwise), and which
leaf is the first to fail in definition order (the path `reason_detail` must start with).
A last run with every definition negated must remove with `definition_changed`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings

from .model import (
    All,
    AnyOf,
    Condition,
    EventCondition,
    Not,
    Segment,
    SnapshotModel,
    model_members,
)
from .strategies import Scenario, scenarios, write_landing, write_project
from .test_membership_properties import PIPELINE_SETTINGS, describe


def leaves(condition: Condition, path: str = "where") -> Iterator[tuple[str, Condition]]:
    if isinstance(condition, All | AnyOf):
        key = "all" if isinstance(condition, All) else "any"
        for index, child in enumerate(condition.conditions):
            yield from leaves(child, f"{path}.{key}[{index}]")
    elif isinstance(condition, Not):
        yield from leaves(condition.condition, f"{path}.not")
    else:
        yield path, condition


def first_failure(
    model: SnapshotModel,
    segment: Segment,
    key: str,
    condition: Condition,
    path: str,
    want: bool = True,
) -> tuple[str, Condition] | None:
    """The first leaf, in definition order, that makes `condition` differ from `want`."""
    at = model.as_of
    if model.holds(condition, segment, key, at) == want:
        return None
    if isinstance(condition, Not):
        return first_failure(model, segment, key, condition.condition, f"{path}.not", not want)
    if isinstance(condition, All | AnyOf):
        name = "all" if isinstance(condition, All) else "any"
        for index, child in enumerate(condition.conditions):
            found = first_failure(model, segment, key, child, f"{path}.{name}[{index}]", want)
            if found is not None:
                return found
        return None
    return path, condition


def run(scenario: Scenario) -> dict[str, object]:
    """Materialise every day in order, then the last day again with negated definitions."""
    from segment_pipeline.definitions.project import load_project
    from segment_pipeline.evaluate.daily import materialize_day
    from segment_pipeline.evaluate.history import rebuild_history
    from segment_pipeline.ingest.landing import ingest_landing_date
    from segment_pipeline.warehouse import Warehouse, WarehouseSettings
    from segment_pipeline.warehouse.schema import ensure_schema

    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        write_landing(root / "landing", scenario.days, scenario.history)
        project = load_project(write_project(root / "project", scenario.segments))
        negated = load_project(write_project(root / "negated", negate(scenario.segments)))
        names = list(project.segments)
        tables: dict[str, object] = {}
        with Warehouse.open(WarehouseSettings(path=root / "w.duckdb")) as warehouse:
            ensure_schema(warehouse, project.sources)
            for day in scenario.days:
                ingest_landing_date(warehouse, project.sources, root / "landing", day)
            history = (
                "select segment, entity_id, added_on, removed_on, removal_reason, joined_at "
                "from segment_history order by all"
            )
            for day in scenario.days:
                materialize_day(warehouse, project, day, names)
                for name in names:
                    rebuild_history(warehouse, name, since=day)
            day_by_day = warehouse.connection.sql(history).fetchall()
            for name in names:
                rebuild_history(warehouse, name)
            assert warehouse.connection.sql(history).fetchall() == day_by_day
            tables["deltas"] = warehouse.connection.sql(
                "select * from segment_deltas order by snapshot_date, segment, entity_id"
            ).fetchall()
            tables["history"] = warehouse.connection.sql(
                "select segment, entity_id, added_on, removed_on, removal_reason "
                "from segment_history"
            ).fetchall()
            materialize_day(warehouse, negated, scenario.days[-1], names)
            tables["negated"] = warehouse.connection.execute(
                "select segment, entity_id, change, reason from segment_deltas "
                "where snapshot_date = ?",
                [scenario.days[-1]],
            ).fetchall()
    return tables


def negate(segments: tuple[Segment, ...]) -> tuple[Segment, ...]:
    return tuple(Segment(s.name, s.entity, Not(s.condition)) for s in segments)


def members_by_day(scenario: Scenario, segments: tuple[Segment, ...]) -> dict[date, set]:
    return {
        day: {(row[0], row[2]) for row in model_members(scenario.history, segments, day)}
        for day in scenario.days
    }


@pytest.mark.slow
@settings(PIPELINE_SETTINGS, max_examples=30)
@given(scenario=scenarios())
def test_deltas_reasons_and_history_match_the_model(scenario: Scenario) -> None:
    describe(scenario)
    tables = run(scenario)
    members = members_by_day(scenario, scenario.segments)
    by_name = {segment.name: segment for segment in scenario.segments}
    expected_deltas = set()
    expected_stretches: dict[tuple[str, str], list[list[object]]] = {}
    previous: set = set()
    for day in scenario.days:
        model = SnapshotModel(scenario.history, scenario.segments, day)
        current = members[day]
        for segment, entity in sorted(current - previous):
            expected_deltas.add((day, segment, entity, "added", None, None))
            expected_stretches.setdefault((segment, entity), []).append([day, None, None])
        for segment, entity in sorted(previous - current):
            definition = by_name[segment]
            if model.attributes_at(definition.entity, entity, model.as_of) is None:
                reason, path = "deleted", None
            else:
                found = first_failure(model, definition, entity, definition.condition, "where")
                assert found is not None
                reason, path = "no_longer_matches", found[0]
                leaf = found[1]
                if isinstance(leaf, EventCondition):
                    count = model.event_count(leaf, definition.entity, entity, model.as_of)
                    path = (path, f"{count} time")
            expected_deltas.add((day, segment, entity, "removed", reason, path))
            expected_stretches[(segment, entity)][-1][1:] = [day, reason]
        previous = current

    actual_deltas = set()
    for row in tables["deltas"]:
        day, segment, _, entity, change, reason, detail = row[:7]
        path = None
        if detail is not None:
            path = detail.split(": ")[0]
            count = [part for part in detail.split(": ") if " time" in part]
            if count:
                path = (path, count[-1].split(",")[0].rstrip("s"))
        actual_deltas.add((day, segment, entity, change, reason, path))
    assert actual_deltas == expected_deltas

    expected_history = {
        (segment, entity, added, removed, reason)
        for (segment, entity), stretches in expected_stretches.items()
        for added, removed, reason in stretches
    }
    assert set(tables["history"]) == expected_history

    last = scenario.days[-1]
    negated_members = members_by_day(scenario, negate(scenario.segments))[last]
    before = members[scenario.days[-2]] if len(scenario.days) > 1 else set()
    model = SnapshotModel(scenario.history, negate(scenario.segments), last)
    expected_negated = {(s, e, "added", None) for s, e in negated_members - before}
    for segment, entity in before - negated_members:
        gone = model.attributes_at(by_name[segment].entity, entity, model.as_of) is None
        expected_negated.add(
            (segment, entity, "removed", "deleted" if gone else "definition_changed")
        )
    assert set(tables["negated"]) == expected_negated
