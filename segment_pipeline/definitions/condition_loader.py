"""Turn the `where:` YAML of a segment into a condition tree, reporting every mistake.

Written by hand rather than as a pydantic union: a union's errors list every member it
tried, while a person needs one sentence per mistake at the exact place
(`where.all[2].event.count: at_least must be a whole number >= 0, got -1`). Parsing goes
on after a mistake so that one run reports all of them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict, TypeGuard

from segment_pipeline.definitions.conditions import (
    Aggregate,
    AggregateFunction,
    AllOf,
    AnyOf,
    Attribute,
    AttributeAge,
    Bounds,
    CompanyAttribute,
    ComparisonOp,
    Condition,
    Count,
    EventCondition,
    EventSequence,
    FirstEvent,
    InSegment,
    LastEvent,
    Not,
    Predicate,
    Regularly,
    Restarted,
    Split,
    Window,
)
from segment_pipeline.definitions.predicates import PredicateScope, parse_predicate
from segment_pipeline.definitions.sources import EntityType
from segment_pipeline.definitions.yaml_files import (
    NAME_PATTERN,
    did_you_mean,
    join_path,
    kind_of,
    show,
    to_date,
)
from segment_pipeline.errors import DefinitionError, PredicateError

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
EVENT_KEYS = ("where", "within", "count")
COUNT_KEYS = ("at_least", "at_most", "exactly", "between")
AGGREGATE_FUNCTIONS = ("sum", "avg", "min", "max", "count_distinct")
AGGREGATE_KEYS = (*AGGREGATE_FUNCTIONS, "event", "where", "within", *COUNT_KEYS)
FIRST_EVENT_KEYS = ("event", "where", "within")
LAST_EVENT_KEYS = ("event", "where", "matches", "older_than_days")
SEQUENCE_KEYS = ("steps", "within_days", "within")
STEP_KEYS = ("event", "where")
#: How many steps a sequence takes.
SEQUENCE_STEPS = (2, 3)
#: What a kind's mapping needs when it only reads events: the events' name.
NEEDS_EVENT = {"event": "the name of the events it reads"}
RESTARTED_KEYS = ("event", "where", "gap_days", "within")
REGULARLY_KEYS = ("event", "where", "period_days", "periods", "at_least")
WINDOW_KEYS = ("last_days", "from", "to")


@dataclass(frozen=True)
class ConditionContext:
    """What a condition may refer to, and where its mistakes are collected.

    Attributes:
        file: the segment file, for messages.
        entity: the segment's entity.
        attributes: scope of `attribute:` predicates.
        company: scope of `company:` predicates; None on a company segment, or when
            contacts do not declare their company.
        events: scope of an event condition's `where`.
        errors: every mistake found, appended in file order.
    """

    file: Path
    entity: EntityType
    attributes: PredicateScope
    company: PredicateScope | None
    events: PredicateScope
    errors: list[DefinitionError] = field(default_factory=list)

    @property
    def no_company(self) -> str:
        """Why `company:` cannot be used here, when `company` is None."""
        if self.entity == "company":
            return (
                "company: conditions are for contact segments; on a company segment use attribute:"
            )
        return (
            "company: conditions read the contact's company, and sources.yml does not declare "
            "company_id under contacts.columns: declare it (company_id: text) or remove this"
        )

    def fail(self, path: str, reason: str) -> None:
        """Record one mistake."""
        self.errors.append(DefinitionError(self.file, path, reason))


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
        predicate = _load_predicate(value, here, context.attributes, context)
        return None if predicate is None else Attribute(predicate=predicate)
    if kind == "company":
        if context.company is None:
            context.fail(here, context.no_company)
            return None
        predicate = _load_predicate(value, here, context.company, context)
        return None if predicate is None else CompanyAttribute(predicate=predicate)
    if kind == "event":
        return _load_event(raw, here, context)
    if kind == "aggregate":
        return _load_aggregate(value, here, context)
    if kind == "first_event":
        return _load_first_event(value, here, context)
    if kind == "last_event":
        return _load_last_event(value, here, context)
    if kind == "sequence":
        return _load_sequence(value, here, context)
    if kind == "restarted":
        return _load_restarted(value, here, context)
    if kind == "regularly":
        return _load_regularly(value, here, context)
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


def _load_predicate(
    value: object, path: str, scope: PredicateScope, context: ConditionContext
) -> Predicate | None:
    if not isinstance(value, str):
        context.fail(
            path, f"must be a SQL condition in quotes such as \"country = 'GB'\", got {show(value)}"
        )
        return None
    try:
        return parse_predicate(value, scope)
    except PredicateError as error:
        context.fail(path, str(error))
        return None


def _load_event(
    raw: dict[object, object],
    path: str,
    context: ConditionContext,
    options: str | None = None,
) -> Condition | None:
    """The event filter of `raw`: its selector at `path`, its `where`, `within` and `count`
    under `options` (the condition's path for a kind whose keys sit beside `event:`;
    `path` itself by default)."""
    selector = load_selector(raw["event"], path, context)
    beside = path if options is None else options
    ok = selector is not None
    where = None
    if raw.get("where") is not None:
        where = _load_predicate(raw["where"], join_path(beside, "where"), context.events, context)
        ok = ok and where is not None
    within = load_window(raw.get("within"), join_path(beside, "within"), context)
    count = load_count(raw.get("count"), join_path(beside, "count"), context)
    if not ok or selector is None or within is None or count is None:
        return None
    return EventCondition(**selector, where=where, within=within, count=count)


def _is_name(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and bool(value.strip()) and value == value.strip()


def _is_function(key: str) -> TypeGuard[AggregateFunction]:
    return key in AGGREGATE_FUNCTIONS


def _is_comparison(key: str) -> TypeGuard[ComparisonOp]:
    return key in COUNT_KEYS


class Selector(TypedDict, total=False):
    """Which events an event condition reads: exactly one of the keys (`EventCondition`)."""

    event: str
    names: tuple[str, ...]
    like: str


def load_selector(raw: object, path: str, context: ConditionContext) -> Selector | None:
    """Which events: `pricing_viewed`, `[trial_started, demo_booked]` (any of them) or
    `{like: 'feature_%'}` (SQL LIKE: `%` any text, `_` one character)."""
    if _is_name(raw):
        return {"event": raw}
    if isinstance(raw, list):
        bad = [item for item in raw if not _is_name(item)]
        if not raw or bad:
            got = show(bad[0]) if bad else "an empty list"
            context.fail(path, f"a list of events needs names such as pricing_viewed, got {got}")
            return None
        names = tuple(sorted(set(map(str, raw))))
        return {"event": names[0]} if len(names) == 1 else {"names": names}
    if isinstance(raw, dict):
        pattern = raw.get("like")
        if set(map(str, raw)) != {"like"} or not isinstance(pattern, str) or not pattern:
            context.fail(
                path,
                "an event name pattern is {like: 'feature_%'} (SQL LIKE: % any text, "
                f"_ one character), got {show(raw)}",
            )
            return None
        return {"like": pattern}
    context.fail(
        path,
        "must be an event name such as pricing_viewed, a list of names or "
        f"{{like: 'feature_%'}}, got {show(raw)}",
    )
    return None


def _load_aggregate(raw: object, path: str, context: ConditionContext) -> Condition | None:
    """`aggregate: {sum: properties.amount, event: order_placed, within: ..., at_least: 100}`."""
    if not isinstance(raw, dict):
        context.fail(
            path,
            "must be a mapping such as {sum: properties.amount, event: order_placed, "
            f"at_least: 100}}, got {kind_of(raw)}",
        )
        return None
    keys = [str(key) for key in raw]
    for key in keys:
        if key not in AGGREGATE_KEYS:
            context.fail(
                path,
                f"unknown key {key!r}{did_you_mean(key, AGGREGATE_KEYS)}; "
                f"an aggregate takes one of {', '.join(AGGREGATE_FUNCTIONS)}, event, "
                f"where, within and one of {', '.join(COUNT_KEYS)}",
            )
            return None
    functions = [key for key in keys if _is_function(key)]
    comparisons = [key for key in keys if _is_comparison(key)]
    if len(functions) != 1:
        got = " and ".join(functions) if functions else "none"
        context.fail(path, f"name one of {', '.join(AGGREGATE_FUNCTIONS)}, got {got}")
        return None
    if len(comparisons) != 1:
        got = " and ".join(comparisons) if comparisons else "none"
        context.fail(path, f"compare with one of {', '.join(COUNT_KEYS)}, got {got}")
        return None
    function = functions[0]
    target = raw[function]
    key = target.removeprefix("properties.") if isinstance(target, str) else ""
    ok = True
    if not isinstance(target, str) or not target.startswith("properties.") or not key:
        context.fail(
            join_path(path, function),
            f"must be an event property such as properties.amount, got {show(target)}",
        )
        ok = False
    if "event" not in raw:
        context.fail(path, "an aggregate needs event: the name of the events it reads")
        return None
    events = _load_event(raw, join_path(path, "event"), context)
    bounds = _load_bounds(comparisons[0], raw[comparisons[0]], path, context)
    if not ok or not isinstance(events, EventCondition) or bounds is None:
        return None
    return Aggregate(function=function, key=key, events=events, value=bounds)


def _mapping(
    raw: object,
    path: str,
    keys: tuple[str, ...],
    example: str,
    context: ConditionContext,
    required: Mapping[str, str] = NEEDS_EVENT,
) -> dict[object, object] | None:
    """A new kind's mapping with its `required` keys (each with what it is, for the
    message) and only the kind's keys, or None (recorded)."""
    if not isinstance(raw, dict):
        context.fail(path, f"must be a mapping such as {example}, got {kind_of(raw)}")
        return None
    for key in map(str, raw):
        if key not in keys:
            context.fail(
                path,
                f"unknown key {key!r}{did_you_mean(key, keys)}; it takes: {', '.join(keys)}",
            )
            return None
    missing = [key for key in required if key not in raw]
    for key in missing:
        context.fail(path, f"needs {key}: {required[key]}")
    return None if missing else raw


