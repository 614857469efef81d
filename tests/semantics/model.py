"""A brute-force model of SPEC 5 (time semantics), sharing no code with the pipeline.

Deliberately literal and slow: plain Python over small lists of dataclasses. Membership
`m(e, t)` is evaluated straight from the definitions of SPEC 5 at any instant `t`; the join
time is found by evaluating `m` at every instant where anything can change (a "candidate")
and just after it, and walking back from `as_of(D)`.

Why that is exhaustive: between two consecutive candidates nothing the conditions read can
change. Versions switch at their `updated_at` (right-continuous), an event starts to count
at its `occurred_at` (right-continuous) and a `last_days: N` window lets it go just after
`occurred_at + N days` (left-continuous). So `m` is constant on every open interval between
candidates and may take another value on the candidates themselves. Data times are whole
seconds, so `c + 1 microsecond` stands for the whole open interval after `c`.

Model values (SPEC 4.4) are one more step function: the score a partition P computed, from
the data P sees, holds from `as_of(P)` to the `as_of` of the next computed partition, and is
NULL before the first; each `as_of(P)` is a candidate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

MICROSECOND = timedelta(microseconds=1)

#: SQL three-valued logic: None is NULL / unknown.
Truth = bool | None


def as_of(snapshot_date: date) -> datetime:
    """The instant a snapshot for `snapshot_date` is taken: the next day at midnight."""
    return datetime.combine(snapshot_date + timedelta(days=1), time())


def midnight(day: date) -> datetime:
    """00:00 of a day."""
    return datetime.combine(day, time())


def _short(instant: datetime) -> str:
    return instant.strftime("%m-%dT%H:%M:%S")


# --------------------------------------------------------------------------------------
# Data: CRM versions and events, as they sit in the landing files.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One CRM change record (company or contact), landed on `landed_on`.

    Rows of one landing day keep their relative order in the file (the order of the
    tuple they sit in). `spelling` only tells the file writer how to spell the timestamp.
    """

    key: str
    updated_at: datetime
    landed_on: date
    is_deleted: bool = False
    attributes: Mapping[str, object] = field(default_factory=dict)
    spelling: str = "Z"

    def __repr__(self) -> str:
        deleted = " DELETED" if self.is_deleted else ""
        spelled = "" if self.spelling == "Z" else f" spelled {self.spelling!r}"
        return (
            f"V({self.key} @{_short(self.updated_at)} landed {self.landed_on:%m-%d}"
            f"{deleted} {dict(self.attributes)}{spelled})"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Hypothesis prints falsifying examples with this: one compact line per row."""
        printer.text(repr(self))


@dataclass(frozen=True)
class Event:
    """One landed copy of an event. `company_id` None means empty (absent, "" or null)."""

    event_id: str
    contact_id: str
    event_name: str
    occurred_at: datetime
    landed_on: date
    company_id: str | None = None
    properties: Mapping[str, object] = field(default_factory=dict)
    spelling: str = "Z"
    empty_company: str = ""

    def __repr__(self) -> str:
        company = self.company_id if self.company_id is not None else f"<{self.empty_company!r}>"
        spelled = "" if self.spelling == "Z" else f" spelled {self.spelling!r}"
        return (
            f"E({self.event_id} {self.event_name} by {self.contact_id} co={company} "
            f"@{_short(self.occurred_at)} landed {self.landed_on:%m-%d} "
            f"{dict(self.properties)}{spelled})"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Hypothesis prints falsifying examples with this: one compact line per row."""
        printer.text(repr(self))


@dataclass(frozen=True)
class History:
    """Everything that lands, in file order within each landing day."""

    companies: tuple[Version, ...] = ()
    contacts: tuple[Version, ...] = ()
    events: tuple[Event, ...] = ()

    def versions(self, entity: str) -> tuple[Version, ...]:
        return self.companies if entity == "company" else self.contacts


# --------------------------------------------------------------------------------------
# Predicates: a tiny SQL subset, rendered as SQL text and evaluated with NULL semantics.
# --------------------------------------------------------------------------------------

_COMPARE: dict[str, Callable[[object, object], bool]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    ">": lambda a, b: a > b,  # type: ignore[operator]
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
}


def _sql_literal(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)


def _read(row: Mapping[str, object], column: str) -> object:
    """A column's value; `properties.<key>` is the JSON value as text (None when absent),
    `properties.<key>.<key>` the value nested in an object (None when it is not one)."""
    if column.startswith("properties."):
        value: object = row.get("properties")
        for key in column.removeprefix("properties.").split("."):
            value = value.get(key) if isinstance(value, Mapping) else None
        if value is None:
            return None
        assert not isinstance(value, Mapping)
        assert not isinstance(value, bool)
        return str(value)
    return row.get(column)


def _typed(value: object, literal: object) -> object:
    """Text compared with a numeric literal is compared as a number (SPEC 4.1); text that
    does not read as one is None, unknown, like a missing value."""
    if isinstance(literal, int) and isinstance(value, str):
        return _as_number(value)
    return value


@dataclass(frozen=True)
class Compare:
    column: str
    op: str
    literal: int | str

    def sql(self) -> str:
        return f"{self.column} {self.op} {_sql_literal(self.literal)}"

    def evaluate(self, row: Mapping[str, object]) -> Truth:
        value = _typed(_read(row, self.column), self.literal)
        if value is None:
            return None
        return _COMPARE[self.op](value, self.literal)


@dataclass(frozen=True)
class In:
    column: str
    values: tuple[int | str, ...]

    def sql(self) -> str:
        return f"{self.column} IN ({', '.join(_sql_literal(v) for v in self.values)})"

    def evaluate(self, row: Mapping[str, object]) -> Truth:
        value = _read(row, self.column)
        typed = [_typed(value, v) for v in self.values]
        if value is None or None in typed:
            return None
        return any(t == v for t, v in zip(typed, self.values, strict=True))


@dataclass(frozen=True)
class Between:
    column: str
    low: int
    high: int

    def sql(self) -> str:
        return f"{self.column} BETWEEN {self.low} AND {self.high}"

    def evaluate(self, row: Mapping[str, object]) -> Truth:
        number = _typed(_read(row, self.column), self.low)
        if number is None:
            return None
        return self.low <= number <= self.high  # type: ignore[operator]


@dataclass(frozen=True)
class IsNull:
    column: str
    negated: bool = False

    def sql(self) -> str:
        return f"{self.column} IS {'NOT ' if self.negated else ''}NULL"

    def evaluate(self, row: Mapping[str, object]) -> Truth:
        return (_read(row, self.column) is None) != self.negated


@dataclass(frozen=True)
class ListContains:
    """`list_contains(column, 'x')`, or with several values `list_has_any(column, [...])`:
    whether a list attribute holds the text (any of the texts). A NULL list is unknown
    (NULL), as any other missing attribute; an empty list holds nothing."""

    column: str
    values: tuple[str, ...]

    def sql(self) -> str:
        if len(self.values) == 1:
            return f"list_contains({self.column}, {_sql_literal(self.values[0])})"
        listed = ", ".join(_sql_literal(value) for value in self.values)
        return f"list_has_any({self.column}, [{listed}])"

    def evaluate(self, row: Mapping[str, object]) -> Truth:
        held = _read(row, self.column)
        if held is None:
            return None
        assert isinstance(held, tuple)
        return any(value in held for value in self.values)


@dataclass(frozen=True)
class And:
    left: Predicate
    right: Predicate

    def sql(self) -> str:
        return f"({self.left.sql()}) AND ({self.right.sql()})"

    def evaluate(self, row: Mapping[str, object]) -> Truth:
        values = (self.left.evaluate(row), self.right.evaluate(row))
        if False in values:
            return False
        return None if None in values else True


@dataclass(frozen=True)
class Or:
    left: Predicate
    right: Predicate

    def sql(self) -> str:
        return f"({self.left.sql()}) OR ({self.right.sql()})"

    def evaluate(self, row: Mapping[str, object]) -> Truth:
        values = (self.left.evaluate(row), self.right.evaluate(row))
        if True in values:
            return True
        return None if None in values else False


@dataclass(frozen=True)
class NotP:
    operand: Predicate

    def sql(self) -> str:
        return f"NOT ({self.operand.sql()})"

    def evaluate(self, row: Mapping[str, object]) -> Truth:
        value = self.operand.evaluate(row)
        return None if value is None else not value


Predicate = Compare | In | Between | IsNull | ListContains | And | Or | NotP


# --------------------------------------------------------------------------------------
# Segment definitions (SPEC 4.1), as plain data.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LastDays:
    days: int


@dataclass(frozen=True)
class DateWindow:
    start: date
    end: date


@dataclass(frozen=True)
class Count:
    op: str  # at_least | at_most | exactly | between
    low: int
    high: int | None = None  # only for between

    def accepts(self, count: int) -> bool:
        if self.op == "at_least":
            return count >= self.low
        if self.op == "at_most":
            return count <= self.low
        if self.op == "exactly":
            return count == self.low
        assert self.op == "between" and self.high is not None
        return self.low <= count <= self.high


@dataclass(frozen=True)
class All:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    condition: Condition


@dataclass(frozen=True)
class Attribute:
    predicate: Predicate


@dataclass(frozen=True)
class CompanyAttribute:
    predicate: Predicate


@dataclass(frozen=True)
class Like:
    """A SQL LIKE pattern over event names: `%` any text, `_` one character."""

    pattern: str

    def matches(self, name: str) -> bool:
        """Walk the pattern and the name together (no regular expressions)."""

        def match(p: int, n: int) -> bool:
            if p == len(self.pattern):
                return n == len(name)
            if self.pattern[p] == "%":
                return any(match(p + 1, k) for k in range(n, len(name) + 1))
            if n < len(name) and self.pattern[p] in ("_", name[n]):
                return match(p + 1, n + 1)
            return False

        return match(0, 0)


#: Which events a condition reads: one name, any of several, or a LIKE pattern.
Names = str | tuple[str, ...] | Like


def names_match(names: Names, name: str) -> bool:
    if isinstance(names, Like):
        return names.matches(name)
    if isinstance(names, tuple):
        return name in names
    return name == names


@dataclass(frozen=True)
class EventCondition:
    name: Names
    where: Predicate | None = None
    within: LastDays | DateWindow | None = None
    count: Count = Count("at_least", 1)


@dataclass(frozen=True)
class Range:
    """An aggregate's range: None leaves an end open."""

    low: float | None = None
    high: float | None = None

    def accepts(self, value: float | None) -> bool:
        if value is None:
            return False
        return (self.low is None or self.low <= value) and (self.high is None or value <= self.high)


@dataclass(frozen=True)
class Aggregate:
    """sum | avg | min | max | count_distinct of `properties.<key>` over matching events."""

    function: str
    key: str
    events: EventCondition
    range: Range


@dataclass(frozen=True)
class FirstEvent:
    """The first event of the name matching `where` (of all time) is inside `within`."""

    events: EventCondition


@dataclass(frozen=True)
class LastEvent:
    """The latest event of the name matching `where` satisfies `matches` (any of those at
    the latest instant) and is more than `older_than_days` days before the instant."""

    events: EventCondition
    matches: Predicate | None = None
    older_than_days: int | None = None


@dataclass(frozen=True)
class EventSequence:
    """An event of each step (its name matching its `where`), each strictly later than the
    previous one and at most `within_days` days after it, all inside `within` at the
    instant."""

    steps: tuple[EventCondition, ...]
    within_days: int
    within: LastDays | DateWindow | None = None


@dataclass(frozen=True)
class Restarted:
    """Some event of the name matching `where` came at least `gap_days` days after the
    previous one (at a strictly earlier instant) and lies inside `within`; the first one
    is no restart."""

    events: EventCondition
    gap_days: int

    def holds(self, times: list[datetime], t: datetime) -> bool:
        """From the instants of the matching events up to t."""
        instants = sorted(set(times))
        return any(
            later - earlier >= timedelta(days=self.gap_days)
            and in_window(self.events.within, later, t)
            for earlier, later in pairwise(instants)
        )


@dataclass(frozen=True)
class Regularly:
    """The events of the name matching `where` fall in at least `at_least` of the last
    `periods` periods of `period_days` days before the instant: period 0 is [t - P, t],
    period i >= 1 is [t - (i + 1) P, t - i P) (an event on a boundary is in the older one)."""

    events: EventCondition
    period_days: int
    periods: int
    at_least: int

    def periods_with_events(self, times: list[datetime], t: datetime) -> int:
        """From the instants of the matching events up to t."""
        length = timedelta(days=self.period_days)

        def holds(i: int, e: datetime) -> bool:
            if i == 0:
                return t - length <= e <= t
            return t - (i + 1) * length <= e < t - i * length

        return sum(1 for i in range(self.periods) if any(holds(i, e) for e in times))


@dataclass(frozen=True)
class AttributeAge:
    """A timestamp attribute at least / at most N days before the instant (and not after
    it, when at most is given)."""

    column: str
    at_least_days: int | None = None
    at_most_days: int | None = None

    def holds(self, value: object, t: datetime) -> bool:
        if not isinstance(value, datetime):
            return False
        age = t - value
        if self.at_least_days is not None and age < timedelta(days=self.at_least_days):
            return False
        if self.at_most_days is not None:
            return timedelta(0) <= age <= timedelta(days=self.at_most_days)
        return True

    def edges(self, value: datetime) -> list[datetime]:
        found = [value + timedelta(days=self.at_least_days or 0)]
        if self.at_most_days is not None:
            found += [value, value + timedelta(days=self.at_most_days)]
        return found


@dataclass(frozen=True)
class Split:
    """The key's bucket: the first 8 hex digits of md5("<salt>:<key>") modulo 100, is
    below `percent`."""

    salt: str
    percent: int

    def holds(self, key: str) -> bool:
        digest = hashlib.md5(f"{self.salt}:{key}".encode()).hexdigest()
        return int(digest[:8], 16) % 100 < self.percent


@dataclass(frozen=True)
class InSegment:
    segment: str


Condition = (
    All
    | AnyOf
    | Not
    | Attribute
    | CompanyAttribute
    | EventCondition
    | Aggregate
    | FirstEvent
    | LastEvent
    | EventSequence
    | Restarted
    | Regularly
    | AttributeAge
    | Split
    | InSegment
)


def event_windows(condition: Condition) -> list[LastDays | DateWindow | None]:
    """The windows of the events a leaf reads (nothing for leaves that read no events)."""
    if isinstance(condition, EventCondition):
        return [condition.within]
    if isinstance(condition, Aggregate | FirstEvent | Restarted):
        return [condition.events.within]
    if isinstance(condition, Regularly):
        # Events enter a period, move to the next and leave the last at e + j periods.
        days = condition.period_days
        return [LastDays(j * days) for j in range(1, condition.periods + 1)]
    if isinstance(condition, EventSequence):
        return [condition.within]
    if isinstance(condition, LastEvent) and condition.older_than_days is not None:
        return [LastDays(condition.older_than_days)]
    return []


def in_window(window: LastDays | DateWindow | None, instant: datetime, t: datetime) -> bool:
    """Whether an event at `instant` (not after t) is inside the window at t."""
    if isinstance(window, LastDays):
        return instant >= t - timedelta(days=window.days)
    if isinstance(window, DateWindow):
        return midnight(window.start) <= instant < midnight(window.end + timedelta(days=1))
    return True


def _as_number(text: str) -> float | None:
    """What a cast to DOUBLE makes of a property's text: None when it is not a number."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def aggregate(function: str, texts: list[str]) -> float | None:
    """The aggregate of the events' property texts; values that fail to cast are ignored."""
    if function == "count_distinct":
        return float(len(set(texts)))
    numbers = [n for n in map(_as_number, texts) if n is not None]
    if function == "sum":
        return float(sum(numbers))
    if not numbers:
        return None
    if function == "avg":
        return sum(numbers) / len(numbers)
    return float(min(numbers) if function == "min" else max(numbers))


@dataclass(frozen=True)
class Segment:
    name: str
    entity: str  # company | contact
    condition: Condition


def walk(condition: Condition) -> list[Condition]:
    """The condition and all its descendants."""
    found: list[Condition] = [condition]
    if isinstance(condition, All | AnyOf):
        for child in condition.conditions:
            found.extend(walk(child))
    elif isinstance(condition, Not):
        found.extend(walk(condition.condition))
    return found


# --------------------------------------------------------------------------------------
# The one SQL model: a company score, written in SQL for the pipeline and in Python here.
# --------------------------------------------------------------------------------------

SCORE_MODEL = "activity"
#: How predicates name the model's column.
SCORE = f"{SCORE_MODEL}.score"
SCORE_SQL = """-- entity: company, key: company_id
select c.company_id, coalesce(c.employee_count, 0) + count(e.event_id) as score
from companies as c
left join events as e on e.company_id = c.company_id
group by c.company_id, c.employee_count
"""


def uses_score(condition: Condition) -> bool:
    """Whether a condition tree reads the model's score."""
    return any(
        isinstance(node, Attribute | CompanyAttribute) and SCORE in node.predicate.sql()
        for node in walk(condition)
    )


# --------------------------------------------------------------------------------------
# The model.
# --------------------------------------------------------------------------------------

#: One member of one snapshot: (segment, entity_type, entity_id, joined_at).
MemberRow = tuple[str, str, str, datetime]


class SnapshotModel:
    """Membership and join times for one snapshot date, from the data visible to it."""

    def __init__(
        self,
        history: History,
        segments: tuple[Segment, ...],
        snapshot: date,
        partitions: tuple[date, ...] = (),
    ) -> None:
        """`partitions`: the days the score model has been computed for (those up to
        `snapshot` count)."""
        self.history = history
        self.snapshot = snapshot
        self.partitions = sorted(day for day in set(partitions) if day <= snapshot)
        self._scores: dict[date, dict[str, int]] = {}
        self.as_of = as_of(snapshot)
        self.segments = {segment.name: segment for segment in segments}
        # Visible versions per entity type and key, each with its tie-break order.
        self.versions: dict[str, dict[str, list[tuple[tuple[object, ...], Version]]]] = {}
        for entity in ("company", "contact"):
            by_key: dict[str, list[tuple[tuple[object, ...], Version]]] = {}
            for position, version in enumerate(history.versions(entity)):
                if version.landed_on <= snapshot and version.updated_at < self.as_of:
                    order = (version.updated_at, version.landed_on, position)
                    by_key.setdefault(version.key, []).append((order, version))
            self.versions[entity] = by_key
        # Events: the first landed copy of each event_id among those landed so far.
        first_copies: dict[str, tuple[tuple[date, int], Event]] = {}
        for position, event in enumerate(history.events):
            if event.landed_on > snapshot:
                continue
            order = (event.landed_on, position)
            if event.event_id not in first_copies or order < first_copies[event.event_id][0]:
                first_copies[event.event_id] = (order, event)
        self.events = [
            event for _, event in first_copies.values() if event.occurred_at < self.as_of
        ]
        self.event_company = {
            event.event_id: self._attributed_company(event) for event in self.events
        }
        self._memo: dict[tuple[str, str, datetime], bool] = {}

    # -- records -----------------------------------------------------------------------

    def version_at(self, entity: str, key: str, t: datetime) -> Version | None:
        """The latest visible version with updated_at <= t (ties: later landing, later row)."""
        eligible = [item for item in self.versions[entity].get(key, []) if item[1].updated_at <= t]
        return max(eligible, key=lambda item: item[0])[1] if eligible else None

    def attributes_at(self, entity: str, key: str, t: datetime) -> Mapping[str, object] | None:
        """The attributes at t, or None when the record does not exist at t."""
        version = self.version_at(entity, key, t)
        if version is None or version.is_deleted:
            return None
        return version.attributes

    def scores(self, partition: date) -> dict[str, int]:
        """The score model's rows for a partition, from the data that partition sees: each
        company existing at its as_of, its employee_count (0 if missing) plus the number of
        events attributed to it."""
        if partition not in self._scores:
            view = (
                self if partition == self.snapshot else SnapshotModel(self.history, (), partition)
            )
            scores: dict[str, int] = {}
            for key in view.versions["company"]:
                attributes = view.attributes_at("company", key, view.as_of)
                if attributes is None:
                    continue
                events = sum(1 for e in view.events if view.event_company[e.event_id] == key)
                employees = attributes.get("employee_count")
                scores[key] = (employees if isinstance(employees, int) else 0) + events
            self._scores[partition] = scores
        return self._scores[partition]

    def score_at(self, company_id: str, t: datetime) -> int | None:
        """The score in force at t: the latest computed partition whose as_of is not after
        t; None before the first one or when that partition has no row for the company."""
        computed = [day for day in self.partitions if as_of(day) <= t]
        return self.scores(computed[-1]).get(company_id) if computed else None

    def company_row(self, company_id: str, t: datetime) -> Mapping[str, object] | None:
        """A company's attributes at t with its model value, or None if it does not exist."""
        attributes = self.attributes_at("company", company_id, t)
        if attributes is None:
            return None
        return {**attributes, SCORE: self.score_at(company_id, t)}

    def _attributed_company(self, event: Event) -> str | None:
        if event.company_id:
            return event.company_id
        contact = self.attributes_at("contact", event.contact_id, event.occurred_at)
        if contact is None:
            return None
        company = contact.get("company_id")
        return company if isinstance(company, str) and company else None

    def company_of_contact(self, contact_id: str, t: datetime) -> str | None:
        contact = self.attributes_at("contact", contact_id, t)
        company = None if contact is None else contact.get("company_id")
        return company if isinstance(company, str) else None

    # -- conditions --------------------------------------------------------------------

    def member(self, segment_name: str, key: str, t: datetime) -> bool:
        """m(e, t): the entity exists at t and the segment's condition holds at t."""
        memo_key = (segment_name, key, t)
        if memo_key not in self._memo:
            segment = self.segments[segment_name]
            exists = self.attributes_at(segment.entity, key, t) is not None
            self._memo[memo_key] = exists and self.holds(segment.condition, segment, key, t)
        return self._memo[memo_key]

    def holds(self, condition: Condition, segment: Segment, key: str, t: datetime) -> bool:
        if isinstance(condition, All):
            return all(self.holds(c, segment, key, t) for c in condition.conditions)
        if isinstance(condition, AnyOf):
            return any(self.holds(c, segment, key, t) for c in condition.conditions)
        if isinstance(condition, Not):
            return not self.holds(condition.condition, segment, key, t)
        if isinstance(condition, Attribute):
            attributes = (
                self.company_row(key, t)
                if segment.entity == "company"
                else self.attributes_at(segment.entity, key, t)
            )
            return attributes is not None and condition.predicate.evaluate(attributes) is True
        if isinstance(condition, CompanyAttribute):
            assert segment.entity == "contact"
            company_id = self.company_of_contact(key, t)
            company = None if company_id is None else self.company_row(company_id, t)
            return company is not None and condition.predicate.evaluate(company) is True
        if isinstance(condition, EventCondition):
            return condition.count.accepts(self.event_count(condition, segment.entity, key, t))
        if isinstance(condition, Aggregate):
            matching = self.matching_events(condition.events, segment.entity, key, t)
            column = f"properties.{condition.key}"
            texts = [_read({"properties": e.properties}, column) for e in matching]
            values = [text for text in texts if isinstance(text, str)]
            return condition.range.accepts(aggregate(condition.function, values))
        if isinstance(condition, Split):
            return condition.holds(key)
        if isinstance(condition, EventSequence):
            return self.sequence_holds(condition, segment.entity, key, t)
        if isinstance(condition, AttributeAge):
            attributes = self.attributes_at(segment.entity, key, t)
            return attributes is not None and condition.holds(attributes.get(condition.column), t)
        if isinstance(condition, FirstEvent | LastEvent | Restarted | Regularly):
            ever = EventCondition(condition.events.name, condition.events.where)
            times = [e.occurred_at for e in self.matching_events(ever, segment.entity, key, t)]
            if isinstance(condition, Restarted):
                return condition.holds(times, t)
            if isinstance(condition, Regularly):
                return condition.periods_with_events(times, t) >= condition.at_least
            if not times:
                return False
            if isinstance(condition, FirstEvent):
                return in_window(condition.events.within, min(times), t)
            return self.last_holds(condition, ever, segment.entity, key, t)
        assert isinstance(condition, InSegment)
        target = self.segments[condition.segment]
        if target.entity == segment.entity:
            return self.member(target.name, key, t)
        assert segment.entity == "contact" and target.entity == "company"
        company_id = self.company_of_contact(key, t)
        return company_id is not None and self.member(target.name, company_id, t)

    def last_holds(
        self, condition: LastEvent, ever: EventCondition, entity: str, key: str, t: datetime
    ) -> bool:
        events = self.matching_events(ever, entity, key, t)
        latest = max(e.occurred_at for e in events)
        days = condition.older_than_days
        if days is not None and not latest < t - timedelta(days=days):
            return False
        if condition.matches is None:
            return True
        return any(
            condition.matches.evaluate({"event_name": e.event_name, "properties": e.properties})
            is True
            for e in events
            if e.occurred_at == latest
        )

    def sequence_holds(self, condition: EventSequence, entity: str, key: str, t: datetime) -> bool:
        """Some chain exists: enumerate every choice of one event per step, in order."""
        candidates = [
            self.matching_events(
                EventCondition(step.name, step.where, condition.within), entity, key, t
            )
            for step in condition.steps
        ]
        gap = timedelta(days=condition.within_days)

        def chain_from(step: int, previous: datetime) -> bool:
            if step == len(candidates):
                return True
            return any(
                previous < e.occurred_at <= previous + gap and chain_from(step + 1, e.occurred_at)
                for e in candidates[step]
            )

        return any(chain_from(1, e.occurred_at) for e in candidates[0])

    def event_count(self, condition: EventCondition, entity: str, key: str, t: datetime) -> int:
        return len(self.matching_events(condition, entity, key, t))

    def matching_events(
        self, condition: EventCondition, entity: str, key: str, t: datetime
    ) -> list[Event]:
        """The entity's events of the condition's name, matching `where`, in its window at t."""
        found = []
        for event in self.events:
            owner = event.contact_id if entity == "contact" else self.event_company[event.event_id]
            if (
                owner != key
                or not names_match(condition.name, event.event_name)
                or event.occurred_at > t
            ):
                continue
            if not in_window(condition.within, event.occurred_at, t):
                continue
            row = {"event_name": event.event_name, "properties": event.properties}
            if condition.where is not None and condition.where.evaluate(row) is not True:
                continue
            found.append(event)
        return found

    # -- join times --------------------------------------------------------------------

    def candidates(self) -> list[datetime]:
        """Every instant at which some membership could change, up to as_of, ascending."""
        conditions = [c for s in self.segments.values() for c in walk(s.condition)]
        windows = [w for c in conditions for w in event_windows(c)]
        found = {self.as_of, *(as_of(day) for day in self.partitions)}
        for by_key in self.versions.values():
            found.update(v.updated_at for items in by_key.values() for _, v in items)
        ages = [c for c in conditions if isinstance(c, AttributeAge)]
        for by_key in self.versions.values():
            for items in by_key.values():
                for _, version in items:
                    for age in ages:
                        value = version.attributes.get(age.column)
                        if isinstance(value, datetime):
                            found.update(age.edges(value))
        for event in self.events:
            found.add(event.occurred_at)
            found.update(
                event.occurred_at + timedelta(days=w.days)
                for w in windows
                if isinstance(w, LastDays)
            )
        for window in windows:
            if isinstance(window, DateWindow):
                found.update({midnight(window.start), midnight(window.end + timedelta(days=1))})
        return sorted(instant for instant in found if instant <= self.as_of)

    def join_time(self, segment_name: str, key: str) -> datetime | None:
        """Start of the unbroken stretch of membership ending at as_of; None if not a member."""
        candidates = self.candidates()
        if not self.member(segment_name, key, self.as_of):
            return None
        start = self.as_of
        for candidate in reversed(candidates[:-1]):
            if not self.member(segment_name, key, candidate + MICROSECOND):
                return start  # the open interval (candidate, start) is out
            if not self.member(segment_name, key, candidate):
                return candidate  # in on (candidate, as_of]: the infimum is candidate
            start = candidate
        # Before the first candidate nothing exists yet.
        assert not self.member(segment_name, key, start - MICROSECOND)
        return start

    def members(self) -> set[MemberRow]:
        rows: set[MemberRow] = set()
        for segment in self.segments.values():
            for key in self.versions[segment.entity]:
                joined_at = self.join_time(segment.name, key)
                if joined_at is not None:
                    rows.add((segment.name, segment.entity, key, joined_at))
        return rows


def model_members(
    history: History,
    segments: tuple[Segment, ...],
    snapshot: date,
    partitions: tuple[date, ...] = (),
) -> set[MemberRow]:
    """The members of every segment in the snapshot for `snapshot`, with join times, the
    score model computed for `partitions`."""
    return SnapshotModel(history, segments, snapshot, partitions).members()
