"""What one membership timeline covers, and the pieces every part of its SQL shares.

A `TimelineSpec` is one segment evaluated at `as_of`, over all history or (with `since`)
from `since` on for the entities of `scope`. The event pass, the leaf rows, the grid, the
pruning of a daily run and the join times each build their SQL from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from segment_pipeline.compile.predicates import compile_predicate
from segment_pipeline.compile.relations import changed_table, versions_table
from segment_pipeline.compile.visible import FOREVER
from segment_pipeline.definitions.condition_parts import Count
from segment_pipeline.definitions.conditions import (
    AllOf,
    AnyOf,
    Attribute,
    CompanyAttribute,
    Condition,
    Leaf,
    Not,
    iter_leaves,
)
from segment_pipeline.definitions.event_conditions import (
    Aggregate,
    Bounds,
    EventCondition,
    Regularly,
    Restarted,
)
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.sql import col, lit

#: Leaf 0 of every segment: the entity exists (its version is not a deletion).
EXISTS = 0


def holds(leaf: Attribute | CompanyAttribute) -> exp.Expr:
    """An attribute predicate on a version's columns; a missing value fails it."""
    return exp.func("coalesce", compile_predicate(leaf.predicate), exp.false())


def company_holds(leaf: CompanyAttribute) -> exp.Expr:
    """A company predicate on a company version's columns: false for a deleted company."""
    return exp.and_(col("is_present"), holds(leaf))


def bounds_hold(bounds: Bounds, value: exp.Expr) -> exp.Expr:
    """Whether an aggregate's value is in the leaf's range; false when it is missing."""
    tests: list[exp.Expr] = []
    if bounds.low is not None:
        tests.append(value >= lit(bounds.low))
    if bounds.high is not None:
        tests.append(value.copy() <= lit(bounds.high))
    return exp.func("coalesce", exp.and_(*tests), exp.false())


def count_holds(count: Count, n: exp.Expr) -> exp.Expr:
    """Whether an event count `n` is within the leaf's bounds."""
    low = n >= lit(count.low)
    return low if count.high is None else exp.and_(low, n <= lit(count.high))


@dataclass(frozen=True)
class LeafColumns:
    """The grid columns of leaf i."""

    index: int

    @property
    def at(self) -> str:
        """Value at the change point itself."""
        return f"at_{self.index}"

    @property
    def after(self) -> str:
        """Value on the open interval right after the change point."""
        return f"after_{self.index}"

    @property
    def count_at(self) -> str:
        """Event count at the change point (event leaves)."""
        return f"n_at_{self.index}"

    @property
    def count_after(self) -> str:
        """Event count right after the change point (event leaves)."""
        return f"n_after_{self.index}"