def _load_first_event(raw: object, path: str, context: ConditionContext) -> Condition | None:
    """`first_event: {event: signed_up, within: {last_days: 7}}`."""
    found = _mapping(
        raw, path, FIRST_EVENT_KEYS, "{event: signed_up, within: {last_days: 7}}", context
    )
    events = None if found is None else _load_event(found, join_path(path, "event"), context)
    return None if not isinstance(events, EventCondition) else FirstEvent(events=events)


def _load_last_event(raw: object, path: str, context: ConditionContext) -> Condition | None:
    """`last_event: {event: app_opened, matches: "...", older_than_days: 30}`."""
    found = _mapping(
        raw, path, LAST_EVENT_KEYS, "{event: app_opened, older_than_days: 30}", context
    )
    if found is None:
        return None
    events = _load_event(found, join_path(path, "event"), context)
    matches = None
    ok = isinstance(events, EventCondition)
    if found.get("matches") is not None:
        here = join_path(path, "matches")
        matches = _load_predicate(found["matches"], here, context.events, context)
        ok = ok and matches is not None
    days = found.get("older_than_days")
    if days is not None and (_whole(days) is None or days < 1):  # type: ignore[operator]
        context.fail(
            join_path(path, "older_than_days"), f"must be a whole number >= 1, got {show(days)}"
        )
        ok = False
    if not ok or not isinstance(events, EventCondition):
        return None
    return LastEvent(events=events, matches=matches, older_than_days=days)  # type: ignore[arg-type]


