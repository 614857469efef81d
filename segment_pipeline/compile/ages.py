"""Attribute ages: how long before the instant a date or timestamp attribute is.

Inside one version of the entity the age grows with the instant, so an `attribute_age`
leaf changes at up to three window edges besides the versions: the value itself (age 0,
for `at_most_days`), `value + at_least_days` (old enough from that instant on) and
`value + at_most_days` (still young enough at that instant, too old right after).
"""

from __future__ import annotations

from datetime import datetime

from sqlglot import exp

from segment_pipeline.definitions.conditions import AttributeAge
from segment_pipeline.sql import col, lit


def _value(leaf: AttributeAge) -> exp.Expr:
    """The attribute as a timestamp (a date is its midnight)."""
    return exp.cast(col(leaf.column), exp.DataType.Type.TIMESTAMP)


def _days(days: int) -> exp.Interval:
    return exp.Interval(this=lit(str(days)), unit=exp.var("DAY"))


def age_holds(leaf: AttributeAge, t: exp.Expr, *, after: bool) -> exp.Expr:
    """The leaf's value at the instant `t` of a version's columns, or (`after`) on the open
    interval right after it; false for a missing value."""
    value = _value(leaf)
    tests: list[exp.Expr] = []
    if leaf.at_least_days is not None:
        tests.append(value <= t.copy() - _days(leaf.at_least_days))
    if leaf.at_most_days is not None:
        tests.append(value.copy() <= t.copy())
        edge = t.copy() - _days(leaf.at_most_days)
        tests.append(value.copy() > edge if after else value.copy() >= edge)
    return exp.func("coalesce", exp.and_(*tests), exp.false())


def age_edges(leaf: AttributeAge) -> list[exp.Expr]:
    """The instants, from a version's columns, where the leaf's value can change."""
    edges: list[exp.Expr] = []
    if leaf.at_least_days is not None:
        edges.append(_value(leaf) + _days(leaf.at_least_days))
    if leaf.at_most_days is not None:
        edges += [_value(leaf), _value(leaf) + _days(leaf.at_most_days)]
    return edges


def edge_points(
    leaf: AttributeAge, versions: exp.Expr, as_of: datetime, since: datetime | None
) -> exp.Query:
    """`(entity_id, t)` for every edge strictly inside a version's validity, up to `as_of`
    (and from `since` on, if given); the versions' own instants are rows of their own."""
    queries = []
    for edge in age_edges(leaf):
        query = (
            exp.select("entity_id", exp.alias_(edge, "t"))
            .from_(versions.copy())
            .where(edge.copy() > col("valid_from"))
            .where(edge.copy() < col("valid_to"))
            .where(edge.copy() <= lit(as_of))
        )
        if since is not None:
            query = query.where(edge.copy() >= lit(since))
        queries.append(query)
    result: exp.Query = queries[0]
    for query in queries[1:]:
        result = exp.union(result, query, distinct=False)
    return result
