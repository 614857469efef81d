"""Join times: members at `as_of` and when their current stretch began (SPEC 5).

The join time is the last break before `as_of`: the latest point where membership was
false, or the end of the latest false interval. A daily run takes the previous state's
join time for a member whose stretch began before its timeline starts.
"""

from __future__ import annotations

from sqlglot import exp

from segment_pipeline.compile.spec import TimelineSpec
from segment_pipeline.sql import col, lit, template


def members(spec: TimelineSpec, timeline: str, previous: exp.Expr | None = None) -> exp.Query:
    """Members at `as_of` with their join time: the end of the last break before it.

    A break is a point where membership is false (the stretch starts right after it,
    and the infimum is the point itself) or a false open interval (the stretch starts
    at the next point). No break at all means a member since its first point.

    With `previous` (restricted mode), each entity's first point is where its timeline
    starts, and no break after it means the stretch began earlier; the data before it
    has not changed since the previous snapshot (`previous`: its members and join times,
    same definition), so a member of it that joined at or before that point keeps that
    join time. Anyone else without a break gets a NULL join time: the caller evaluates
    those entities on their whole history.
    """
    next_point = template("lead(t) over (partition by entity_id order by t)")
    with_next = exp.select(
        "entity_id", "t", "m_at", "m_after", exp.alias_(next_point, "t_next")
    ).from_(timeline)
    last_break = template(
        "greatest(max(case when not m_at then t end), max(case when not m_after then t_next end))"
    )
    members = (
        exp.select(
            "entity_id",
            exp.alias_(last_break, "last_break"),
            exp.alias_(template("min(t)"), "earliest"),
        )
        .from_(with_next.subquery("with_next", copy=False))
        .group_by("entity_id", copy=False)
        .having(template("bool_or(t = :as_of and m_at)", as_of=lit(spec.as_of)), copy=False)
    )
    if previous is None:
        joined_at = template("coalesce(m.last_break, m.earliest)")
        return exp.select(col("entity_id", "m"), exp.alias_(joined_at, "joined_at")).from_(
            members.subquery("m", copy=False)
        )
    kept = template(
        "coalesce(m.last_break, case when p.joined_at <= m.earliest then p.joined_at end)"
    )
    moved = (
        exp.select(col("entity_id", "m"), exp.alias_(kept, "joined_at"))
        .from_(members.subquery("m", copy=False))
        .join(
            exp.alias_(previous, "p"),
            on=col("entity_id", "m").eq(col("entity_id", "p")),
            join_type="left",
        )
    )
    return exp.union(moved, unchanged(spec, previous), distinct=False, copy=False)


def unchanged(spec: TimelineSpec, previous: exp.Expr) -> exp.Select:
    """The previous state's members without a change point: members still, same join
    time (restricted mode only)."""
    return (
        exp.select("entity_id", "joined_at")
        .from_(previous.copy())
        .where(exp.not_(spec.is_changed(col("entity_id"))))
    )


def carried(spec: TimelineSpec, previous: exp.Expr) -> exp.Select:
    """Timeline rows for the unchanged members: true from `since` on, so that segments
    referencing this one see them (an unchanged non-member has no rows: false)."""
    return exp.select(
        "entity_id",
        exp.alias_(lit(spec.since), "t"),
        exp.alias_(exp.true(), "m_at"),
        exp.alias_(exp.true(), "m_after"),
    ).from_(exp.alias_(unchanged(spec, previous).subquery(), "unchanged"))


def dated(members: str, whole: exp.Query | None) -> exp.Select:
    """An incremental evaluation's members (relation `members`), each NULL join time
    taken from `whole`: the same members' join times on their whole history."""
    if whole is None:
        return exp.select("entity_id", "joined_at").from_(members)
    joined_at = exp.func("coalesce", col("joined_at", "m"), col("joined_at", "w"))
    return (
        exp.select(col("entity_id", "m"), exp.alias_(joined_at, "joined_at"))
        .from_(exp.alias_(exp.to_table(members), "m"))
        .join(
            whole.subquery("w", copy=False),
            on=col("entity_id", "m").eq(col("entity_id", "w")),
            join_type="left",
        )
    )
