"""Leaf rows: each leaf's change points `(entity_id, t, at_i, after_i)` for the grid.

The entity's own versions give existence and attribute values; a company attribute or a
company segment is mapped onto contacts through the contact's company over time; a
referenced segment of the same entity is its timeline; the event-based leaves are built in
`event_rows` (a count as a step function over the flagged events, `event_steps`).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

from segment_pipeline.compile.ages import age_holds, edge_points
from segment_pipeline.compile.event_rows import (
    aggregate_rows,
    event_rows,
    first_rows,
    last_rows,
    regular_rows,
    restart_rows,
    sequence_rows,
)
from segment_pipeline.compile.relations import carried_table, timeline_table
from segment_pipeline.compile.spec import (
    EXISTS,
    LeafColumns,
    TimelineSpec,
    company_holds,
    holds,
)
from segment_pipeline.compile.splits import in_split
from segment_pipeline.compile.visible import FOREVER
from segment_pipeline.definitions.conditions import (
    Attribute,
    AttributeAge,
    CompanyAttribute,
    InSegment,
    Leaf,
    Split,
)
from segment_pipeline.definitions.event_conditions import (
    Aggregate,
    EventSequence,
    FirstEvent,
    LastEvent,
    Regularly,
    Restarted,
)
from segment_pipeline.sql import col, lit, template, union


def version_rows(spec: TimelineSpec, entities: Mapping[str, str]) -> exp.Select:
    """One row per version of the entity with the value of every leaf that changes with
    it: existence, attributes, and false for leaves read through the contact's company
    (a contact version starts without a company value until a company row gives one).
    """
    values: dict[int, tuple[exp.Expr, exp.Expr]] = {EXISTS: (col("is_present"), col("is_present"))}
    for index, (_, node) in enumerate(spec.leaves, start=1):
        if isinstance(node, AttributeAge):
            values[index] = (
                age_holds(node, col("valid_from"), after=False),
                age_holds(node, col("valid_from"), after=True),
            )
            continue
        value = _version_value(spec, node, entities)
        if value is not None:
            values[index] = (value, value.copy())
    return spec.row(
        spec.versions(spec.segment.entity, "versions"),
        col("entity_id"),
        col("valid_from"),
        values,
    )


def _version_value(spec: TimelineSpec, node: Leaf, entities: Mapping[str, str]) -> exp.Expr | None:
    """A leaf's value at each version of the entity, if versions change it."""
    if isinstance(node, Attribute):
        return holds(node)
    if isinstance(node, Split):
        return in_split(node, col("entity_id"))
    if isinstance(node, CompanyAttribute) or (
        isinstance(node, InSegment) and entities[node.segment] != spec.segment.entity
    ):
        return exp.false()
    return None


def _through_company(spec: TimelineSpec, leaf: LeafColumns, company_rows: exp.Select) -> exp.Select:
    """Map a company-level timeline onto contacts via the contact's company over time.

    A contact's value at t is its company's (as of t) value at t; each contact version
    starts with false until a company row says otherwise. Only the company rows where
    the value changes are mapped: a company timeline has a row per event of the company,
    and every one of them would otherwise be copied onto every contact of the company.
    """
    before = template("lag(v_after) over (partition by company_id order by t)")
    with_before = exp.select(
        "company_id", "t", "v_at", "v_after", exp.alias_(before, "v_before")
    ).from_(company_rows.subquery("company_rows", copy=False))
    changes = (
        exp.select("company_id", "t", "v_at", "v_after")
        .from_(with_before.subquery("with_before", copy=False))
        .where(
            template(
                "v_before is null or v_at is distinct from v_before "
                "or v_after is distinct from v_before"
            ),
            copy=False,
        )
    )
    next_t = template(
        "coalesce(lead(t) over (partition by company_id order by t), :forever)",
        forever=lit(FOREVER),
    )
    intervals = exp.select("company_id", "t", "v_at", "v_after", exp.alias_(next_t, "t_next"))
    intervals = intervals.from_(changes.subquery("changes", copy=False))
    joined = (
        exp.select("c.entity_id", "c.valid_from", "ci.t", "ci.v_at", "ci.v_after")
        .from_(spec.versions("contact", "c"))
        .join(
            intervals.subquery("ci", copy=False),
            on=template(
                "ci.company_id = c.company_id and ci.t < c.valid_to and ci.t_next > c.valid_from"
            ),
        )
    )
    at = template("case when t >= valid_from then v_at else v_after end")
    return spec.row(
        joined.subquery("mapped", copy=False),
        col("entity_id"),
        template("greatest(valid_from, t)"),
        {leaf.index: (at, col("v_after"))},
    )


