"""Leaf rows: each leaf's change points `(entity_id, t, at_i, after_i)` for the grid.

The entity's own versions give existence and attribute values; a company attribute or a
company segment is mapped onto contacts through the contact's company over time; a
referenced segment of the same entity is its timeline; an event leaf is a count as a step
function over the flagged events (`event_pass`), a sequence one over the events that end a
chain (`sequences`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta

from sqlglot import exp

from segment_pipeline.compile.ages import age_holds, edge_points
from segment_pipeline.compile.event_pass import hit_column, read_range, value_column
from segment_pipeline.compile.periods import period_shifts
from segment_pipeline.compile.relations import carried_table, hits_table, timeline_table
from segment_pipeline.compile.sequences import chain_ends, step_column
from segment_pipeline.compile.spec import (
    EXISTS,
    LeafColumns,
    TimelineSpec,
    bounds_hold,
    company_holds,
    count_holds,
    holds,
)
from segment_pipeline.compile.splits import in_split
from segment_pipeline.compile.visible import FOREVER
from segment_pipeline.definitions.conditions import (
    Aggregate,
    Attribute,
    AttributeAge,
    CompanyAttribute,
    Count,
    EventCondition,
    EventSequence,
    FirstEvent,
    InSegment,
    LastEvent,
    Leaf,
    Regularly,
    Restarted,
    Split,
    Window,
    ever,
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


def _hits(spec: TimelineSpec, node: EventCondition, *extra: exp.Expr) -> exp.Select:
    """The events an event filter reads for the timeline's entities, as `entity_id`,
    `occurred_at` and the `extra` columns of `event_hits`: those of its name matching its
    `where`, in its window, from where the timeline needs them."""
    return _hits_where(spec, col(hit_column(node)), node.within, *extra)


def _hits_where(
    spec: TimelineSpec, matches: exp.Expr, window: Window, *extra: exp.Expr
) -> exp.Select:
    """`_hits` of the events `matches` (a test of `event_hits` flags) holds for, read
    for `window`."""
    owner = "contact_id" if spec.segment.entity == "contact" else "company_id"
    hits = (
        exp.select(exp.alias_(col(owner), "entity_id"), "occurred_at", *extra)
        .from_(hits_table(spec.prefix))
        .where(matches)
        .where(col(owner).is_(exp.null()).not_())
    )
    for condition in read_range(window, spec.since).conditions():
        hits = hits.where(condition)
    if spec.since is not None:
        hits = hits.where(spec.in_scope(col(owner)))
    return hits


def _aged(days: int, instant: exp.Expr | None = None) -> exp.Expr:
    """The instant an event (at `instant`, else `occurred_at`) leaves a `last_days` window:
    `occurred_at + N days`."""
    start = col("occurred_at") if instant is None else instant
    return start + exp.Interval(this=lit(str(days)), unit=exp.var("DAY"))


def _before_since(spec: TimelineSpec) -> exp.Expr:
    """`t`, or just before `since` for a change point before it: the value there is what
    the timeline carries into `since`."""
    if spec.since is None:
        return col("t")
    return exp.Case(
        ifs=[
            exp.If(
                this=col("t") < lit(spec.since),
                true=lit(spec.since - timedelta(microseconds=1)),
            )
        ],
        default=col("t"),
    )


def _event_rows(spec: TimelineSpec, leaf: LeafColumns, node: EventCondition) -> exp.Select:
    """Counts as a step function: +1 at an event, -1 right after it leaves the window."""
    days = node.within.last_days
    leaves = None if days is None else _aged(days)
    return _count_rows(spec, leaf, _hits(spec, node), leaves, node.count)


def _count_rows(
    spec: TimelineSpec, leaf: LeafColumns, hits: exp.Select, leaves: exp.Expr | None, count: Count
) -> exp.Select:
    """A leaf that is a count of `hits` over time (`_counted`) compared with `count`, with
    the count's columns where the leaf has them (`TimelineSpec.is_event`)."""
    counted = _counted(spec, hits, leaves)
    return _counts_holding(spec, leaf, counted, lambda n: count_holds(count, n))


