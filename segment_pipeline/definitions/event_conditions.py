"""The event-based condition leaves (SPEC 4.1 and the second edition): `event:` with its
count and window, aggregates over a property, first and last events, sequences,
restarts and regular activity; and what every reader of events asks of a leaf (its event
filters, the window its changes can come from)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator
from sqlglot import exp

from segment_pipeline.definitions.condition_parts import (
    ComparisonOp,
    Count,
    Frozen,
    Predicate,
    Window,
)


class EventCondition(Frozen):
    """`event:` how many of the entity's events of a name, matching `where`, in `within`.

    Which events: one name (`event`), any of several (`names`, from `event: [a, b]`) or the
    names matching a SQL LIKE pattern (`like`, from `event: {like: 'feature_%'}`); exactly
    one of them is given.
    """

    event: str = ""
    names: tuple[str, ...] = ()
    like: str | None = None
    where: Predicate | None = None
    within: Window = Field(default_factory=Window)
    count: Count = Field(default_factory=lambda: Count.at_least(1))

    @model_validator(mode="after")
    def _one_selector(self) -> Self:
        given = [bool(self.event), bool(self.names), self.like is not None]
        if sum(given) != 1:
            raise ValueError("give one event name, a list of names or a like pattern")
        if self.like is not None and not self.like:
            raise ValueError("a like pattern cannot be empty")
        return self

    @property
    def selector(self) -> str:
        """Which events, as a key no event name can spell: the name itself for one name
        (what hashes the event pass's columns), else a list or a pattern behind control
        characters."""
        if self.names:
            return "\x1fany\x1f" + "\x1f".join(self.names)
        if self.like is not None:
            return f"\x1flike\x1f{self.like}"
        return self.event

    def same_events(
        self, where: Predicate | None = None, within: Window | None = None
    ) -> EventCondition:
        """The same selector with another `where`, over `within` (absent: all time), at
        least one."""
        return EventCondition(
            event=self.event,
            names=self.names,
            like=self.like,
            where=where,
            within=within or Window(),
        )


class Bounds(Frozen):
    """The range an aggregate of event properties must fall in, both ends included.

    Unlike a `Count`, the ends are numbers of any sign and `at_most` has no lower end.
    A missing aggregate (the average of no values) is in no range.
    """

    op: ComparisonOp
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.low is not None and self.high is not None and self.high < self.low:
            raise ValueError(f"the range {self.low}..{self.high} is empty")
        if self.low is None and self.high is None:
            raise ValueError("a range needs at least one end")
        return self

    def holds(self, value: float | None) -> bool:
        """Whether an aggregate's value is in the range."""
        if value is None:
            return False
        return (self.low is None or self.low <= value) and (self.high is None or value <= self.high)

    def describe(self) -> str:
        """`at least 100`, `at most 2.5`, `exactly 3`, `between 10 and 20`."""
        low, high = (_number(end) for end in (self.low, self.high))
        if self.op == "at_least":
            return f"at least {low}"
        if self.op == "at_most":
            return f"at most {high}"
        if self.op == "exactly":
            return f"exactly {low}"
        return f"between {low} and {high}"


def _number(value: float | None) -> str:
    """A bound as written: `100`, not `100.0`."""
    if value is not None and value == int(value):
        return str(int(value))
    return str(value)


#: The aggregate functions over an event property, by YAML key.
AggregateFunction = Literal["sum", "avg", "min", "max", "count_distinct"]


class Aggregate(Frozen):
    """`aggregate:` sum, avg, min, max or count of distinct values of an event property
    over the entity's matching events in a window, compared with a range.

    Values that are missing or fail to read as a number (for count_distinct: missing) are
    ignored. The sum and the distinct count of no values are 0; the avg, min and max of no
    values are missing, so no range holds.
    """

    function: AggregateFunction
    key: str = Field(min_length=1)
    events: EventCondition
    value: Bounds

    @property
    def empty_value(self) -> float | None:
        """The aggregate over no values."""
        return 0.0 if self.function in ("sum", "count_distinct") else None


class FirstEvent(Frozen):
    """`first_event:` the entity's first event of a name (matching `where`, ever) happened
    inside the window: "new this week". All time: it has ever happened."""

    events: EventCondition


class LastEvent(Frozen):
    """`last_event:` the entity's latest event of a name (matching `where`) satisfies
    `matches` ("the last plan viewed was 'pro'"; several events at the latest instant:
    any of them) and is more than `older_than_days` days before the instant ("stopped
    doing X"). Without an event of the name it does not hold."""

    events: EventCondition
    matches: Predicate | None = None
    older_than_days: int | None = Field(default=None, ge=1)

    @property
    def matching(self) -> EventCondition:
        """The filter of the events that are of the name, match `where` and `matches`."""
        assert self.matches is not None
        if self.events.where is None:
            return self.events.same_events(self.matches)
        both = exp.and_(self.events.where.expression.copy(), self.matches.expression.copy())
        source = f"({self.events.where.source}) AND ({self.matches.source})"
        return self.events.same_events(Predicate(source=source, expression=both))


class Restarted(Frozen):
    """`restarted:` a restart of the entity's events of a name (matching `where`) lies
    inside `within` (absent: ever): an event at least `gap_days` days after the entity's
    previous one (at a strictly earlier instant), so "came back after two weeks away".
    The entity's very first event is no restart: it never stopped."""

    events: EventCondition
    gap_days: int = Field(ge=1)


class Regularly(Frozen):
    """`regularly:` the entity's events of a name (matching `where`) fall in at least
    `at_least` of the last `periods` periods of `period_days` days before the instant.

    The periods slide with the instant and split the window `last_days: periods *
    period_days` with its edge convention (SPEC 5): period 0 is `[t - P, t]` (the window
    `last_days: P`), period i >= 1 is `[t - (i + 1) * P, t - i * P)`: an event exactly on
    a boundary is in the newer period, as an event exactly N days old is inside `last_days:
    N`, and one exactly `periods * period_days` days old still counts.
    """

    events: EventCondition
    period_days: int = Field(ge=1)
    periods: int = Field(ge=1)
    at_least: int = Field(ge=1)

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if self.at_least > self.periods:
            raise ValueError(f"at_least {self.at_least} is more than periods {self.periods}")
        return self

    @property
    def recent(self) -> EventCondition:
        """The filter of the events it reads: those of the last `periods * period_days`
        days."""
        return self.events.same_events(
            self.events.where, Window(last_days=self.periods * self.period_days)
        )


class EventSequence(Frozen):
    """`sequence:` the entity did the steps' events in order: an event of each step (its
    name, matching its `where`), each strictly later than the previous one and at most
    `within_days` days after it, all of them inside `within` at the instant. It holds from
    the last step's event until the first step's event leaves the window (all time: from
    then on). Two or three steps."""

    steps: tuple[EventCondition, ...] = Field(min_length=2, max_length=3)
    within_days: int = Field(ge=1)
    within: Window = Field(default_factory=Window)

    @property
    def filters(self) -> tuple[EventCondition, ...]:
        """Each step's events (its name and `where`) in the sequence's window."""
        return tuple(step.model_copy(update={"within": self.within}) for step in self.steps)


EventLeaf = (
    EventCondition | Aggregate | FirstEvent | LastEvent | EventSequence | Restarted | Regularly
)


def ever(events: EventCondition) -> EventCondition:
    """The same name and `where` over all time: first and last events and restarts look
    at all of it (the previous event of a restart can be older than any window)."""
    return events.same_events(events.where)


def change_window(leaf: EventLeaf) -> Window:
    """The window whose edges are a leaf's change points besides its events: an event
    leaving a `last_days` window, a first event leaving one, the latest event becoming
    older than `older_than_days`, a sequence's first event leaving its window, a restart
    leaving one, an event leaving the last period (the other period edges of a `regularly`
    leaf are `compile.periods`' business)."""
    if isinstance(leaf, EventCondition | EventSequence):
        return leaf.within
    if isinstance(leaf, Aggregate | FirstEvent | Restarted):
        return leaf.events.within
    if isinstance(leaf, Regularly):
        return leaf.recent.within
    return Window(last_days=leaf.older_than_days)