def _company_rows(spec: TimelineSpec, leaf: LeafColumns, node: CompanyAttribute) -> exp.Select:
    value = company_holds(node)
    company_rows = exp.select(
        exp.alias_(col("entity_id"), "company_id"),
        exp.alias_(col("valid_from"), "t"),
        exp.alias_(value, "v_at"),
        exp.alias_(value.copy(), "v_after"),
    ).from_(spec.versions("company", "versions"))
    return _through_company(spec, leaf, company_rows)


def _segment_rows(
    spec: TimelineSpec, leaf: LeafColumns, node: InSegment, ref_entity: str
) -> exp.Select:
    timeline: exp.Expr = exp.to_table(timeline_table(node.segment, spec.prefix))
    if spec.since is not None:
        # An incremental timeline has rows for changed entities only; the unchanged
        # members are its carried rows.
        columns = ["entity_id", "t", "m_at", "m_after"]
        both = union(
            [
                exp.select(*columns).from_(timeline),
                exp.select(*columns).from_(carried_table(node.segment)),
            ],
            distinct=False,
        )
        timeline = both.subquery("referenced_timeline", copy=False)
    if ref_entity == spec.segment.entity:
        source: exp.Expr = timeline
        if spec.since is not None:
            rows = exp.select("*").from_(timeline).where(spec.in_scope(col("entity_id")))
            source = rows.subquery("referenced", copy=False)
        values = {leaf.index: (col("m_at"), col("m_after"))}
        return spec.row(source, col("entity_id"), col("t"), values)
    company_rows = exp.select(
        exp.alias_(col("entity_id"), "company_id"),
        "t",
        exp.alias_(col("m_at"), "v_at"),
        exp.alias_(col("m_after"), "v_after"),
    ).from_(timeline)
    return _through_company(spec, leaf, company_rows)


def _age_rows(spec: TimelineSpec, leaf: LeafColumns, node: AttributeAge) -> exp.Select:
    """An attribute age at the window edges inside each version (`ages.edge_points`), read
    from the version valid there."""
    versions = spec.versions(spec.segment.entity, "versions")
    points = edge_points(node, versions, spec.as_of, None)
    joined = (
        exp.select(col("entity_id", "p"), col("t", "p"), col(node.column, "v"))
        .from_(points.subquery("p", copy=False))
        .join(
            spec.versions(spec.segment.entity, "v"),
            on=exp.and_(
                col("entity_id", "v").eq(col("entity_id", "p")),
                col("valid_from", "v") < col("t", "p"),
                col("t", "p") < col("valid_to", "v"),
            ),
        )
    )
    return spec.row(
        joined.subquery("edges", copy=False),
        col("entity_id"),
        col("t"),
        {
            leaf.index: (
                age_holds(node, col("t"), after=False),
                age_holds(node, col("t"), after=True),
            )
        },
    )


def leaf_rows(
    spec: TimelineSpec, leaf: LeafColumns, node: Leaf, entities: Mapping[str, str]
) -> exp.Select | None:
    """The leaf's change rows beyond the entity's own versions (`_version_rows`)."""
    if isinstance(node, Attribute | Split):
        return None
    if isinstance(node, CompanyAttribute):
        return _company_rows(spec, leaf, node)
    if isinstance(node, InSegment):
        return _segment_rows(spec, leaf, node, entities[node.segment])
    if isinstance(node, Aggregate):
        return aggregate_rows(spec, leaf, node)
    if isinstance(node, FirstEvent):
        return first_rows(spec, leaf, node)
    if isinstance(node, AttributeAge):
        return _age_rows(spec, leaf, node)
    if isinstance(node, LastEvent):
        return last_rows(spec, leaf, node)
    if isinstance(node, EventSequence):
        return sequence_rows(spec, leaf, node)
    if isinstance(node, Restarted):
        return restart_rows(spec, leaf, node)
    if isinstance(node, Regularly):
        return regular_rows(spec, leaf, node)
    return event_rows(spec, leaf, node)