def _load_sequence(raw: object, path: str, context: ConditionContext) -> Condition | None:
    """`sequence: {steps: [{event: a}, {event: b, where: "..."}], within_days: 3, within: ...}`."""
    steps_words = (
        f"a list of {' or '.join(map(str, SEQUENCE_STEPS))} steps such as "
        "[{event: trial_started}, {event: pricing_viewed}]"
    )
    required = {
        "steps": steps_words,
        "within_days": "how many days at most each step may come after the previous one",
    }
    example = "{steps: [{event: trial_started}, {event: pricing_viewed}], within_days: 3}"
    found = _mapping(raw, path, SEQUENCE_KEYS, example, context, required)
    if found is None:
        return None
    steps_path = join_path(path, "steps")
    raw_steps = found["steps"]
    if not isinstance(raw_steps, list) or len(raw_steps) not in SEQUENCE_STEPS:
        got = kind_of(raw_steps)
        if isinstance(raw_steps, list):
            got = "1 step" if len(raw_steps) == 1 else f"{len(raw_steps)} steps"
        context.fail(steps_path, f"must be {steps_words}, got {got}")
        return None
    steps = [
        _load_step(step, join_path(steps_path, i), context) for i, step in enumerate(raw_steps)
    ]
    days = _whole(found["within_days"])
    if days is None or days < 1:
        context.fail(
            join_path(path, "within_days"),
            "must be a whole number >= 1 (a step must be strictly later than the previous "
            f"one), got {show(found['within_days'])}",
        )
    within = load_window(found.get("within"), join_path(path, "within"), context)
    chosen = [step for step in steps if step is not None]
    if days is None or days < 1 or within is None or len(chosen) != len(steps):
        return None
    return EventSequence(steps=tuple(chosen), within_days=days, within=within)


