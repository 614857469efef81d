"""Property test: `explain`'s flips are the brute-force model's, each named by a leaf that
changed value at that instant.

Random histories and definitions (see `strategies`) land as real files in a real DuckDB
file; every visible entity of every segment is explained at the last day. The model finds
the flips by evaluating membership at every candidate instant and just after it, and
evaluates the named leaf on its own around the flip.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

import pandas as pd
from hypothesis import given, settings

from .model import MICROSECOND, All, AnyOf, Condition, Not, Segment, SnapshotModel
from .pipeline_adapter import run_explain
from .strategies import Scenario, scenarios, write_landing, write_project
from .test_membership_properties import PIPELINE_SETTINGS, describe

#: A flip: (instant, joined).
FlipRow = tuple[datetime, bool]


def model_flips(model: SnapshotModel, segment: str, key: str) -> list[FlipRow]:
    """Membership changes up to `as_of`: at each candidate, and on the interval after it."""
    flips: list[FlipRow] = []
    was = False
    for candidate in model.candidates():
        instants = [candidate] if candidate == model.as_of else [candidate, candidate + MICROSECOND]
        for instant in instants:
            now = model.member(segment, key, instant)
            if now != was:
                flips.append((candidate, now))
                was = now
    return flips


def leaf_at(condition: Condition, path: str) -> Condition:
    """The condition at a definition path such as `where.all[1].not`."""
    for step in path.removeprefix("where").split(".")[1:]:
        if step == "not":
            assert isinstance(condition, Not)
            condition = condition.condition
        else:
            assert isinstance(condition, All | AnyOf), (step, condition)
            condition = condition.conditions[int(step.split("[")[1].rstrip("]"))]
    return condition


def leaf_changes_at(
    model: SnapshotModel, segment: Segment, key: str, path: str, t: datetime
) -> bool:
    """Whether the leaf alone (or existence) takes another value at `t` than just before or
    just after it."""
    if path == "exists":

        def value(instant: datetime) -> bool:
            return model.attributes_at(segment.entity, key, instant) is not None
    else:
        leaf = leaf_at(segment.condition, path)

        def value(instant: datetime) -> bool:
            return model.holds(leaf, segment, key, instant)

    return len({value(t - MICROSECOND), value(t), value(t + MICROSECOND)}) > 1


def explain_scenario(scenario: Scenario) -> None:
    describe(scenario)
    days = list(scenario.days)
    model = SnapshotModel(scenario.history, scenario.segments, days[-1], scenario.days)
    keys = {entity: sorted(model.versions[entity]) for entity in ("company", "contact")}
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        write_landing(root / "landing", scenario.days, scenario.history)
        project = write_project(root / "project", scenario.segments)
        explained = run_explain(root / "warehouse.duckdb", root / "landing", days, project, keys)
    for segment in scenario.segments:
        for key in keys[segment.entity]:
            frame = explained[segment.name, key]
            # Depth 0: the entity's own flips (what an in_segment leaf rests on follows).
            own = frame[frame["depth"] == 0]
            flipped = own[own["flip"].notna()]
            actual = [
                (pd.Timestamp(row.at).to_pydatetime(), row.flip == "joined")
                for row in flipped.itertuples()
            ]
            expected = model_flips(model, segment.name, key)
            assert actual == expected, f"{segment.name} {key}: flips\n{flipped.to_string()}"
            for row in flipped.itertuples():
                t = pd.Timestamp(row.at).to_pydatetime()
                assert leaf_changes_at(model, segment, key, str(row.leaf), t), (
                    f"{segment.name} {key}: {row.sentence}: the leaf does not change then"
                )
            is_member = model.member(segment.name, key, model.as_of)
            assert (not flipped.empty and flipped["flip"].iloc[-1] == "joined") == is_member


@settings(PIPELINE_SETTINGS, max_examples=15)
@given(scenario=scenarios())
def test_explain_flips_are_the_models(scenario: Scenario) -> None:
    """Random histories and definition trees over every condition kind."""
    explain_scenario(scenario)