def _counts_holding(
    spec: TimelineSpec,
    leaf: LeafColumns,
    counted: exp.Select,
    holds: Callable[[exp.Expr], exp.Expr],
) -> exp.Select:
    """A leaf that is a count over time (`_swept`'s rows): whether it `holds` at and right
    after each change point, with the count's columns."""
    n_at = col("n_after") + col("leaving") - col("entering")
    return spec.row(
        counted.subquery("counted", copy=False),
        col("entity_id"),
        col("t"),
        {leaf.index: (holds(n_at), holds(col("n_after")))},
        counts={leaf.index: (n_at.copy(), col("n_after"))},
    )


def _sequence_rows(spec: TimelineSpec, leaf: LeafColumns, node: EventSequence) -> exp.Select:
    """Chains as an event count: +1 at the event ending a chain, -1 right after the chain's
    first event (the latest start of a chain ending there, `sequences.chain_ends`) leaves a
    `last_days` window; the leaf holds while the count is at least 1.

    From `since` on, the events read are those in the window at `since` or later, which
    holds every chain still in it then: a chain whose latest start is older is out before
    `since` whether it is found or not.
    """
    flags = {step_column(i): col(hit_column(step)) for i, step in enumerate(node.filters)}
    hits = _hits_where(
        spec,
        exp.or_(*(flag.copy() for flag in flags.values())),
        node.within,
        *(exp.alias_(flag, name) for name, flag in flags.items()),
    )
    ends = chain_ends(hits, len(node.steps), node.within_days)
    days = node.within.last_days
    leaves = None
    if days is not None:
        leaves = _aged(days, col("start"))
        # A chain longer than the window is never inside it.
        ends = (
            exp.select("*")
            .from_(ends.subquery("chain_ends", copy=False))
            .where(col("occurred_at") <= leaves.copy(), copy=False)
        )
    return _count_rows(spec, leaf, ends, leaves, Count.at_least(1))


def _counted(spec: TimelineSpec, hits: exp.Select, leaves: exp.Expr | None) -> exp.Select:
    """A count over time of the `hits` rows (`entity_id`, `occurred_at`): +1 at each row's
    `occurred_at`, -1 right after its `leaves` instant (an expression over its columns; None:
    it never leaves), as `_swept`'s rows. From `since` on, a row that left before `since`
    changes nothing and is not read.
    """
    steps: exp.Query = exp.select(
        "entity_id",
        exp.alias_(col("occurred_at"), "t"),
        exp.alias_(lit(1), "plus"),
        exp.alias_(lit(0), "entering"),
        exp.alias_(lit(0), "leaving"),
    ).from_(hits.subquery("hits", copy=False))
    if leaves is not None:
        ageing = (
            exp.select(
                "entity_id",
                exp.alias_(leaves, "t"),
                exp.alias_(lit(0), "plus"),
                exp.alias_(lit(0), "entering"),
                exp.alias_(lit(1), "leaving"),
            )
            .from_(hits.subquery("hits"))
            .where(leaves.copy() <= lit(spec.as_of))
        )
        steps = exp.union(steps, ageing, distinct=False, copy=False)
    return _swept(spec, steps)


#: What a step of a count does at its instant `t` (`_swept`).
STEPS = ("plus", "entering", "leaving")


def _swept(spec: TimelineSpec, steps: exp.Query) -> exp.Select:
    """A count as a step function of `steps` (`entity_id`, `t`, `plus`, `entering`,
    `leaving`): `plus` counts from `t` on, `entering` only right after `t`, `leaving` up to
    `t` and not after; as `(entity_id, t, n_after, entering, leaving)` per change point
    (the count at `t` is `n_after + leaving - entering`).

    From `since` on, the steps before `since` are summed into one point just before it,
    which carries the count at `since` into the timeline.
    """
    if spec.since is not None:
        steps = exp.select("entity_id", exp.alias_(_before_since(spec), "t"), *STEPS).from_(
            steps.subquery("early_steps", copy=False)
        )
    sums = [exp.alias_(exp.func("sum", col(name)), name) for name in STEPS]
    per_instant = (
        exp.select("entity_id", "t", *sums)
        .from_(steps.subquery("steps", copy=False))
        .group_by("entity_id", "t", copy=False)
    )
    running = template(
        "sum(plus + entering - leaving) over (partition by entity_id order by t "
        "rows unbounded preceding)"
    )
    return exp.select(
        "entity_id", "t", exp.alias_(running, "n_after"), "entering", "leaving"
    ).from_(per_instant.subquery("per_instant", copy=False))


