"""The condition tree of a segment (SPEC 4.1), as typed, frozen values.

Everything here is already validated: a `Predicate` holds a parsed sqlglot expression that
passed the allow-list in `predicates.py`, and a `Count` or `Window` cannot hold a nonsense
range. The evaluator and the reason texts (SPEC 8) walk this tree; nothing here knows YAML.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Self

from pydantic import Field, model_validator

from segment_pipeline.definitions.condition_parts import Frozen, Predicate
from segment_pipeline.definitions.event_conditions import (
    Aggregate,
    EventCondition,
    EventLeaf,
    EventSequence,
    FirstEvent,
    LastEvent,
    Regularly,
    Restarted,
    ever,
)


class AllOf(Frozen):
    """`all:` every condition holds; an empty list holds."""

    conditions: tuple[Condition, ...]


class AnyOf(Frozen):
    """`any:` at least one condition holds; an empty list never holds."""

    conditions: tuple[Condition, ...]


class Not(Frozen):
    """`not:` the condition does not hold (a NULL leaf is false, so `not` makes it true)."""

    condition: Condition


class Attribute(Frozen):
    """`attribute:` a predicate over the entity's own attributes (and its entity models)."""

    predicate: Predicate


class CompanyAttribute(Frozen):
    """`company:` contact segments only; a predicate over the contact's company attributes."""

    predicate: Predicate


class AttributeAge(Frozen):
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


class Split(Frozen):
    """`split:` the entity's bucket, a stable hash of its key and `salt`, is one of the first
    `percent` of 100: the same on every day and every engine (`compile.splits`), so a
    holdout is `not: {split: ...}` with the same salt."""

    salt: str = Field(min_length=1)
    percent: int = Field(ge=0, le=100)


class InSegment(Frozen):
    """`in_segment:` member of another segment (a company segment, from a contact segment,
    means the contact's company is a member)."""

    segment: str


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
            parts.append(f"matches {leaf.matches.words}")
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
        return f"attribute {leaf.predicate.words}"
    if isinstance(leaf, CompanyAttribute):
        return f"company {leaf.predicate.words}"
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
    return words if leaf.where is None else f"{words} where {leaf.where.words}"
