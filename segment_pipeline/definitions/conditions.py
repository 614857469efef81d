"""The condition tree of a segment (SPEC 4.1), as typed, frozen values.

Everything here is already validated: a `Predicate` holds a parsed sqlglot expression that
passed the allow-list in `predicates.py`, and a `Count` or `Window` cannot hold a nonsense
range. The evaluator and the reason texts (SPEC 8) walk this tree; nothing here knows YAML.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlglot import exp

#: The dialect predicates are written in and canonicalised with.
PREDICATE_DIALECT = "duckdb"


class _Frozen(BaseModel):
    """Immutable, exact models: a condition never changes after validation."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class Predicate(_Frozen):
    """A checked SQL boolean expression.

    Declared columns are `exp.Column`s with a bare name; an event property is
    `exp.Column(table="properties", this=<key>)`, a nested one `properties.plan.tier` the
    column (or `exp.Dot` chain) whose first part is `properties` (`predicates.property_path`);
    a model's data point is
    `exp.Column(table=<model>, this=<column>)`. Comments are never allowed, so the
    expression is all there is. `canonical` is filled in from the expression when not
    given. Compile it with `compile.predicates.compile_predicate`.
    """

    source: str
    expression: exp.Expr
    canonical: str = ""

    @model_validator(mode="before")
    @classmethod
    def _render(cls, data: Any) -> Any:
        """Fill `canonical` from the expression once: rendering is the costly part of
        computing versions, and a predicate never changes."""
        if isinstance(data, dict) and not data.get("canonical"):
            expression = data.get("expression")
            if isinstance(expression, exp.Expr):
                data = {**data, "canonical": expression.sql(dialect=PREDICATE_DIALECT)}
        return data

    @property
    def sql(self) -> str:
        """The canonical text: what the definition version hashes and people read."""
        return self.canonical


#: How a count or an aggregate is compared with its range, by YAML key.
ComparisonOp = Literal["at_least", "at_most", "exactly", "between"]


class Count(_Frozen):
    """How many matching events an event condition needs, as an inclusive range."""

    op: ComparisonOp
    low: int = Field(ge=0)
    high: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.high is not None and self.high < self.low:
            raise ValueError(f"the range {self.low}..{self.high} is empty")
        if (self.op == "at_least") != (self.high is None):
            raise ValueError("only at_least has no upper bound")
        return self

    @classmethod
    def at_least(cls, n: int) -> Count:
        """`at_least: n`, also the default with n = 1."""
        return cls(op="at_least", low=n)

    @classmethod
    def at_most(cls, n: int) -> Count:
        """`at_most: n` (zero events count as at most n)."""
        return cls(op="at_most", low=0, high=n)

    @classmethod
    def exactly(cls, n: int) -> Count:
        """`exactly: n`."""
        return cls(op="exactly", low=n, high=n)

    @classmethod
    def between(cls, low: int, high: int) -> Count:
        """`between: [low, high]`, both ends included."""
        return cls(op="between", low=low, high=high)

    def holds(self, n: int) -> bool:
        """Whether `n` matching events satisfy this count."""
        return self.low <= n and (self.high is None or n <= self.high)

    def describe(self) -> str:
        """`at least 3`, `at most 2`, `exactly 1`, `between 2 and 5`."""
        if self.op == "at_least":
            return f"at least {self.low}"
        if self.op == "at_most":
            return f"at most {self.high}"
        if self.op == "exactly":
            return f"exactly {self.low}"
        return f"between {self.low} and {self.high}"


class Window(_Frozen):
    """Which events count by time: the last N days, a date range (both days included), or all.

    YAML keys are `last_days`, `from` and `to`; `from`/`to` always come together. All `None`
    means all time. The time semantics are SPEC 5.
    """

    last_days: int | None = Field(default=None, ge=1)
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if self.last_days is not None and (self.start is not None or self.end is not None):
            raise ValueError("use either last_days or from/to, not both")
        if (self.start is None) != (self.end is None):
            raise ValueError("from and to go together")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"from {self.start} is after to {self.end}")
        return self

    @property
    def is_all_time(self) -> bool:
        """True when no window was given."""
        return self.last_days is None and self.start is None

    def describe(self) -> str:
        """`in the last 30 days`, `from 2026-06-01 to 2026-06-30`, or `` for all time."""
        if self.last_days is not None:
            unit = "day" if self.last_days == 1 else "days"
            return f"in the last {self.last_days} {unit}"
        if self.start is not None and self.end is not None:
            return f"from {self.start.isoformat()} to {self.end.isoformat()}"
        return ""


