"""What every event-based leaf shares: its flagged events (`leaf_hits`), the instant one
leaves a window, and a count over them as a step function whose change points are the
events' instants and the instants they leave the window."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlglot import exp

from segment_pipeline.compile.event_pass import hit_column, read_range
from segment_pipeline.compile.relations import hits_table
from segment_pipeline.compile.spec import (
    LeafColumns,
    TimelineSpec,
    count_holds,
)
from segment_pipeline.definitions.condition_parts import Count, Window
from segment_pipeline.definitions.event_conditions import EventCondition
from segment_pipeline.sql import col, lit, template


def leaf_hits(spec: TimelineSpec, node: EventCondition, *extra: exp.Expr) -> exp.Select:
    """The events an event filter reads for the timeline's entities, as `entity_id`,
    `occurred_at` and the `extra` columns of `event_hits`: those of its name matching its
    `where`, in its window, from where the timeline needs them."""
    return leaf_hits_where(spec, col(hit_column(node)), node.within, *extra)


def leaf_hits_where(
    spec: TimelineSpec, matches: exp.Expr, window: Window, *extra: exp.Expr
) -> exp.Select:
    """`leaf_hits` of the events `matches` (a test of `event_hits` flags) holds for, read
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


def leaves_window_at(days: int, instant: exp.Expr | None = None) -> exp.Expr:
    """The instant an event (at `instant`, else `occurred_at`) leaves a `last_days` window:
    `occurred_at + N days`."""
    start = col("occurred_at") if instant is None else instant
    return start + exp.Interval(this=lit(str(days)), unit=exp.var("DAY"))


def before_since(spec: TimelineSpec) -> exp.Expr:
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


def count_rows(
    spec: TimelineSpec, leaf: LeafColumns, hits: exp.Select, leaves: exp.Expr | None, count: Count
) -> exp.Select:
    """A leaf that is a count of `hits` over time (`_counted`) compared with `count`, with
    the count's columns where the leaf has them (`TimelineSpec.is_event`)."""
    counted = _counted(spec, hits, leaves)
    return counts_holding(spec, leaf, counted, lambda n: count_holds(count, n))


def counts_holding(
    spec: TimelineSpec,
    leaf: LeafColumns,
    counted: exp.Select,
    holds: Callable[[exp.Expr], exp.Expr],
) -> exp.Select:
    """A leaf that is a count over time (`swept`'s rows): whether it `holds` at and right
    after each change point, with the count's columns."""
    n_at = col("n_after") + col("leaving") - col("entering")
    return spec.row(
        counted.subquery("counted", copy=False),
        col("entity_id"),
        col("t"),
        {leaf.index: (holds(n_at), holds(col("n_after")))},
        counts={leaf.index: (n_at.copy(), col("n_after"))},
    )


def _counted(spec: TimelineSpec, hits: exp.Select, leaves: exp.Expr | None) -> exp.Select:
    """A count over time of the `hits` rows (`entity_id`, `occurred_at`): +1 at each row's
    `occurred_at`, -1 right after its `leaves` instant (an expression over its columns; None:
    it never leaves), as `swept`'s rows. From `since` on, a row that left before `since`
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
    return swept(spec, steps)


#: What a step of a count does at its instant `t` (`swept`).
STEPS = ("plus", "entering", "leaving")


def swept(spec: TimelineSpec, steps: exp.Query) -> exp.Select:
    """A count as a step function of `steps` (`entity_id`, `t`, `plus`, `entering`,
    `leaving`): `plus` counts from `t` on, `entering` only right after `t`, `leaving` up to
    `t` and not after; as `(entity_id, t, n_after, entering, leaving)` per change point
    (the count at `t` is `n_after + leaving - entering`).

    From `since` on, the steps before `since` are summed into one point just before it,
    which carries the count at `since` into the timeline.
    """
    if spec.since is not None:
        steps = exp.select("entity_id", exp.alias_(before_since(spec), "t"), *STEPS).from_(
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
