"""Flips: the instants an entity's membership changed, read off its evaluated timeline.

A timeline row holds, at one change point `t`, membership and every leaf's value *at* `t`
and on the open interval right *after* it (`compile/timeline.py`). Membership can change
twice at one point: entering it (the interval before vs. the point) and leaving it (the
point vs. the interval after). Each such change is a flip, named by the leaf whose change
made it: a leaf that changed there and alone moves membership back when put back.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from segment_pipeline.compile.spec import EXISTS, LeafColumns, TimelineSpec
from segment_pipeline.evaluate.reasons import Explainer

#: A leaf's values by index: (holds, event count or None).
Values = dict[int, tuple[bool, int | None]]


@dataclass(frozen=True)
class Flip:
    """Membership changed at `at` to `joined` or not; `leaf` (an index) made it."""

    at: datetime
    joined: bool
    leaf: int
    before: Values
    after: Values


def _values(spec: TimelineSpec, row: Mapping[Hashable, Any], side: str) -> Values:
    """Each leaf's value (and count) on one side (`at` / `after`) of a timeline row."""
    values: Values = {}
    for leaf in spec.columns:
        count = None
        if spec.is_event(leaf.index):
            count = int(row[leaf.count_at if side == "at" else leaf.count_after])
        values[leaf.index] = (bool(row[getattr(leaf, side)]), count)
    return values


def _defaults(spec: TimelineSpec) -> Values:
    """Every leaf's value before the entity's first change point."""
    return {
        leaf.index: (
            bool(spec.default(leaf.index).this),
            0 if spec.is_event(leaf.index) else None,
        )
        for leaf in spec.columns
    }


def member(spec: TimelineSpec, values: Values) -> bool:
    """Membership from leaf values: the entity exists and the condition holds."""
    explainer = Explainer(spec.segment.where)
    named = {LeafColumns(index).at: holds for index, (holds, _) in values.items()}
    return values[EXISTS][0] and explainer.holds(spec.segment.where, "where", named)


def culprit(spec: TimelineSpec, before: Values, after: Values) -> int:
    """The leaf that made membership change from `before` to `after`.

    The entity appearing or going wins; otherwise the first changed leaf (in definition
    order) without whose change membership would not have moved, else the first changed.
    """
    changed = [index for index in after if after[index][0] != before[index][0]]
    if EXISTS in changed:
        return EXISTS
    now = member(spec, after)
    for index in changed:
        if member(spec, {**after, index: before[index]}) != now:
            return index
    return changed[0]


def flips(spec: TimelineSpec, timeline: pd.DataFrame) -> list[Flip]:
    """Every membership change of one entity's timeline (rows ordered by `t`) up to
    `as_of`: what happens right after `as_of` is the next snapshot's business."""
    previous = _defaults(spec)
    was = False
    found: list[Flip] = []
    for row in timeline.to_dict("records"):
        t = pd.Timestamp(row["t"]).to_pydatetime()
        at, after = _values(spec, row, "at"), _values(spec, row, "after")
        sides = [(previous, at, bool(row["m_at"]))]
        if t < spec.as_of:
            sides.append((at, after, bool(row["m_after"])))
        for before, now, is_member in sides:
            if is_member != was:
                found.append(Flip(t, is_member, culprit(spec, before, now), before, now))
                was = is_member
        previous = after
    return found
