"""Leaf rows: each leaf's change points `(entity_id, t, at_i, after_i)` for the grid.

The entity's own versions give existence and attribute values; a company attribute or a
company segment is mapped onto contacts through the contact's company over time; a
referenced segment of the same entity is its timeline; an event leaf is a count as a step
function over the flagged events (`event_pass`).
"""

from __future__ import annotations

from datetime import timedelta

from sqlglot import exp

from segment_pipeline.compile.event_pass import hit_column, read_range
from segment_pipeline.compile.relations import hits_table, timeline_table
from segment_pipeline.compile.spec import (
    EXISTS,
    LeafColumns,
    TimelineSpec,
    company_holds,
    count_holds,
    holds,
)
from segment_pipeline.compile.visible import FOREVER
from segment_pipeline.definitions.conditions import (
    Attribute,
    CompanyAttribute,
    EventCondition,
    InSegment,
    Leaf,
)
from segment_pipeline.sql import col, lit, template


def version_rows(spec: TimelineSpec, entities: dict[str, str]) -> exp.Select:
    """One row per version of the entity with the value of every leaf that changes with
    it: existence, attributes, and false for leaves read through the contact's company
    (a contact version starts without a company value until a company row gives one).
    """
    values = {EXISTS: (col("is_present"), col("is_present"))}
    for index, (_, node) in enumerate(spec.leaves, start=1):
        value = _version_value(spec, node, entities)
        if value is not None:
            values[index] = (value, value.copy())
    return spec.row(
        spec.versions(spec.segment.entity, "versions"),
        col("entity_id"),
        col("valid_from"),
        values,
    )


def _version_value(
    spec: TimelineSpec, node: Leaf, entities: dict[str, str]
) -> exp.Expression | None:
    """A leaf's value at each version of the entity, if versions change it."""
    if isinstance(node, Attribute):
        return holds(node)
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
    timeline = exp.to_table(timeline_table(node.segment, spec.prefix))
    if ref_entity == spec.segment.entity:
        source: exp.Expression = timeline
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


def _event_rows(spec: TimelineSpec, leaf: LeafColumns, node: EventCondition) -> exp.Select:
    """Counts as a step function: +1 at an event, -1 right after it leaves the window.

    From `since` on, an event that left a `last_days` window before `since` changes
    nothing and is not read; the steps before `since` are summed into one point just
    before it, which carries the count at `since` into the timeline.
    """
    owner = "contact_id" if spec.segment.entity == "contact" else "company_id"
    hits = (
        exp.select(exp.alias_(col(owner), "entity_id"), "occurred_at")
        .from_(hits_table(spec.prefix))
        .where(col(hit_column(node)))
        .where(col(owner).is_(exp.null()).not_())
    )
    window = node.within
    for condition in read_range(window, spec.since).conditions():
        hits = hits.where(condition)
    if spec.since is not None:
        hits = hits.where(spec.in_scope(col(owner)))
    steps = exp.select(
        "entity_id",
        exp.alias_(col("occurred_at"), "t"),
        exp.alias_(lit(1), "plus"),
        exp.alias_(lit(0), "minus"),
    ).from_(hits.subquery("hits", copy=False))
    if window.last_days is not None:
        aged = col("occurred_at") + exp.Interval(
            this=lit(str(window.last_days)), unit=exp.var("DAY")
        )
        ageing = (
            exp.select(
                "entity_id",
                exp.alias_(aged, "t"),
                exp.alias_(lit(0), "plus"),
                exp.alias_(lit(1), "minus"),
            )
            .from_(hits.subquery("hits"))
            .where(aged.copy() <= lit(spec.as_of))
        )
        steps = exp.union(steps, ageing, distinct=False, copy=False)
    if spec.since is not None:
        instant = exp.Case(
            ifs=[
                exp.If(
                    this=col("t") < lit(spec.since),
                    true=lit(spec.since - timedelta(microseconds=1)),
                )
            ],
            default=col("t"),
        )
        steps = exp.select("entity_id", exp.alias_(instant, "t"), "plus", "minus").from_(
            steps.subquery("early_steps", copy=False)
        )
    per_instant = (
        exp.select(
            "entity_id",
            "t",
            exp.alias_(exp.func("sum", col("plus")), "plus"),
            exp.alias_(exp.func("sum", col("minus")), "minus"),
        )
        .from_(steps.subquery("steps", copy=False))
        .group_by("entity_id", "t", copy=False)
    )
    running = template(
        "sum(plus - minus) over (partition by entity_id order by t rows unbounded preceding)"
    )
    counted = exp.select("entity_id", "t", exp.alias_(running, "n_after"), "minus").from_(
        per_instant.subquery("per_instant", copy=False)
    )
    n_at = col("n_after") + col("minus")
    return spec.row(
        counted.subquery("counted", copy=False),
        col("entity_id"),
        col("t"),
        {
            leaf.index: (
                count_holds(node.count, n_at),
                count_holds(node.count, col("n_after")),
            )
        },
        counts={leaf.index: (n_at.copy(), col("n_after"))},
    )


def leaf_rows(
    spec: TimelineSpec, leaf: LeafColumns, node: Leaf, entities: dict[str, str]
) -> exp.Select | None:
    """The leaf's change rows beyond the entity's own versions (`_version_rows`)."""
    if isinstance(node, Attribute):
        return None
    if isinstance(node, CompanyAttribute):
        return _company_rows(spec, leaf, node)
    if isinstance(node, InSegment):
        return _segment_rows(spec, leaf, node, entities[node.segment])
    return _event_rows(spec, leaf, node)
