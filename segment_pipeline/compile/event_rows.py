"""Change rows of the event-based leaves, one function per kind: event counts, aggregates,
first and last events, sequences, restarts and regular activity."""

from __future__ import annotations

from sqlglot import exp

from segment_pipeline.compile.event_pass import hit_column, read_range, value_column
from segment_pipeline.compile.event_steps import (
    before_since,
    count_rows,
    counts_holding,
    leaf_hits,
    leaf_hits_where,
    leaves_window_at,
    swept,
)
from segment_pipeline.compile.periods import period_shifts
from segment_pipeline.compile.sequences import chain_ends, step_column
from segment_pipeline.compile.spec import (
    LeafColumns,
    TimelineSpec,
    bounds_hold,
)
from segment_pipeline.definitions.condition_parts import Count
from segment_pipeline.definitions.event_conditions import (
    Aggregate,
    EventCondition,
    EventSequence,
    FirstEvent,
    LastEvent,
    Regularly,
    Restarted,
    ever,
)
from segment_pipeline.sql import col, lit, template, union


def event_rows(spec: TimelineSpec, leaf: LeafColumns, node: EventCondition) -> exp.Select:
    """Counts as a step function: +1 at an event, -1 right after it leaves the window."""
    days = node.within.last_days
    leaves = None if days is None else leaves_window_at(days)
    return count_rows(spec, leaf, leaf_hits(spec, node), leaves, node.count)


def sequence_rows(spec: TimelineSpec, leaf: LeafColumns, node: EventSequence) -> exp.Select:
    """Chains as an event count: +1 at the event ending a chain, -1 right after the chain's
    first event (the latest start of a chain ending there, `sequences.chain_ends`) leaves a
    `last_days` window; the leaf holds while the count is at least 1.

    From `since` on, the events read are those in the window at `since` or later, which
    holds every chain still in it then: a chain whose latest start is older is out before
    `since` whether it is found or not.
    """
    flags = {step_column(i): col(hit_column(step)) for i, step in enumerate(node.filters)}
    hits = leaf_hits_where(
        spec,
        exp.or_(*(flag.copy() for flag in flags.values())),
        node.within,
        *(exp.alias_(flag, name) for name, flag in flags.items()),
    )
    ends = chain_ends(hits, len(node.steps), node.within_days)
    days = node.within.last_days
    leaves = None
    if days is not None:
        leaves = leaves_window_at(days, col("start"))
        # A chain longer than the window is never inside it.
        ends = (
            exp.select("*")
            .from_(ends.subquery("chain_ends", copy=False))
            .where(col("occurred_at") <= leaves.copy(), copy=False)
        )
    return count_rows(spec, leaf, ends, leaves, Count.at_least(1))


def restart_rows(spec: TimelineSpec, leaf: LeafColumns, node: Restarted) -> exp.Select:
    """Restarts counted in the leaf's window like events (held from one on).

    A restart is an instant of the entity's matching events whose previous instant (the
    events of one instant are one: `lag` over distinct instants) is at least `gap_days`
    earlier; the first instant has none and is no restart. The previous event can be of any
    age, so the whole history of the timeline's entities is read; only the restarts are
    narrowed to the window (from `since` on, those still in it at `since` or later).
    """
    hits = leaf_hits(spec, ever(node.events))
    instants = (
        exp.select("entity_id", "occurred_at")
        .from_(hits.subquery("hits", copy=False))
        .group_by("entity_id", "occurred_at", copy=False)
    )
    previous = template("lag(occurred_at) over (partition by entity_id order by occurred_at)")
    with_previous = exp.select("entity_id", "occurred_at", exp.alias_(previous, "previous")).from_(
        instants.subquery("instants", copy=False)
    )
    gap = col("occurred_at") - exp.Interval(this=lit(str(node.gap_days)), unit=exp.var("DAY"))
    restarts = (
        exp.select("entity_id", "occurred_at")
        .from_(with_previous.subquery("with_previous", copy=False))
        .where(col("previous") <= gap, copy=False)
    )
    for condition in read_range(node.events.within, spec.since).conditions():
        restarts = restarts.where(condition, copy=False)
    days = node.events.within.last_days
    leaves = None if days is None else leaves_window_at(days)
    return count_rows(spec, leaf, restarts, leaves, Count.at_least(1))