def _load_step(raw: object, path: str, context: ConditionContext) -> EventCondition | None:
    """One step of a sequence: `{event: pricing_viewed, where: "..."}`."""
    example = "{event: pricing_viewed, where: \"properties.plan = 'pro'\"}"
    found = _mapping(raw, path, STEP_KEYS, example, context)
    step = None if found is None else _load_event(found, join_path(path, "event"), context)
    return step if isinstance(step, EventCondition) else None


def _load_restarted(raw: object, path: str, context: ConditionContext) -> Condition | None:
    """`restarted: {event: app_opened, gap_days: 14, within: {last_days: 7}}`."""
    example = "{event: app_opened, gap_days: 14, within: {last_days: 7}}"
    required = {
        **NEEDS_EVENT,
        "gap_days": "how many days without the event make the next one a restart, "
        "a whole number >= 1",
    }
    found = _mapping(raw, path, RESTARTED_KEYS, example, context, required)
    if found is None:
        return None
    events = _load_event(found, join_path(path, "event"), context, options=path)
    gap = _positive(found["gap_days"], join_path(path, "gap_days"), context)
    if not isinstance(events, EventCondition) or gap is None:
        return None
    return Restarted(events=events, gap_days=gap)


def _load_regularly(raw: object, path: str, context: ConditionContext) -> Condition | None:
    """`regularly: {event: app_opened, period_days: 7, periods: 4, at_least: 3}`."""
    example = "{event: app_opened, period_days: 7, periods: 4, at_least: 3}"
    required = {
        **NEEDS_EVENT,
        "period_days": "how many days one period lasts, a whole number >= 1",
        "periods": "how many of the latest periods are looked at, a whole number >= 1",
        "at_least": "in how many of them the event must be, a whole number >= 1",
    }
    found = _mapping(raw, path, REGULARLY_KEYS, example, context, required)
    if found is None:
        return None
    events = _load_event(found, join_path(path, "event"), context, options=path)
    period_days, periods, at_least = (
        _positive(found[key], join_path(path, key), context)
        for key in ("period_days", "periods", "at_least")
    )
    if periods is not None and at_least is not None and at_least > periods:
        context.fail(
            join_path(path, "at_least"),
            f"must be at most periods ({periods}): the event can be in {periods} periods at "
            f"most, got {at_least}",
        )
        return None
    if not isinstance(events, EventCondition) or (
        period_days is None or periods is None or at_least is None
    ):
        return None
    return Regularly(events=events, period_days=period_days, periods=periods, at_least=at_least)


def _positive(value: object, path: str, context: ConditionContext) -> int | None:
    """A whole number >= 1, or None (recorded)."""
    number = _whole(value)
    if number is None or number < 1:
        context.fail(path, f"must be a whole number >= 1, got {show(value)}")
        return None
    return number


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
        if value is not None and (_whole(value) is None or value < 0):
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
    salt, percent = raw["salt"], _whole(raw["percent"])
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


