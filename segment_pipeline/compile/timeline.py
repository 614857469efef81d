"""Compile a segment's condition tree into a membership timeline query (SPEC 5).

Membership only changes at *change points*: a version of the entity (or of its company),
an event, an event ageing out of a `last_days` window, a change in a referenced segment.
Each leaf yields rows `(entity_id, t, at_i, after_i)`: its value at the instant t and on
the open interval just after it. The rows of all leaves are merged into one grid per
entity, each leaf's value carried forward to the grid points where it did not change, and
the tree evaluated at and after every point. The join time is then the last break before
`as_of`: the latest point where membership was false, or the end of the latest false
interval. Everything is set-based SQL (window functions), never a loop per entity.

Event conditions are counts over a step function (+1 when an event happens, -1 right
after it ages out), so aggregates over event properties and event sequences can later
plug in as other step functions without changing the grid.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlglot import exp

from segment_pipeline.compile.leaf_rows import leaf_rows, version_rows
from segment_pipeline.compile.spec import TimelineSpec
from segment_pipeline.sql import col, lit, template, union


def timeline(spec: TimelineSpec, entities: Mapping[str, str]) -> exp.Select:
    """Every change point of every entity with membership at and right after it.

    `entities` maps every segment name to its entity type (for `in_segment`). Columns:
    entity_id, t, m_at, m_after, and each leaf's filled values (`at_i`, `n_at_i`, ...)
    so the values at `as_of` can explain why an entity is not a member.
    """
    parts = [_points(spec, spec.as_of)]
    if spec.since is not None:
        parts.append(_points(spec, spec.since))
    parts.append(version_rows(spec, entities))
    for index, (_, node) in enumerate(spec.leaves, start=1):
        rows_of_leaf = leaf_rows(spec, spec.columns[index], node, entities)
        if rows_of_leaf is not None:
            parts.append(rows_of_leaf)
    rows = union(parts, distinct=False)
    merged, filled = [], []
    window = "over (partition by entity_id order by t rows unbounded preceding)"
    for leaf in spec.columns:
        merged += [
            exp.alias_(exp.LogicalOr(this=col(leaf.at)), leaf.at),
            exp.alias_(exp.LogicalOr(this=col(leaf.after)), leaf.after),
        ]
        carried = template(f"last_value(:c ignore nulls) {window}", c=col(leaf.after))
        after = exp.func("coalesce", carried, spec.default(leaf.index))
        filled += [
            exp.alias_(exp.func("coalesce", col(leaf.at), after), leaf.at),
            exp.alias_(after.copy(), leaf.after),
        ]
        if spec.is_event(leaf.index):
            merged += [
                exp.alias_(exp.func("max", col(leaf.count_at)), leaf.count_at),
                exp.alias_(exp.func("max", col(leaf.count_after)), leaf.count_after),
            ]
            carried = template(f"last_value(:c ignore nulls) {window}", c=col(leaf.count_after))
            count_after = exp.func("coalesce", carried, lit(0))
            filled += [
                exp.alias_(exp.func("coalesce", col(leaf.count_at), count_after), leaf.count_at),
                exp.alias_(count_after.copy(), leaf.count_after),
            ]
    points = (
        exp.select("entity_id", "t", *merged)
        .from_(rows.subquery("leaf_rows", copy=False))
        .group_by("entity_id", "t", copy=False)
    )
    filled_points = exp.select("entity_id", "t", *filled).from_(
        points.subquery("points", copy=False)
    )
    value_columns = [name for leaf in spec.columns for name in spec.names(leaf)]
    timeline = exp.select(
        "entity_id",
        "t",
        exp.alias_(_membership(spec, "at"), "m_at"),
        exp.alias_(_membership(spec, "after"), "m_after"),
        *value_columns,
    ).from_(filled_points.subquery("filled", copy=False))
    return (
        timeline if spec.since is None else timeline.where(col("t") >= lit(spec.since), copy=False)
    )


def _points(spec: TimelineSpec, t: datetime) -> exp.Select:
    """A grid point at `t` for every (changed) entity: each leaf's value is carried in."""
    entities = (
        exp.select("entity_id")
        .distinct()
        .from_(spec.versions(spec.segment.entity, "versions"))
        .subquery()
    )
    return spec.row(exp.alias_(entities, "entities"), col("entity_id"), lit(t), {})


def _membership(spec: TimelineSpec, side: str) -> exp.Expr:
    """`exists and condition`, over the filled `at_i` or `after_i` columns."""
    return spec.condition(lambda index: col(getattr(spec.columns[index], side)))