def aggregate_rows(spec: TimelineSpec, leaf: LeafColumns, node: Aggregate) -> exp.Select:
    """The aggregate at each instant its set of events changes, and right after it.

    The set changes when an event happens and right after one leaves a `last_days` window
    (`occurred_at + N days`): at that instant the event still counts, just after it no
    longer does. At each such point the aggregate is taken over the events in the window
    then (a join on the entity's events, not a running total: min, max and distinct counts
    do not subtract). From `since` on, the points before it are one point just before it.
    """
    window = node.events.within
    hits = leaf_hits(spec, node.events, exp.alias_(col(value_column(node)), "v"))
    instants: exp.Query = exp.select("entity_id", exp.alias_(col("occurred_at"), "t")).from_(
        hits.subquery("hits")
    )
    if window.last_days is not None:
        aged = leaves_window_at(window.last_days)
        ageing = (
            exp.select("entity_id", exp.alias_(aged, "t"))
            .from_(hits.subquery("hits"))
            .where(aged.copy() <= lit(spec.as_of))
        )
        instants = exp.union(instants, ageing, distinct=False, copy=False)
    points = (
        exp.select("entity_id", exp.alias_(before_since(spec), "t"))
        .distinct()
        .from_(instants.subquery("instants", copy=False))
    )
    on = exp.and_(
        col("entity_id", "h").eq(col("entity_id", "p")),
        col("occurred_at", "h") <= col("t", "p"),
    )
    value_after: exp.Expr = col("v", "h")
    if window.last_days is not None:
        edge = col("t", "p") - exp.Interval(this=lit(str(window.last_days)), unit=exp.var("DAY"))
        on = exp.and_(on, col("occurred_at", "h") >= edge)
        value_after = exp.Case(
            ifs=[exp.If(this=col("occurred_at", "h") > edge.copy(), true=col("v", "h"))]
        )
    valued = (
        exp.select(
            col("entity_id", "p"),
            col("t", "p"),
            exp.alias_(_aggregate(node, col("v", "h")), "v_at"),
            exp.alias_(_aggregate(node, value_after), "v_after"),
        )
        .from_(points.subquery("p", copy=False))
        .join(hits.subquery("h", copy=False), on=on, join_type="left")
        .group_by(col("entity_id", "p"), col("t", "p"), copy=False)
    )
    return spec.row(
        valued.subquery("valued", copy=False),
        col("entity_id"),
        col("t"),
        {
            leaf.index: (
                bounds_hold(node.value, col("v_at")),
                bounds_hold(node.value, col("v_after")),
            )
        },
    )