def _load_bounds(
    op: ComparisonOp, value: object, path: str, context: ConditionContext
) -> Bounds | None:
    """The range an aggregate is compared with: any numbers, `between: [low, high]`."""
    if op == "between":
        pair = value if isinstance(value, list) and len(value) == 2 else None
        numbers = [_number(item) for item in pair] if pair is not None else []
        if len(numbers) != 2 or None in numbers or numbers[0] > numbers[1]:  # type: ignore[operator]
            context.fail(
                join_path(path, op),
                f"between must be [low, high], numbers with low <= high, got {show(value)}",
            )
            return None
        return Bounds(op="between", low=numbers[0], high=numbers[1])
    number = _number(value)
    if number is None:
        context.fail(join_path(path, op), f"{op} must be a number, got {show(value)}")
        return None
    low = None if op == "at_most" else number
    high = None if op == "at_least" else number
    return Bounds(op=op, low=low, high=high)


def _number(value: object) -> float | None:
    """A finite int or float that is not a bool."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def load_count(raw: object, path: str, context: ConditionContext) -> Count | None:
    """`count:`; absent means at least 1."""
    if raw is None:
        return Count.at_least(1)
    if not isinstance(raw, dict) or not raw:
        context.fail(path, f"must be a mapping such as {{at_least: 3}}, got {kind_of(raw)}")
        return None
    keys = [str(key) for key in raw]
    for key in keys:
        if key not in COUNT_KEYS:
            context.fail(
                path,
                f"unknown key {key!r}{did_you_mean(key, COUNT_KEYS)}; "
                f"count is one of: {', '.join(COUNT_KEYS)}",
            )
            return None
    if len(keys) > 1:
        context.fail(path, f"count takes one of {', '.join(COUNT_KEYS)}, got {' and '.join(keys)}")
        return None
    op = keys[0]
    value = raw[op]
    if op == "between":
        bounds = _whole_pair(value)
        if bounds is None:
            context.fail(
                path,
                "between must be [low, high], whole numbers with 0 <= low <= high, "
                f"got {show(value)}",
            )
            return None
        return Count.between(*bounds)
    n = _whole(value)
    if n is None or n < 0:
        context.fail(path, f"{op} must be a whole number >= 0, got {show(value)}")
        return None
    return {"at_least": Count.at_least, "at_most": Count.at_most, "exactly": Count.exactly}[op](n)


def load_window(raw: object, path: str, context: ConditionContext) -> Window | None:
    """`within:`; absent (or empty) means all time."""
    if raw is None or raw == {}:
        return Window()
    if not isinstance(raw, dict):
        context.fail(path, f"must be a mapping such as {{last_days: 30}}, got {kind_of(raw)}")
        return None
    keys = [str(key) for key in raw]
    for key in keys:
        if key not in WINDOW_KEYS:
            context.fail(
                path,
                f"unknown key {key!r}{did_you_mean(key, WINDOW_KEYS)}; "
                "within takes last_days, or from and to",
            )
            return None
    if "last_days" in raw:
        if "from" in raw or "to" in raw:
            context.fail(path, "use either last_days or from/to, not both")
            return None
        days = _whole(raw["last_days"])
        if days is None or days < 1:
            context.fail(
                path, f"last_days must be a whole number >= 1, got {show(raw['last_days'])}"
            )
            return None
        return Window(last_days=days)
    if "from" not in raw or "to" not in raw:
        missing = "to" if "from" in raw else "from"
        context.fail(path, f"a date range needs both from and to; {missing} is missing")
        return None
    dates = []
    for key in ("from", "to"):
        try:
            dates.append(to_date(raw[key]))
        except ValueError as error:
            context.fail(path, f"{key} {error}")
    if len(dates) != 2:
        return None
    start, end = dates
    if start > end:
        context.fail(path, f"from {start.isoformat()} is after to {end.isoformat()}")
        return None
    return Window(start=start, end=end)


def _whole(value: object) -> int | None:
    """An int that is not a bool (YAML `true` is not a count)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _whole_pair(value: object) -> tuple[int, int] | None:
    if not isinstance(value, list) or len(value) != 2:
        return None
    low, high = (_whole(item) for item in value)
    if low is None or high is None or not 0 <= low <= high:
        return None
    return low, high
