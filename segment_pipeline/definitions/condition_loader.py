"""Turn the `where:` YAML of a segment into a condition tree, reporting every mistake.

Written by hand rather than as a pydantic union: a union's errors list every member it
tried, while a person needs one sentence per mistake at the exact place
(`where.all[2].event.count: at_least must be a whole number >= 0, got -1`). Parsing goes
on after a mistake so that one run reports all of them.
"""

from __future__ import annotations

import re

from segment_pipeline.definitions.condition_values import ConditionContext, load_predicate, whole
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
from segment_pipeline.definitions.event_condition_loader import (
    EVENT_KEYS,
    load_aggregate,
    load_event,
    load_first_event,
    load_last_event,
    load_regularly,
    load_restarted,
    load_sequence,
)
from segment_pipeline.definitions.yaml_files import (
    NAME_PATTERN,
    did_you_mean,
    join_path,
    kind_of,
    show,
)

CONDITION_KEYS = (
    "all",
    "any",
    "not",
    "attribute",
    "company",
    "event",
    "aggregate",
    "first_event",
    "last_event",
    "sequence",
    "restarted",
    "regularly",
    "attribute_age",
    "split",
    "in_segment",
)


def load_condition(raw: object, path: str, context: ConditionContext) -> Condition | None:
    """The condition at `path`, or None when it has mistakes (recorded in `context`)."""
    if not isinstance(raw, dict):
        hint = ' (to test an attribute write attribute: "...")' if isinstance(raw, str) else ""
        context.fail(
            path,
            f"a condition must be a mapping with one of {', '.join(CONDITION_KEYS)}; "
            f"got {kind_of(raw)}{hint}",
        )
        return None
    keys = [str(key) for key in raw]
    kinds = [key for key in keys if key in CONDITION_KEYS]
    unknown = [key for key in keys if key not in CONDITION_KEYS + EVENT_KEYS]
    for key in unknown:
        if kinds == ["event"]:
            context.fail(
                join_path(path, "event"),
                f"unknown key {key!r}{did_you_mean(key, EVENT_KEYS)}; "
                f"an event condition takes: {', '.join(EVENT_KEYS)}",
            )
        else:
            context.fail(
                path,
                f"unknown key {key!r}{did_you_mean(key, CONDITION_KEYS)}; "
                f"a condition is one of: {', '.join(CONDITION_KEYS)}",
            )
    if len(kinds) > 1:
        context.fail(
            path,
            f"one condition per item, got {' and '.join(kinds)}: "
            "put each in its own item under all: or any:",
        )
        return None
    if not kinds:
        if not unknown:
            context.fail(path, f"a condition needs one of: {', '.join(CONDITION_KEYS)}")
        return None
    kind = kinds[0]
    extras = [key for key in keys if key in EVENT_KEYS]
    if kind != "event" and extras:
        context.fail(path, f"{', '.join(extras)} only goes with event:, not with {kind}:")
        return None
    if unknown:
        return None
    return _load_kind(kind, raw, path, context)


def _load_kind(
    kind: str, raw: dict[object, object], path: str, context: ConditionContext
) -> Condition | None:
    value = raw[kind]
    here = join_path(path, kind)
    if kind in {"all", "any"}:
        return _load_group(kind, value, here, context)
    if kind == "not":
        inner = load_condition(value, here, context)
        return None if inner is None else Not(condition=inner)
    if kind == "attribute":
        predicate = load_predicate(value, here, context.attributes, context)
        return None if predicate is None else Attribute(predicate=predicate)
    if kind == "company":
        if context.company is None:
            context.fail(here, context.no_company)
            return None
        predicate = load_predicate(value, here, context.company, context)
        return None if predicate is None else CompanyAttribute(predicate=predicate)
    if kind == "event":
        return load_event(raw, here, context)
    if kind == "aggregate":
        return load_aggregate(value, here, context)
    if kind == "first_event":
        return load_first_event(value, here, context)
    if kind == "last_event":
        return load_last_event(value, here, context)
    if kind == "sequence":
        return load_sequence(value, here, context)
    if kind == "restarted":
        return load_restarted(value, here, context)
    if kind == "regularly":
        return load_regularly(value, here, context)
    if kind == "split":
        return _load_split(value, here, context)
    if kind == "attribute_age":
        return _load_attribute_age(value, here, context)
    if not isinstance(value, str) or not re.fullmatch(NAME_PATTERN, value):
        context.fail(here, f"must be a segment name like churned_accounts, got {show(value)}")
        return None
    return InSegment(segment=value)


def _load_group(kind: str, value: object, path: str, context: ConditionContext) -> Condition | None:
    if not isinstance(value, list):
        context.fail(path, f"must be a list of conditions, got {kind_of(value)}")
        return None
    children = [load_condition(item, join_path(path, i), context) for i, item in enumerate(value)]
    if any(child is None for child in children):
        return None
    conditions = tuple(child for child in children if child is not None)
    return AllOf(conditions=conditions) if kind == "all" else AnyOf(conditions=conditions)


AGE_KEYS = ("column", "at_least_days", "at_most_days")


def _load_attribute_age(raw: object, path: str, context: ConditionContext) -> Condition | None:
    """`attribute_age: {column: signed_up_at, at_least_days: 30}`."""
    keys = set(map(str, raw)) if isinstance(raw, dict) else set()
    if (
        not isinstance(raw, dict)
        or "column" not in keys
        or not keys <= set(AGE_KEYS)
        or (len(keys) < 2)
    ):
        context.fail(
            path,
            "must be a mapping with column and at_least_days and/or at_most_days such as "
            f"{{column: signed_up_at, at_least_days: 30}}, got {show(raw)}",
        )
        return None
    column = raw["column"]
    types = context.attributes.columns
    if not isinstance(column, str) or str(types.get(column, "")) not in ("date", "timestamp"):
        dated = sorted(name for name, kind in types.items() if str(kind) in ("date", "timestamp"))
        context.fail(
            join_path(path, "column"),
            f"must be a date or timestamp attribute ({', '.join(dated) or 'none declared'}), "
            f"got {show(column)}",
        )
        return None
    days: dict[str, int | None] = {}
    for key in ("at_least_days", "at_most_days"):
        value = raw.get(key)
        if value is not None and (whole(value) is None or value < 0):
            context.fail(join_path(path, key), f"must be a whole number >= 0, got {show(value)}")
            return None
        days[key] = value
    low, high = days["at_least_days"], days["at_most_days"]
    if low is not None and high is not None and low > high:
        context.fail(path, f"at_least_days {low} is more than at_most_days {high}")
        return None
    return AttributeAge(column=column, at_least_days=low, at_most_days=high)


def _load_split(raw: object, path: str, context: ConditionContext) -> Condition | None:
    """`split: {salt: spring_test, percent: 10}`."""
    if not isinstance(raw, dict) or set(map(str, raw)) != {"salt", "percent"}:
        context.fail(
            path,
            "must be a mapping with salt and percent such as "
            f"{{salt: spring_test, percent: 10}}, got {show(raw)}",
        )
        return None
    salt, percent = raw["salt"], whole(raw["percent"])
    ok = True
    if not isinstance(salt, str) or not salt:
        context.fail(
            join_path(path, "salt"), f"must be a text such as spring_test, got {show(salt)}"
        )
        ok = False
    if percent is None or not 0 <= percent <= 100:
        context.fail(
            join_path(path, "percent"),
            f"must be a whole number from 0 to 100, got {show(raw['percent'])}",
        )
        ok = False
    if not ok or not isinstance(salt, str) or percent is None:
        return None
    return Split(salt=salt, percent=percent)
