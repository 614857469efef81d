"""The canonical form of a segment definition and its version hash (SPEC 4.1).

The canonical form is built from the parsed definition, never from the file's text, so
key order, quoting style, whitespace and YAML comments cannot change it. Predicates are
re-rendered by sqlglot (`employee_count>=500` and `employee_count >= 500` are the same),
defaults are filled in (`count: {at_least: 1}`, all-time windows), and a count is written
from its normalised range, so `exactly: 3` and `between: [3, 3]` are the same definition.

What is left out on purpose: `description` (like SQLMesh's metadata hash, it changes no
member) and the file path. What is added: the versions of the segments and models the
definition refers to, so editing a referenced segment changes every dependent's version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from segment_pipeline.definitions.condition_parts import Count, Window
from segment_pipeline.definitions.conditions import (
    AllOf,
    AnyOf,
    Attribute,
    AttributeAge,
    CompanyAttribute,
    Condition,
    InSegment,
    Not,
    Split,
)
from segment_pipeline.definitions.event_conditions import (
    Aggregate,
    Bounds,
    EventCondition,
    EventSequence,
    FirstEvent,
    LastEvent,
    Regularly,
    Restarted,
)

#: Hex digits kept from the sha256 of the canonical JSON.
VERSION_LENGTH = 12

Json = dict[str, object] | list[object] | str | int | float | None


def canonical_condition(condition: Condition) -> Json:
    """A condition as plain JSON values, one key per condition kind."""
    if isinstance(condition, AllOf):
        return {"all": [canonical_condition(child) for child in condition.conditions]}
    if isinstance(condition, AnyOf):
        return {"any": [canonical_condition(child) for child in condition.conditions]}
    if isinstance(condition, Not):
        return {"not": canonical_condition(condition.condition)}
    if isinstance(condition, Attribute):
        return {"attribute": condition.predicate.sql}
    if isinstance(condition, CompanyAttribute):
        return {"company": condition.predicate.sql}
    if isinstance(condition, InSegment):
        return {"in_segment": condition.segment}
    if isinstance(condition, Aggregate):
        events = canonical_event(condition.events)
        del events["count"]
        return {
            "aggregate": {
                condition.function: f"properties.{condition.key}",
                **events,
                **canonical_bounds(condition.value),
            }
        }
    if isinstance(condition, AttributeAge):
        return {
            "attribute_age": {
                "column": condition.column,
                "at_least_days": condition.at_least_days,
                "at_most_days": condition.at_most_days,
            }
        }
    if isinstance(condition, Split):
        return {"split": {"salt": condition.salt, "percent": condition.percent}}
    if isinstance(condition, FirstEvent):
        first = canonical_event(condition.events)
        del first["count"]
        return {"first_event": first}
    if isinstance(condition, LastEvent):
        last = canonical_event(condition.events)
        del last["count"], last["within"]
        matches = condition.matches.sql if condition.matches is not None else None
        return {
            "last_event": {
                **last,
                "matches": matches,
                "older_than_days": condition.older_than_days,
            }
        }
    if isinstance(condition, EventSequence):
        steps = []
        for step in condition.steps:
            written = canonical_event(step)
            del written["count"], written["within"]
            steps.append(written)
        return {
            "sequence": {
                "steps": steps,
                "within_days": condition.within_days,
                "within": canonical_window(condition.within),
            }
        }
    if isinstance(condition, Restarted):
        restarted = canonical_event(condition.events)
        del restarted["count"]
        return {"restarted": {**restarted, "gap_days": condition.gap_days}}
    if isinstance(condition, Regularly):
        regularly = canonical_event(condition.events)
        del regularly["count"], regularly["within"]
        return {
            "regularly": {
                **regularly,
                "period_days": condition.period_days,
                "periods": condition.periods,
                "at_least": condition.at_least,
            }
        }
    return canonical_event(condition)


def canonical_bounds(bounds: Bounds) -> dict[str, object]:
    """An aggregate's range from its ends, like `canonical_count`."""
    if bounds.high is None:
        return {"at_least": bounds.low}
    if bounds.low is None:
        return {"at_most": bounds.high}
    if bounds.low == bounds.high:
        return {"exactly": bounds.low}
    return {"between": [bounds.low, bounds.high]}


def canonical_event(event: EventCondition) -> dict[str, object]:
    """An event condition with every default written out."""
    selector: object = event.event
    if event.names:
        selector = list(event.names)
    elif event.like is not None:
        selector = {"like": event.like}
    return {
        "event": selector,
        "where": event.where.sql if event.where is not None else None,
        "within": canonical_window(event.within),
        "count": canonical_count(event.count),
    }


def canonical_count(count: Count) -> dict[str, object]:
    """The count from its range: the simplest operator that says the same."""
    if count.high is None:
        return {"at_least": count.low}
    if count.low == count.high:
        return {"exactly": count.low}
    if count.low == 0:
        return {"at_most": count.high}
    return {"between": [count.low, count.high]}


def canonical_window(window: Window) -> dict[str, object]:
    """`{}` for all time, `{"last_days": n}` or `{"from": ..., "to": ...}`."""
    if window.last_days is not None:
        return {"last_days": window.last_days}
    if window.start is not None and window.end is not None:
        return {"from": window.start.isoformat(), "to": window.end.isoformat()}
    return {}


def to_json(value: Mapping[str, object]) -> str:
    """Stable JSON: sorted keys, no whitespace, so equal meanings give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def version_of(canonical_json: str) -> str:
    """The short hash of a canonical JSON text."""
    return hashlib.sha256(canonical_json.encode("utf-8")).hexdigest()[:VERSION_LENGTH]