def _restart_rows(spec: TimelineSpec, leaf: LeafColumns, node: Restarted) -> exp.Select:
    """Restarts counted in the leaf's window like events (held from one on).

    A restart is an instant of the entity's matching events whose previous instant (the
    events of one instant are one: `lag` over distinct instants) is at least `gap_days`
    earlier; the first instant has none and is no restart. The previous event can be of any
    age, so the whole history of the timeline's entities is read; only the restarts are
    narrowed to the window (from `since` on, those still in it at `since` or later).
    """
    hits = _hits(spec, ever(node.events))
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
    leaves = None if days is None else _aged(days)
    return _count_rows(spec, leaf, restarts, leaves, Count.at_least(1))


def _aggregate_rows(spec: TimelineSpec, leaf: LeafColumns, node: Aggregate) -> exp.Select:
    """The aggregate at each instant its set of events changes, and right after it.

    The set changes when an event happens and right after one leaves a `last_days` window
    (`occurred_at + N days`): at that instant the event still counts, just after it no
    longer does. At each such point the aggregate is taken over the events in the window
    then (a join on the entity's events, not a running total: min, max and distinct counts
    do not subtract). From `since` on, the points before it are one point just before it.
    """
    window = node.events.within
    hits = _hits(spec, node.events, exp.alias_(col(value_column(node)), "v"))
    instants: exp.Query = exp.select("entity_id", exp.alias_(col("occurred_at"), "t")).from_(
        hits.subquery("hits")
    )
    if window.last_days is not None:
        aged = _aged(window.last_days)
        ageing = (
            exp.select("entity_id", exp.alias_(aged, "t"))
            .from_(hits.subquery("hits"))
            .where(aged.copy() <= lit(spec.as_of))
        )
        instants = exp.union(instants, ageing, distinct=False, copy=False)
    points = (
        exp.select("entity_id", exp.alias_(_before_since(spec), "t"))
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


def _first_rows(spec: TimelineSpec, leaf: LeafColumns, node: FirstEvent) -> exp.Select:
    """The first event (of all time) makes the leaf true if it is inside the window; a
    `last_days` window lets it go right after `first + N days`."""
    hits = _hits(spec, ever(node.events))
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
        aged = _aged(window.last_days)
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


def _last_rows(spec: TimelineSpec, leaf: LeafColumns, node: LastEvent) -> exp.Select:
    """The latest event so far, carried from each event to the next: whether it matches
    (any of the events at that instant), and whether it is older than N days, which turns
    true right after `latest + N days`."""
    matched = col(hit_column(node.matching)) if node.matches is not None else exp.true()
    hits = _hits(spec, ever(node.events), exp.alias_(matched, "matched"))
    events = exp.select(
        "entity_id",
        exp.alias_(col("occurred_at"), "t"),
        exp.alias_(col("occurred_at"), "latest"),
        "matched",
    ).from_(hits.subquery("hits"))
    rows: exp.Query = events
    days = node.older_than_days
    if days is not None:
        aged = _aged(days)
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


def _regular_rows(spec: TimelineSpec, leaf: LeafColumns, node: Regularly) -> exp.Select:
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
        .from_(_hits(spec, node.recent).subquery("hits", copy=False))
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
    return _counts_holding(spec, leaf, _swept(spec, steps), lambda n: n >= lit(node.at_least))


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


def _aggregate(node: Aggregate, value: exp.Expr) -> exp.Expr:
    """The leaf's aggregate of `value` over a group; 0 for the sum of no values."""
    if node.function == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[value]))
    function = {"sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}[node.function]
    aggregate = function(this=value)
    return exp.func("coalesce", aggregate, lit(0.0)) if node.function == "sum" else aggregate


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
        return _aggregate_rows(spec, leaf, node)
    if isinstance(node, FirstEvent):
        return _first_rows(spec, leaf, node)
    if isinstance(node, AttributeAge):
        return _age_rows(spec, leaf, node)
    if isinstance(node, LastEvent):
        return _last_rows(spec, leaf, node)
    if isinstance(node, EventSequence):
        return _sequence_rows(spec, leaf, node)
    if isinstance(node, Restarted):
        return _restart_rows(spec, leaf, node)
    if isinstance(node, Regularly):
        return _regular_rows(spec, leaf, node)
    return _event_rows(spec, leaf, node)