class TimelineSpec:
    """One segment's timeline at `as_of`: which points and entities it covers.

    With `since`, the timeline holds only the points from `since` to `as_of` (values at
    `since` carried in exactly from what came before), and only for the entities of `scope`
    (a query of entity ids), which the caller picks among those with a change point in that
    span (`pruning.changed`, kept in `changed_table`): the daily run reads window-sized
    slices of history for the entities that moved, and takes everything else from the
    previous snapshot's state (see `join_times.members`). Timelines of one segment with
    different `since` and disjoint scopes can be stacked into one relation. `prefix` names
    the set of run relations it reads.
    """

    def __init__(
        self,
        segment: Segment,
        as_of: datetime,
        *,
        since: datetime | None = None,
        scope: exp.Select | None = None,
        prefix: str = "",
    ) -> None:
        self.segment = segment
        self.as_of = as_of
        self.since = since
        self.scope = scope
        self.prefix = prefix
        self.leaves: list[tuple[str, Leaf]] = list(iter_leaves(segment.where))
        self.columns = [LeafColumns(index) for index in range(len(self.leaves) + 1)]

    def versions(self, entity: str, alias: str) -> exp.Expr:
        """Versions of an entity; from `since` on, only those still valid at `since` or later,
        and of the segment's own entity only those of changed entities."""
        table = exp.to_table(versions_table(entity, self.prefix))
        if self.since is None:
            return exp.alias_(table, alias)
        current = exp.select("*").from_(table).where(col("valid_to") > lit(self.since))
        if entity == self.segment.entity:
            current = current.where(self.in_scope(col("entity_id")))
        return exp.alias_(current.subquery(), alias)

    def in_scope(self, entity_id: exp.Expr) -> exp.Expr:
        """Whether an entity is one this (restricted) timeline evaluates."""
        assert self.scope is not None
        return entity_id.isin(query=self.scope.copy())

    def is_changed(self, entity_id: exp.Expr) -> exp.Expr:
        """Whether an entity has a change point from `since` on (any timeline evaluates it)."""
        changed = exp.select("entity_id").from_(changed_table(self.segment.name, self.prefix))
        return entity_id.isin(query=changed)

    def current(self, entity: str) -> exp.Select:
        """Ids of an entity's versions valid at `as_of` (its latest)."""
        return (
            exp.select("entity_id")
            .from_(versions_table(entity, self.prefix))
            .where(col("valid_to").eq(lit(FOREVER)))
        )

    def is_event(self, index: int) -> bool:
        """Whether leaf `index` has count columns: an event condition counts its events,
        `restarted` its restarts in the window, `regularly` the periods with an event."""
        counting = EventCondition | Restarted | Regularly
        return index > 0 and isinstance(self.leaves[index - 1][1], counting)

    def names(self, leaf: LeafColumns) -> list[str]:
        """The grid columns of a leaf."""
        names = [leaf.at, leaf.after]
        if self.is_event(leaf.index):
            names += [leaf.count_at, leaf.count_after]
        return names

    def default(self, index: int) -> exp.Expr:
        """A leaf's value before its first change point."""
        node = self.leaves[index - 1][1] if index > 0 else None
        if isinstance(node, EventCondition):
            return exp.Boolean(this=node.count.holds(0))
        if isinstance(node, Aggregate):
            return exp.Boolean(this=node.value.holds(node.empty_value))
        return exp.false()

    def row(
        self,
        source: exp.Expr,
        entity_id: exp.Expr,
        t: exp.Expr,
        values: Mapping[int, tuple[exp.Expr, exp.Expr]],
        counts: Mapping[int, tuple[exp.Expr, exp.Expr]] | None = None,
    ) -> exp.Select:
        """A select yielding every grid column: the given leaves' values (at, after) and
        event counts by leaf index, NULL for the others."""
        counts = counts or {}
        projections: list[exp.Expr] = [
            exp.alias_(entity_id, "entity_id"),
            exp.alias_(t, "t"),
        ]
        for leaf in self.columns:
            at, after = values.get(leaf.index, (exp.null(), exp.null()))
            projections.append(exp.alias_(at, leaf.at))
            projections.append(exp.alias_(after, leaf.after))
            if self.is_event(leaf.index):
                count_at, count_after = counts.get(leaf.index, (exp.null(), exp.null()))
                projections.append(exp.alias_(count_at, leaf.count_at))
                projections.append(exp.alias_(count_after, leaf.count_after))
        return exp.select(*projections).from_(source)

    def condition(self, leaf_value: Callable[[int], exp.Expr]) -> exp.Expr:
        """`exists and condition`, each leaf (by index) replaced by `leaf_value`."""
        index_of = {path: index for index, (path, _) in enumerate(self.leaves, start=1)}

        def compile_condition(condition: Condition, path: str) -> exp.Expr:
            if isinstance(condition, AllOf | AnyOf):
                key = "all" if isinstance(condition, AllOf) else "any"
                parts = [
                    compile_condition(child, f"{path}.{key}[{index}]")
                    for index, child in enumerate(condition.conditions)
                ]
                if not parts:
                    return exp.Boolean(this=isinstance(condition, AllOf))
                combine = exp.and_ if isinstance(condition, AllOf) else exp.or_
                return exp.paren(combine(*parts))
            if isinstance(condition, Not):
                return exp.not_(compile_condition(condition.condition, f"{path}.not"))
            return leaf_value(index_of[path])

        return exp.and_(leaf_value(EXISTS), compile_condition(self.segment.where, "where"))
