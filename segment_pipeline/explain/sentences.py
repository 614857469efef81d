"""Flips and leaf values in words: `2026-01-05 14:03:11 joined: where.all[1] event
pricing_viewed in the last 30 days reached 2 (needs at least 2)`."""

from __future__ import annotations

from datetime import datetime, timedelta

from segment_pipeline.compile.spec import EXISTS, TimelineSpec
from segment_pipeline.definitions.conditions import InSegment, describe_leaf
from segment_pipeline.definitions.event_conditions import EventCondition
from segment_pipeline.explain.flips import Flip

EXISTS_PATH = "exists"


def stamp(instant: datetime) -> str:
    """An instant as the sentences show it (UTC; microseconds only when there are some)."""
    return instant.isoformat(sep=" ")


def leaf_path(spec: TimelineSpec, index: int) -> str:
    """The leaf's place in the definition (`where.all[1]`), or `exists`."""
    return EXISTS_PATH if index == EXISTS else spec.leaves[index - 1][0]


def _times(count: int) -> str:
    return "1 time" if count == 1 else f"{count} times"


def change_words(spec: TimelineSpec, flip: Flip) -> str:
    """What the flip's leaf did at the flip: its description and its change."""
    index = flip.leaf
    holds, count = flip.after[index]
    if index == EXISTS:
        return f"the {spec.segment.entity} record {'appeared' if holds else 'was deleted'}"
    node = spec.leaves[index - 1][1]
    described = f"{leaf_path(spec, index)} {describe_leaf(node)}"
    if isinstance(node, EventCondition) and count is not None:
        previous = flip.before[index][1] or 0
        if count > previous:
            change = f"reached {count}"
        else:
            change = f"fell to {count}"
            days = node.within.last_days
            if days is not None:
                aged = flip.at - timedelta(days=days)
                if previous - count == 1:
                    change += f": the {stamp(aged)} event aged out"
                else:
                    change += f": {previous - count} events of {stamp(aged)} aged out"
        return f"{described} {change} (needs {node.count.describe()})"
    if isinstance(node, InSegment):
        return f"{described}: {'joined' if holds else 'left'} {node.segment}"
    return f"{described} became {'true' if holds else 'false'}"


def flip_sentence(spec: TimelineSpec, flip: Flip) -> str:
    """`<at> joined|left: <leaf> <change>`."""
    return f"{stamp(flip.at)} {'joined' if flip.joined else 'left'}: {change_words(spec, flip)}"


def value_sentence(spec: TimelineSpec, index: int, holds: bool, count: int | None) -> str:
    """A leaf's value at `as_of`: `<path> <leaf>: holds (2 times, needs at least 2)`."""
    if index == EXISTS:
        return f"{EXISTS_PATH}: the {spec.segment.entity} {'exists' if holds else 'is deleted'}"
    node = spec.leaves[index - 1][1]
    state = "holds" if holds else "does not hold"
    if isinstance(node, EventCondition) and count is not None:
        state += f" ({_times(count)}, needs {node.count.describe()})"
    return f"{leaf_path(spec, index)} {describe_leaf(node)}: {state}"