def _aggregate(node: Aggregate, value: exp.Expr) -> exp.Expr:
    """The leaf's aggregate of `value` over a group; 0 for the sum of no values."""
    if node.function == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[value]))
    function = {"sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}[node.function]
    aggregate = function(this=value)
    return exp.func("coalesce", aggregate, lit(0.0)) if node.function == "sum" else aggregate


def first_rows(spec: TimelineSpec, leaf: LeafColumns, node: FirstEvent) -> exp.Select:
    """The first event (of all time) makes the leaf true if it is inside the window; a
    `last_days` window lets it go right after `first + N days`."""
    hits = leaf_hits(spec, ever(node.events))
    firsts = (
        exp.select("entity_id", exp.alias_(exp.func("min", col("occurred_at")), "occurred_at"))
        .from_(hits.subquery("hits", copy=False))
        .group_by("entity_id", copy=False)
    )
    window = node.events.within
    first = exp.select(
        "entity_id", exp.alias_(col("occurred_at"), "t"), exp.alias_(exp.true(), "v_after")
    ).from_(firsts.subquery("firsts"))
    for condition in read_range(window, None).conditions():
        first = first.where(condition)
    rows: exp.Query = first
    if window.last_days is not None:
        aged = leaves_window_at(window.last_days)
        ageing = (
            exp.select("entity_id", exp.alias_(aged, "t"), exp.alias_(exp.false(), "v_after"))
            .from_(firsts.subquery("firsts"))
            .where(aged.copy() <= lit(spec.as_of))
        )
        rows = exp.union(first, ageing, distinct=False, copy=False)
    # At the edge it still holds; at the first event it holds already.
    return spec.row(
        rows.subquery("first_rows", copy=False),
        col("entity_id"),
        col("t"),
        {leaf.index: (exp.true(), col("v_after"))},
    )


def last_rows(spec: TimelineSpec, leaf: LeafColumns, node: LastEvent) -> exp.Select:
    """The latest event so far, carried from each event to the next: whether it matches
    (any of the events at that instant), and whether it is older than N days, which turns
    true right after `latest + N days`."""
    matched = col(hit_column(node.matching)) if node.matches is not None else exp.true()
    hits = leaf_hits(spec, ever(node.events), exp.alias_(matched, "matched"))
    events = exp.select(
        "entity_id",
        exp.alias_(col("occurred_at"), "t"),
        exp.alias_(col("occurred_at"), "latest"),
        "matched",
    ).from_(hits.subquery("hits"))
    rows: exp.Query = events
    days = node.older_than_days
    if days is not None:
        aged = leaves_window_at(days)
        ageing = (
            exp.select(
                "entity_id",
                exp.alias_(aged, "t"),
                exp.alias_(exp.cast(exp.null(), "TIMESTAMP"), "latest"),
                exp.alias_(exp.cast(exp.null(), "BOOLEAN"), "matched"),
            )
            .from_(hits.subquery("hits"))
            .where(aged.copy() <= lit(spec.as_of))
        )
        rows = exp.union(events, ageing, distinct=False, copy=False)
    per_instant = (
        exp.select(
            "entity_id",
            "t",
            exp.alias_(exp.func("max", col("latest")), "latest"),
            exp.alias_(exp.LogicalOr(this=col("matched")), "matched"),
        )
        .from_(rows.subquery("last_rows", copy=False))
        .group_by("entity_id", "t", copy=False)
    )
    window = "over (partition by entity_id order by t rows unbounded preceding)"
    carried = exp.select(
        "entity_id",
        "t",
        exp.alias_(template(f"last_value(latest ignore nulls) {window}"), "latest"),
        exp.alias_(template(f"last_value(matched ignore nulls) {window}"), "matched"),
    ).from_(per_instant.subquery("per_instant", copy=False))
    at: exp.Expr = col("matched")
    after: exp.Expr = col("matched")
    if days is not None:
        edge = col("t") - exp.Interval(this=lit(str(days)), unit=exp.var("DAY"))
        at = exp.and_(at, col("latest") < edge)
        after = exp.and_(after.copy(), col("latest") <= edge.copy())
    return spec.row(
        carried.subquery("carried", copy=False),
        col("entity_id"),
        col("t"),
        {leaf.index: (at, after)},
    )


def regular_rows(spec: TimelineSpec, leaf: LeafColumns, node: Regularly) -> exp.Select:
    """How many of the last `periods` periods hold a matching event, at and right after
    each change point, compared with `at_least`: a sweep over the periods' intervals.

    Period i holds an event while t is in the union of the events' intervals for it
    (`compile.periods`): the islands of `[e, e + P]` over the entity's event instants (a
    new island where an instant is more than P after the previous one), shifted by i * P.
    Each island gives each period +1 at its start (from the start itself for period 0,
    `plus`; right after it for the others, `entering`) and -1 right after its end, so the
    running sum is the number of periods holding an event. From `since` on, events that
    left the last period before `since` change nothing there and are not read.
    """
    ordered = "over (partition by entity_id order by occurred_at"
    instants = (
        exp.select("entity_id", "occurred_at")
        .from_(leaf_hits(spec, node.recent).subquery("hits", copy=False))
        .group_by("entity_id", "occurred_at", copy=False)
    )
    period = exp.Interval(this=lit(str(node.period_days)), unit=exp.var("DAY"))
    joins = template(f"lag(occurred_at) {ordered})") >= col("occurred_at") - period
    starts = exp.Case(ifs=[exp.If(this=joins, true=lit(0))], default=lit(1))
    flagged = exp.select("entity_id", "occurred_at", exp.alias_(starts, "starts")).from_(
        instants.subquery("instants", copy=False)
    )
    island = template(f"sum(starts) {ordered} rows unbounded preceding)")
    numbered = exp.select("entity_id", "occurred_at", exp.alias_(island, "island")).from_(
        flagged.subquery("flagged", copy=False)
    )
    islands = (
        exp.select(
            "entity_id",
            exp.alias_(exp.func("min", col("occurred_at")), "first_at"),
            exp.alias_(exp.func("max", col("occurred_at")), "last_at"),
        )
        .from_(numbered.subquery("numbered", copy=False))
        .group_by("entity_id", "island", copy=False)
    )
    first = col("i").eq(lit(0))
    opening = (
        col("first_at") + col("opens"),
        exp.Case(ifs=[exp.If(this=first, true=lit(1))], default=lit(0)),
        exp.Case(ifs=[exp.If(this=first.copy(), true=lit(0))], default=lit(1)),
        lit(0),
    )
    closing = (col("last_at") + col("closes"), lit(0), lit(0), lit(1))
    steps = union(
        [
            exp.select(
                "entity_id",
                exp.alias_(t, "t"),
                exp.alias_(plus, "plus"),
                exp.alias_(entering, "entering"),
                exp.alias_(leaving, "leaving"),
            )
            .from_(islands.subquery("islands"))
            .join(period_shifts(node), join_type="cross")
            .where(t.copy() <= lit(spec.as_of))
            for t, plus, entering, leaving in (opening, closing)
        ],
        distinct=False,
    )
    return counts_holding(spec, leaf, swept(spec, steps), lambda n: n >= lit(node.at_least))
