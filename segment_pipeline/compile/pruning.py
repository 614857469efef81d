"""Incremental pruning: which entities a daily run evaluates again from `since` on.

Membership only changes at change points, so an entity without one from `since` to
`as_of` keeps the previous state's membership and join time; of those whose only change
points are events, the ones the rest of their data rules out are left out too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlglot import exp

from segment_pipeline.compile.ages import age_holds, edge_points
from segment_pipeline.compile.event_pass import hit_column, read_range, within_ranges
from segment_pipeline.compile.periods import changing_ranges
from segment_pipeline.compile.relations import (
    hits_table,
    moved_table,
    state_members_table,
    versions_table,
)
from segment_pipeline.compile.spec import EXISTS, TimelineSpec, company_holds, holds
from segment_pipeline.compile.splits import in_split
from segment_pipeline.compile.visible import landed_rows_since
from segment_pipeline.definitions.condition_parts import Window
from segment_pipeline.definitions.conditions import (
    Attribute,
    AttributeAge,
    CompanyAttribute,
    InSegment,
    Split,
    event_filters,
)
from segment_pipeline.definitions.event_conditions import (
    EventCondition,
    EventSequence,
    Regularly,
    change_window,
)
from segment_pipeline.sql import col, lit, template, union


def changed(
    spec: TimelineSpec, entities: Mapping[str, str], *, prune_events: bool = True
) -> exp.Query:
    """The entities with a change point in [`since`, `as_of`] (restricted mode only).

    Membership only changes at change points, so any other entity is a member at
    `as_of` exactly when it was one in the previous state, with the same join time.
    A change point is one of the entity's versions, an event entering or leaving a
    leaf's window (for a sequence: its last step's events, its first step's leaving the
    window), a version of its company (contact segments' `company` leaves) or a
    change of membership in a referenced segment (`moved`; through the contact's
    company when the referenced segment is of companies).

    Entities whose only change points are events are left out when the rest of their
    data rules membership out (`may_hold`): most events are of entities that cannot be
    members anyway. Everything else they read is the same from `since` to `as_of`, so
    they are non-members all along, in the previous state too: they are unchanged.
    `prune_events=False` keeps them, for a caller that prunes more widely itself.
    """
    assert spec.since is not None
    since = lit(spec.since)
    entity = spec.segment.entity
    own = versions_table(entity, spec.prefix)
    parts: list[exp.Query] = [exp.select("entity_id").from_(own).where(col("valid_from") >= since)]
    event_parts: list[exp.Select] = []
    for _, node in spec.leaves:
        if isinstance(node, CompanyAttribute):
            moved = (
                exp.select("entity_id")
                .from_(versions_table("company", spec.prefix))
                .where(col("valid_from") >= since.copy())
            )
            parts.append(_contacts_of(spec, moved))
        elif isinstance(node, InSegment):
            ref_moved = exp.select("entity_id").from_(moved_table(node.segment, spec.prefix))
            same = entities[node.segment] == entity
            parts.append(ref_moved if same else _contacts_of(spec, ref_moved))
        elif isinstance(node, AttributeAge):
            edges = edge_points(node, exp.to_table(own), spec.as_of, spec.since)
            parts.append(exp.select("entity_id").from_(edges.subquery("edges", copy=False)))
        elif isinstance(node, EventSequence):
            # A chain starts to hold at its last step's event and stops when its first
            # step's event leaves the window.
            first, *_, last = node.filters
            event_parts.append(_event_changes(spec, first, node.within))
            event_parts.append(_event_changes(spec, last, Window()))
        elif isinstance(node, Regularly):
            event_parts.append(_period_changes(spec, node))
        elif not isinstance(node, Attribute | Split):
            # Any other event leaf's first filter holds all the events it reads.
            widest = event_filters(node)[0]
            event_parts.append(_event_changes(spec, widest, change_window(node)))
    if entity == "company" and event_parts:
        event_parts.append(_reattributed(spec))
    if event_parts:
        events = union(event_parts, distinct=True)
        prune = prune_events and reads_more_than_events(spec)
        parts.append(may_hold(spec, events, entities) if prune else events)
    return union(parts, distinct=True)


def reads_more_than_events(spec: TimelineSpec) -> bool:
    """Whether any leaf reads something other than events (what `may_hold` can use)."""
    return any(not event_filters(node) for _, node in spec.leaves)


def may_hold(spec: TimelineSpec, candidates: exp.Query, entities: Mapping[str, str]) -> exp.Select:
    """Those of `candidates` whose condition is not false at `as_of` whatever their
    event counts: by three-valued logic, each event leaf unknown, the other leaves
    as their current version, company and referenced memberships say (`state_members_table`
    of the referenced segments must exist)."""

    def known_value(index: int) -> exp.Expr:
        if index == EXISTS:
            return col("is_present")
        node = spec.leaves[index - 1][1]
        if isinstance(node, Attribute):
            return holds(node)
        if isinstance(node, Split):
            return in_split(node, col("entity_id"))
        if isinstance(node, AttributeAge):
            return age_holds(node, lit(spec.as_of), after=False)
        if isinstance(node, CompanyAttribute):
            companies = spec.current("company").where(company_holds(node))
            return exp.func("coalesce", col("company_id").isin(query=companies), exp.false())
        if isinstance(node, InSegment):
            same = entities[node.segment] == spec.segment.entity
            owner = "entity_id" if same else "company_id"
            members = exp.select("entity_id").from_(state_members_table(node.segment))
            return exp.func("coalesce", col(owner).isin(query=members), exp.false())
        return exp.null()

    condition = spec.condition(known_value)
    return (
        spec.current(spec.segment.entity)
        .where(col("entity_id").isin(query=candidates), copy=False)
        .where(exp.func("coalesce", condition, exp.true()), copy=False)
    )


def moved(timeline: str) -> exp.Select:
    """The entities whose membership is not constant over their (restricted) timeline:
    the change points a segment that references this one gets from it. A change point
    that leaves membership as it was changes nothing downstream."""
    constant = template("bool_and(m_at = m_after) and bool_or(m_at) = bool_and(m_at)")
    return (
        exp.select("entity_id")
        .from_(timeline)
        .group_by("entity_id", copy=False)
        .having(exp.not_(exp.paren(constant)), copy=False)
    )


def _contacts_of(spec: TimelineSpec, companies: exp.Select) -> exp.Select:
    """Contacts whose company, in a version valid from `since` on, is one of these."""
    return (
        exp.select("entity_id")
        .from_(versions_table("contact", spec.prefix))
        .where(col("valid_to") > lit(spec.since))
        .where(col("company_id").isin(query=companies), copy=False)
    )


def _reattributed(spec: TimelineSpec) -> exp.Select:
    """Companies that may have gained or lost a contact's events from `since` on.

    A contact row stamped from `since` on (new, or replacing one with the same stamp)
    moves the contact's later events to another company, or to none: the companies
    before (the version it ends, the row it replaces) and after all count as changed.
    """
    assert spec.since is not None
    snapshot_date = (spec.as_of - timedelta(days=1)).date()
    rows = landed_rows_since("contact", snapshot_date, spec.since)
    moved = exp.select("contact_id").from_(rows.subquery("moved", copy=False))
    ended = (
        exp.select("company_id")
        .from_(versions_table("contact", spec.prefix))
        .where(col("valid_to") >= lit(spec.since))
        .where(col("entity_id").isin(query=moved), copy=False)
    )
    stamped = exp.select("company_id").from_(rows.subquery("stamped"))
    companies = exp.union(stamped, ended, distinct=True, copy=False)
    return (
        exp.select(exp.alias_(col("company_id"), "entity_id"))
        .from_(companies.subquery("companies", copy=False))
        .where(col("company_id").is_(exp.null()).not_())
    )


def _event_changes(spec: TimelineSpec, node: EventCondition, window: Window) -> exp.Select:
    """Owners of an event filter's events entering (or leaving) a leaf's window from `since`
    on: the events and window edges that are the leaf's change points from then on."""
    owner = "contact_id" if spec.segment.entity == "contact" else "company_id"
    occurred_at = col("occurred_at")
    moves: exp.Expr = occurred_at >= lit(spec.since)
    if window.last_days is not None:
        ages = occurred_at.copy() + exp.Interval(
            this=lit(str(window.last_days)), unit=exp.var("DAY")
        )
        moves = exp.or_(moves, ages <= lit(spec.as_of))
    hits = (
        exp.select(exp.alias_(col(owner), "entity_id"))
        .from_(hits_table(spec.prefix))
        .where(col(hit_column(node)))
        .where(col(owner).is_(exp.null()).not_())
    )
    for condition in read_range(window, spec.since).conditions():
        hits = hits.where(condition)
    return hits.where(moves)


def _period_changes(spec: TimelineSpec, node: Regularly) -> exp.Select:
    """Owners of a `regularly` leaf's events with a change point `e + j * P` from `since`
    to `as_of`: an event entering a period, moving to the next, leaving the last."""
    assert spec.since is not None
    owner = "contact_id" if spec.segment.entity == "contact" else "company_id"
    ranges = changing_ranges(node, spec.since, spec.as_of)
    return (
        exp.select(exp.alias_(col(owner), "entity_id"))
        .from_(hits_table(spec.prefix))
        .where(within_ranges(col(hit_column(node.recent)), ranges))
        .where(col(owner).is_(exp.null()).not_())
    )