class AllOf(_Frozen):
    """`all:` every condition holds; an empty list holds."""

    conditions: tuple[Condition, ...]


class AnyOf(_Frozen):
    """`any:` at least one condition holds; an empty list never holds."""

    conditions: tuple[Condition, ...]


class Not(_Frozen):
    """`not:` the condition does not hold (a NULL leaf is false, so `not` makes it true)."""

    condition: Condition


class Attribute(_Frozen):
    """`attribute:` a predicate over the entity's own attributes (and its entity models)."""

    predicate: Predicate


class CompanyAttribute(_Frozen):
    """`company:` contact segments only; a predicate over the contact's company attributes."""

    predicate: Predicate


class EventCondition(_Frozen):
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


class Bounds(_Frozen):
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


class Aggregate(_Frozen):
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


class FirstEvent(_Frozen):
    """`first_event:` the entity's first event of a name (matching `where`, ever) happened
    inside the window: "new this week". All time: it has ever happened."""

    events: EventCondition


class LastEvent(_Frozen):
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


class Restarted(_Frozen):
    """`restarted:` a restart of the entity's events of a name (matching `where`) lies
    inside `within` (absent: ever): an event at least `gap_days` days after the entity's
    previous one (at a strictly earlier instant), so "came back after two weeks away".
    The entity's very first event is no restart: it never stopped."""

    events: EventCondition
    gap_days: int = Field(ge=1)


class Regularly(_Frozen):
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


class AttributeAge(_Frozen):
    """`attribute_age:` how long before the instant a date or timestamp attribute is: at
    least `at_least_days` days (`signed_up_at` more than 30 days ago), at most
    `at_most_days` days and not in the future (a trial that ended this week), or both.
    A missing value holds no age. A date is its midnight."""

    column: str
    at_least_days: int | None = Field(default=None, ge=0)
    at_most_days: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if self.at_least_days is None and self.at_most_days is None:
            raise ValueError("give at_least_days, at_most_days or both")
        low, high = self.at_least_days, self.at_most_days
        if low is not None and high is not None and low > high:
            raise ValueError(f"at_least_days {low} is more than at_most_days {high}")
        return self


class Split(_Frozen):
    """`split:` the entity's bucket, a stable hash of its key and `salt`, is one of the first
    `percent` of 100: the same on every day and every engine (`compile.splits`), so a
    holdout is `not: {split: ...}` with the same salt."""

    salt: str = Field(min_length=1)
    percent: int = Field(ge=0, le=100)


class EventSequence(_Frozen):
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


class InSegment(_Frozen):
    """`in_segment:` member of another segment (a company segment, from a contact segment,
    means the contact's company is a member)."""

    segment: str


EventLeaf = (
    EventCondition | Aggregate | FirstEvent | LastEvent | EventSequence | Restarted | Regularly
)
Leaf = Attribute | CompanyAttribute | EventLeaf | AttributeAge | Split | InSegment
Condition = AllOf | AnyOf | Not | Leaf

for _model in (AllOf, AnyOf, Not):
    _model.model_rebuild()


def iter_leaves(condition: Condition, path: str = "where") -> Iterator[tuple[str, Leaf]]:
    """Every leaf with its path, in definition order: `where.all[1]`, `where.all[2].not`."""
    if isinstance(condition, AllOf | AnyOf):
        key = "all" if isinstance(condition, AllOf) else "any"
        for index, child in enumerate(condition.conditions):
            yield from iter_leaves(child, f"{path}.{key}[{index}]")
    elif isinstance(condition, Not):
        yield from iter_leaves(condition.condition, f"{path}.not")
    else:
        yield path, condition


