"""What the condition loaders share: the context a definition file is read in (its errors
name the file and the path), and the values inside conditions: predicates, counts,
windows, bounds and whole numbers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from segment_pipeline.definitions.condition_parts import ComparisonOp, Count, Predicate, Window
from segment_pipeline.definitions.event_conditions import Bounds
from segment_pipeline.definitions.predicates import PredicateScope, parse_predicate
from segment_pipeline.definitions.sources import EntityType
from segment_pipeline.definitions.yaml_files import (
    did_you_mean,
    join_path,
    kind_of,
    show,
    to_date,
)
from segment_pipeline.errors import DefinitionError, PredicateError

COUNT_KEYS = ("at_least", "at_most", "exactly", "between")


WINDOW_KEYS = ("last_days", "from", "to")


#: What a kind's mapping needs when it only reads events: the events' name.
NEEDS_EVENT = {"event": "the name of the events it reads"}


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


def load_predicate(
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


def mapping_of(
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


def positive_whole(value: object, path: str, context: ConditionContext) -> int | None:
    """A whole number >= 1, or None (recorded)."""
    number = whole(value)
    if number is None or number < 1:
        context.fail(path, f"must be a whole number >= 1, got {show(value)}")
        return None
    return number


def whole(value: object) -> int | None:
    """An int that is not a bool (YAML `true` is not a count)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _whole_pair(value: object) -> tuple[int, int] | None:
    if not isinstance(value, list) or len(value) != 2:
        return None
    low, high = (whole(item) for item in value)
    if low is None or high is None or not 0 <= low <= high:
        return None
    return low, high


def _number(value: object) -> float | None:
    """A finite int or float that is not a bool."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def load_bounds(
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
    n = whole(value)
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
        days = whole(raw["last_days"])
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
