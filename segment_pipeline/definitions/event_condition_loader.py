"""Loading the event-based condition kinds: `event:` itself, aggregates, first and last
events, sequences, restarts and regular activity, with their event selectors."""

from __future__ import annotations

from typing import TypedDict, TypeGuard

from segment_pipeline.definitions.condition_parts import ComparisonOp
from segment_pipeline.definitions.condition_values import (
    COUNT_KEYS,
    NEEDS_EVENT,
    ConditionContext,
    load_bounds,
    load_count,
    load_predicate,
    load_window,
    mapping_of,
    positive_whole,
    whole,
)
from segment_pipeline.definitions.conditions import Condition
from segment_pipeline.definitions.event_conditions import (
    Aggregate,
    AggregateFunction,
    EventCondition,
    EventSequence,
    FirstEvent,
    LastEvent,
    Regularly,
    Restarted,
)
from segment_pipeline.definitions.yaml_files import (
    did_you_mean,
    join_path,
    kind_of,
    show,
)

EVENT_KEYS = ("where", "within", "count")


AGGREGATE_FUNCTIONS = ("sum", "avg", "min", "max", "count_distinct")


AGGREGATE_KEYS = (*AGGREGATE_FUNCTIONS, "event", "where", "within", *COUNT_KEYS)


FIRST_EVENT_KEYS = ("event", "where", "within")


LAST_EVENT_KEYS = ("event", "where", "matches", "older_than_days")


SEQUENCE_KEYS = ("steps", "within_days", "within")


STEP_KEYS = ("event", "where")


#: How many steps a sequence takes.
SEQUENCE_STEPS = (2, 3)


RESTARTED_KEYS = ("event", "where", "gap_days", "within")


REGULARLY_KEYS = ("event", "where", "period_days", "periods", "at_least")


def load_event(
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
        where = load_predicate(raw["where"], join_path(beside, "where"), context.events, context)
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


def load_aggregate(raw: object, path: str, context: ConditionContext) -> Condition | None:
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
    events = load_event(raw, join_path(path, "event"), context)
    bounds = load_bounds(comparisons[0], raw[comparisons[0]], path, context)
    if not ok or not isinstance(events, EventCondition) or bounds is None:
        return None
    return Aggregate(function=function, key=key, events=events, value=bounds)


def load_first_event(raw: object, path: str, context: ConditionContext) -> Condition | None:
    """`first_event: {event: signed_up, within: {last_days: 7}}`."""
    found = mapping_of(
        raw, path, FIRST_EVENT_KEYS, "{event: signed_up, within: {last_days: 7}}", context
    )
    events = None if found is None else load_event(found, join_path(path, "event"), context)
    return None if not isinstance(events, EventCondition) else FirstEvent(events=events)


def load_last_event(raw: object, path: str, context: ConditionContext) -> Condition | None:
    """`last_event: {event: app_opened, matches: "...", older_than_days: 30}`."""
    found = mapping_of(
        raw, path, LAST_EVENT_KEYS, "{event: app_opened, older_than_days: 30}", context
    )
    if found is None:
        return None
    events = load_event(found, join_path(path, "event"), context)
    matches = None
    ok = isinstance(events, EventCondition)
    if found.get("matches") is not None:
        here = join_path(path, "matches")
        matches = load_predicate(found["matches"], here, context.events, context)
        ok = ok and matches is not None
    days = found.get("older_than_days")
    if days is not None and (whole(days) is None or days < 1):  # type: ignore[operator]
        context.fail(
            join_path(path, "older_than_days"), f"must be a whole number >= 1, got {show(days)}"
        )
        ok = False
    if not ok or not isinstance(events, EventCondition):
        return None
    return LastEvent(events=events, matches=matches, older_than_days=days)  # type: ignore[arg-type]


def load_sequence(raw: object, path: str, context: ConditionContext) -> Condition | None:
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
    found = mapping_of(raw, path, SEQUENCE_KEYS, example, context, required)
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
    days = whole(found["within_days"])
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
    found = mapping_of(raw, path, STEP_KEYS, example, context)
    step = None if found is None else load_event(found, join_path(path, "event"), context)
    return step if isinstance(step, EventCondition) else None


def load_restarted(raw: object, path: str, context: ConditionContext) -> Condition | None:
    """`restarted: {event: app_opened, gap_days: 14, within: {last_days: 7}}`."""
    example = "{event: app_opened, gap_days: 14, within: {last_days: 7}}"
    required = {
        **NEEDS_EVENT,
        "gap_days": "how many days without the event make the next one a restart, "
        "a whole number >= 1",
    }
    found = mapping_of(raw, path, RESTARTED_KEYS, example, context, required)
    if found is None:
        return None
    events = load_event(found, join_path(path, "event"), context, options=path)
    gap = positive_whole(found["gap_days"], join_path(path, "gap_days"), context)
    if not isinstance(events, EventCondition) or gap is None:
        return None
    return Restarted(events=events, gap_days=gap)


def load_regularly(raw: object, path: str, context: ConditionContext) -> Condition | None:
    """`regularly: {event: app_opened, period_days: 7, periods: 4, at_least: 3}`."""
    example = "{event: app_opened, period_days: 7, periods: 4, at_least: 3}"
    required = {
        **NEEDS_EVENT,
        "period_days": "how many days one period lasts, a whole number >= 1",
        "periods": "how many of the latest periods are looked at, a whole number >= 1",
        "at_least": "in how many of them the event must be, a whole number >= 1",
    }
    found = mapping_of(raw, path, REGULARLY_KEYS, example, context, required)
    if found is None:
        return None
    events = load_event(found, join_path(path, "event"), context, options=path)
    period_days, periods, at_least = (
        positive_whole(found[key], join_path(path, key), context)
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