def event_filters(leaf: Leaf) -> tuple[EventCondition, ...]:
    """The event filters (name, `where`, window) whose events a leaf reads; none for the
    leaves that read no events. The event pass, the pruning of a daily run and the late
    scopes read events through these."""
    if isinstance(leaf, EventCondition):
        return (leaf,)
    if isinstance(leaf, Aggregate):
        return (leaf.events,)
    if isinstance(leaf, FirstEvent | Restarted):
        return (ever(leaf.events),)
    if isinstance(leaf, Regularly):
        return (leaf.recent,)
    if isinstance(leaf, LastEvent):
        return (ever(leaf.events),) + ((leaf.matching,) if leaf.matches is not None else ())
    if isinstance(leaf, EventSequence):
        return leaf.filters
    return ()


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


def describe_leaf(leaf: Leaf) -> str:
    """A leaf in words a marketer understands (the count is left to the caller)."""
    if isinstance(leaf, Aggregate):
        function = leaf.function.replace("_", " ")
        return (
            f"{function} of properties.{leaf.key} over {describe_leaf(leaf.events)} "
            f"{leaf.value.describe()}"
        )
    if isinstance(leaf, FirstEvent):
        window = leaf.events.within.describe()
        return f"first {describe_leaf(ever(leaf.events))}" + (f" {window}" if window else "")
    if isinstance(leaf, LastEvent):
        parts = [f"last {describe_leaf(leaf.events)}"]
        if leaf.matches is not None:
            parts.append(f"matches {leaf.matches.sql}")
        if leaf.older_than_days is not None:
            unit = "day" if leaf.older_than_days == 1 else "days"
            parts.append(f"more than {leaf.older_than_days} {unit} ago")
        return " ".join(parts)
    if isinstance(leaf, EventSequence):
        steps = " then ".join(_events_words(step) for step in leaf.steps)
        unit = "day" if leaf.within_days == 1 else "days"
        window = leaf.within.describe()
        return f"sequence {steps} within {leaf.within_days} {unit}" + (
            f" {window}" if window else ""
        )
    if isinstance(leaf, Restarted):
        window = leaf.events.within.describe()
        unit = "day" if leaf.gap_days == 1 else "days"
        gap = f"restarted after at least {leaf.gap_days} {unit} without it"
        return f"{describe_leaf(ever(leaf.events))} {gap}" + (f" {window}" if window else "")
    if isinstance(leaf, Regularly):
        unit = "day" if leaf.period_days == 1 else "days"
        return (
            f"{describe_leaf(ever(leaf.events))} in at least {leaf.at_least} of the last "
            f"{leaf.periods} periods of {leaf.period_days} {unit}"
        )
    if isinstance(leaf, Split):
        return f"split {leaf.salt} {leaf.percent}%"
    if isinstance(leaf, AttributeAge):
        ages = []
        if leaf.at_least_days is not None:
            ages.append(f"at least {leaf.at_least_days} days")
        if leaf.at_most_days is not None:
            ages.append(f"at most {leaf.at_most_days} days")
        return f"attribute {leaf.column} {' and '.join(ages)} ago"
    if isinstance(leaf, Attribute):
        return f"attribute {leaf.predicate.sql}"
    if isinstance(leaf, CompanyAttribute):
        return f"company {leaf.predicate.sql}"
    if isinstance(leaf, InSegment):
        return f"in segment {leaf.segment}"
    parts = [f"event {_events_words(leaf)}"]
    if not leaf.within.is_all_time:
        parts.append(leaf.within.describe())
    return " ".join(parts)


def _events_words(leaf: EventCondition) -> str:
    """Which events, in words: `pricing_viewed where properties.plan = 'pro'`,
    `trial_started or demo_booked`, `like 'feature_%'`."""
    if leaf.names:
        words = " or ".join(leaf.names)
    elif leaf.like is not None:
        words = f"like {leaf.like!r}"
    else:
        words = leaf.event
    return words if leaf.where is None else f"{words} where {leaf.where.sql}"
