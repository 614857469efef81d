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

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlglot import exp

from segment_pipeline.compile.predicates import compile_predicate
from segment_pipeline.definitions.conditions import (
    AllOf,
    AnyOf,
    Attribute,
    CompanyAttribute,
    Condition,
    Count,
    EventCondition,
    InSegment,
    Leaf,
    Not,
    Window,
    iter_leaves,
)
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.evaluate.visible import FOREVER, landed_rows_since, with_companies
from segment_pipeline.sql import col, lit, template, union

#: Leaf 0 of every segment: the entity exists (its version is not a deletion).
EXISTS = 0


def versions_table(entity: str, prefix: str = "") -> str:
    """The run's temp table of visible versions of an entity.

    `prefix` names another set of the run's tables (e.g. the same data for a few entities).
    """
    return f"{prefix}visible_{entity}_versions"


def timeline_table(segment: str, prefix: str = "") -> str:
    """The run's temp table holding a segment's timeline, for segments that reference it."""
    return f"{prefix}timeline__{segment}"


def changed_table(segment: str, prefix: str = "") -> str:
    """The run's temp table of the entities whose membership may change from `since` on."""
    return f"{prefix}changed__{segment}"


def members_table(segment: str, prefix: str = "") -> str:
    """The run's temp table of a segment's members at `as_of` and their join times."""
    return f"{prefix}members__{segment}"


def moved_table(segment: str, prefix: str = "") -> str:
    """The run's temp table of the entities whose membership changes from `since` on."""
    return f"{prefix}moved__{segment}"


def hits_table(prefix: str = "") -> str:
    """The run's temp table of visible events flagged by `event_hits`."""
    return f"{prefix}event_hits"


def hit_column(leaf: EventCondition) -> str:
    """The `event_hits` column flagging events that match a leaf's name and `where`.

    Identical event filters across segments share one column, so the events are scanned
    once per run whatever the number of segments.
    """
    where = leaf.where.sql if leaf.where is not None else ""
    return "hit_" + hashlib.sha256(f"{leaf.event}\n{where}".encode()).hexdigest()[:12]


def event_hits(reads: list[EventRead], events: exp.Select, contact_versions: str) -> exp.Select:
    """One pass over the visible events: a boolean column per distinct event filter.

    `events` are visible events before attribution (`visible_event_rows`). Only the events
    some read needs (its filter, in its time range) are kept, and only those a company
    segment reads are attributed to a company (`with_companies`), the costly part.
    A filter's `where` is evaluated only on events of its name (a CASE, not an AND that
    the engine may evaluate in full): reading JSON properties is costly too. The events
    are first narrowed by name alone, the test the engine makes cheapest, and by time once
    flagged, each filter's reads' ranges merged.

    The rows are stored by event name (its rank, a cheaper sort key than the text) then
    time: every timeline reads one filter over one time range, and the engine's min/max
    per block of rows (zonemaps) then skips the blocks of other names and times.
    """
    flags: dict[str, exp.Expression] = {}
    ranges: dict[str, list[TimeRange]] = {}
    for read in reads:
        leaf = read.leaf
        matches: exp.Expression = exp.true()
        if leaf.where is not None:
            matches = exp.func("coalesce", compile_predicate(leaf.where), exp.false())
        flags[hit_column(leaf)] = exp.Case(
            ifs=[exp.If(this=col("event_name").eq(lit(leaf.event)), true=matches)],
            default=exp.false(),
        )
        ranges.setdefault(hit_column(leaf), []).append(read_range(leaf.within, read.since))
    names = sorted({read.leaf.event for read in reads})
    events = events.where(
        col("event_name").isin(*(lit(name) for name in names)) if names else exp.false()
    )
    flagged = exp.select(
        "contact_id",
        "company_id",
        "event_name",
        "occurred_at",
        *(exp.alias_(flag, name, copy=False) for name, flag in flags.items()),
    ).from_(events.subquery("visible_events", copy=False))
    needed = [within_ranges(col(flag), flag_ranges) for flag, flag_ranges in ranges.items()]
    kept = (
        exp.select("*")
        .from_(flagged.subquery("flagged", copy=False))
        .where(exp.or_(*needed) if needed else exp.false(), copy=False)
    )
    company_reads = [read for read in reads if read.entity == "company"]
    columns = ["contact_id", "company_id", "event_name", "occurred_at", *flags]
    attributed = with_companies(kept, columns, contact_versions, events_read(company_reads))
    # The timelines read the flags, not the name.
    hits = exp.select("contact_id", "company_id", "occurred_at", *flags).from_(
        attributed.subquery("attributed", copy=False)
    )
    if not names:
        return hits
    rank = exp.Case(
        ifs=[
            exp.If(this=col("event_name").eq(lit(name)), true=lit(i))
            for i, name in enumerate(names)
        ]
    )
    return hits.order_by(rank, "occurred_at", copy=False)


@dataclass(frozen=True)
class TimeRange:
    """The instants `start <= occurred_at < end`; None leaves that side open."""

    start: datetime | None = None
    end: datetime | None = None

    def conditions(self) -> list[exp.Expression]:
        """The range as conditions on `occurred_at` (none for all time)."""
        conditions: list[exp.Expression] = []
        if self.start is not None:
            conditions.append(col("occurred_at") >= lit(self.start))
        if self.end is not None:
            conditions.append(col("occurred_at") < lit(self.end))
        return conditions


def read_range(window: Window, since: datetime | None) -> TimeRange:
    """The `occurred_at` range of the events a leaf's timeline reads.

    A `from`/`to` window reads its days. From `since` on, a `last_days` window reads the
    events still inside it at `since` or later: an event that left it before `since` is
    counted and uncounted before the timeline starts.
    """
    start = end = None
    if window.start is not None and window.end is not None:
        start = datetime.combine(window.start, time())
        end = datetime.combine(window.end + timedelta(days=1), time())
    if since is not None and window.last_days is not None:
        earliest = since - timedelta(days=window.last_days)
        start = earliest if start is None else max(start, earliest)
    return TimeRange(start, end)


def within_ranges(condition: exp.Expression, ranges: list[TimeRange]) -> exp.Expression:
    """`condition`, for events whose `occurred_at` is in any of the ranges (merged where
    they overlap or touch). The time test comes first: the engine evaluates an AND from
    left to right, and comparing timestamps is cheaper than most conditions."""
    merged: list[TimeRange] = []
    for current in sorted(ranges, key=lambda r: (r.start is not None, r.start or datetime.min)):
        last = merged[-1] if merged else None
        if last is None or (
            last.end is not None and current.start is not None and current.start > last.end
        ):
            merged.append(current)
        else:
            ends = None if last.end is None or current.end is None else max(last.end, current.end)
            merged[-1] = TimeRange(last.start, ends)
    terms = [exp.and_(*conditions) for r in merged if (conditions := r.conditions())]
    if len(terms) < len(merged):
        return condition
    return exp.and_(exp.paren(exp.or_(*terms)) if len(terms) > 1 else terms[0], condition)


@dataclass(frozen=True)
class EventRead:
    """The events one event leaf of a segment reads: what `event_hits` must hold for it."""

    leaf: EventCondition
    entity: str
    since: datetime | None = None


def events_read(reads: list[EventRead]) -> exp.Expression:
    """The events any of the reads needs, over the events' own columns: one term per
    event name, with the time ranges its reads need, merged."""
    ranges: dict[str, list[TimeRange]] = {}
    for read in reads:
        ranges.setdefault(read.leaf.event, []).append(read_range(read.leaf.within, read.since))
    terms = [
        within_ranges(col("event_name").eq(lit(name)), name_ranges)
        for name, name_ranges in ranges.items()
    ]
    return exp.or_(*terms) if terms else exp.false()


def _holds(leaf: Attribute | CompanyAttribute) -> exp.Expression:
    """An attribute predicate on a version's columns; a missing value fails it."""
    return exp.func("coalesce", compile_predicate(leaf.predicate), exp.false())


def _company_holds(leaf: CompanyAttribute) -> exp.Expression:
    """A company predicate on a company version's columns: false for a deleted company."""
    return exp.and_(col("is_present"), _holds(leaf))


def _count_holds(count: Count, n: exp.Expression) -> exp.Expression:
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


class TimelineCompiler:
    """Builds the SQL of one segment's timeline, members and leaf values at `as_of`.

    With `since`, the timeline holds only the points from `since` to `as_of` (values at
    `since` carried in exactly from what came before), and only for the entities of `scope`
    (a query of entity ids), which the caller picks among those with a change point in that
    span (`changed`, kept in `changed_table`): the daily run reads window-sized slices of
    history for the entities that moved, and takes everything else from the previous
    snapshot's state (see `members`). Timelines of one segment with different `since` and
    disjoint scopes can be stacked into one table. `prefix` names the set of run tables it
    reads and writes.
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

    def _versions(self, entity: str, alias: str) -> exp.Expression:
        """Versions of an entity; from `since` on, only those still valid at `since` or later,
        and of the segment's own entity only those of changed entities."""
        table = exp.to_table(versions_table(entity, self.prefix))
        if self.since is None:
            return exp.alias_(table, alias)
        current = exp.select("*").from_(table).where(col("valid_to") > lit(self.since))
        if entity == self.segment.entity:
            current = current.where(self._in_scope(col("entity_id")))
        return exp.alias_(current.subquery(), alias)

    def _in_scope(self, entity_id: exp.Expression) -> exp.Expression:
        """Whether an entity is one this (restricted) timeline evaluates."""
        assert self.scope is not None
        return entity_id.isin(query=self.scope.copy())

    def _is_changed(self, entity_id: exp.Expression) -> exp.Expression:
        """Whether an entity has a change point from `since` on (any timeline evaluates it)."""
        changed = exp.select("entity_id").from_(changed_table(self.segment.name, self.prefix))
        return entity_id.isin(query=changed)

    # -- entities with a change point from `since` on --------------------------------------

    def changed(self, entities: dict[str, str], *, prune_events: bool = True) -> exp.Query:
        """The entities with a change point in [`since`, `as_of`] (restricted mode only).

        Membership only changes at change points, so any other entity is a member at
        `as_of` exactly when it was one in the previous state, with the same join time.
        A change point is one of the entity's versions, an event entering or leaving a
        leaf's window, a version of its company (contact segments' `company` leaves) or a
        change of membership in a referenced segment (`moved`; through the contact's
        company when the referenced segment is of companies).

        Entities whose only change points are events are left out when the rest of their
        data rules membership out (`may_hold`): most events are of entities that cannot be
        members anyway. Everything else they read is the same from `since` to `as_of`, so
        they are non-members all along, in the previous state too: they are unchanged.
        `prune_events=False` keeps them, for a caller that prunes more widely itself.
        """
        assert self.since is not None
        since = lit(self.since)
        entity = self.segment.entity
        own = versions_table(entity, self.prefix)
        parts: list[exp.Select] = [
            exp.select("entity_id").from_(own).where(col("valid_from") >= since)
        ]
        event_parts: list[exp.Select] = []
        for _, node in self.leaves:
            if isinstance(node, CompanyAttribute):
                moved = (
                    exp.select("entity_id")
                    .from_(versions_table("company", self.prefix))
                    .where(col("valid_from") >= since.copy())
                )
                parts.append(self._contacts_of(moved))
            elif isinstance(node, InSegment):
                ref_moved = exp.select("entity_id").from_(moved_table(node.segment, self.prefix))
                same = entities[node.segment] == entity
                parts.append(ref_moved if same else self._contacts_of(ref_moved))
            elif isinstance(node, EventCondition):
                event_parts.append(self._event_changes(node))
        if entity == "company" and event_parts:
            event_parts.append(self._reattributed())
        if event_parts:
            events = union(event_parts, distinct=True)
            prune = prune_events and self.reads_more_than_events
            parts.append(self.may_hold(events, entities) if prune else events)
        return union(parts, distinct=True)

    @property
    def reads_more_than_events(self) -> bool:
        """Whether any leaf reads something other than events (what `may_hold` can use)."""
        return any(not isinstance(node, EventCondition) for _, node in self.leaves)

    def may_hold(self, candidates: exp.Query, entities: dict[str, str]) -> exp.Select:
        """Those of `candidates` whose condition is not false at `as_of` whatever their
        event counts: by three-valued logic, each event leaf unknown, the other leaves
        as their current version, company and referenced memberships say (`members_table`
        of the referenced segments must exist)."""

        def known_value(index: int) -> exp.Expression:
            if index == EXISTS:
                return col("is_present")
            node = self.leaves[index - 1][1]
            if isinstance(node, Attribute):
                return _holds(node)
            if isinstance(node, CompanyAttribute):
                companies = self._current("company").where(_company_holds(node))
                return exp.func("coalesce", col("company_id").isin(query=companies), exp.false())
            if isinstance(node, InSegment):
                same = entities[node.segment] == self.segment.entity
                owner = "entity_id" if same else "company_id"
                members = exp.select("entity_id").from_(members_table(node.segment, self.prefix))
                return exp.func("coalesce", col(owner).isin(query=members), exp.false())
            return exp.null()

        condition = self._condition(known_value)
        return (
            self._current(self.segment.entity)
            .where(col("entity_id").isin(query=candidates), copy=False)
            .where(exp.func("coalesce", condition, exp.true()), copy=False)
        )

    def _current(self, entity: str) -> exp.Select:
        """Ids of an entity's versions valid at `as_of` (its latest)."""
        return (
            exp.select("entity_id")
            .from_(versions_table(entity, self.prefix))
            .where(col("valid_to").eq(lit(FOREVER)))
        )

    @staticmethod
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

    def _contacts_of(self, companies: exp.Select) -> exp.Select:
        """Contacts whose company, in a version valid from `since` on, is one of these."""
        return (
            exp.select("entity_id")
            .from_(versions_table("contact", self.prefix))
            .where(col("valid_to") > lit(self.since))
            .where(col("company_id").isin(query=companies), copy=False)
        )

    def _reattributed(self) -> exp.Select:
        """Companies that may have gained or lost a contact's events from `since` on.

        A contact row stamped from `since` on (new, or replacing one with the same stamp)
        moves the contact's later events to another company, or to none: the companies
        before (the version it ends, the row it replaces) and after all count as changed.
        """
        assert self.since is not None
        snapshot_date = (self.as_of - timedelta(days=1)).date()
        rows = landed_rows_since("contact", snapshot_date, self.since)
        moved = exp.select("contact_id").from_(rows.subquery("moved", copy=False))
        ended = (
            exp.select("company_id")
            .from_(versions_table("contact", self.prefix))
            .where(col("valid_to") >= lit(self.since))
            .where(col("entity_id").isin(query=moved), copy=False)
        )
        stamped = exp.select("company_id").from_(rows.subquery("stamped"))
        companies = exp.union(stamped, ended, distinct=True, copy=False)
        return (
            exp.select(exp.alias_(col("company_id"), "entity_id"))
            .from_(companies.subquery("companies", copy=False))
            .where(col("company_id").is_(exp.null()).not_())
        )

    def _event_changes(self, node: EventCondition) -> exp.Select:
        """Owners of the leaf's events entering (or leaving) its window from `since` on."""
        owner = "contact_id" if self.segment.entity == "contact" else "company_id"
        occurred_at = col("occurred_at")
        moves = occurred_at >= lit(self.since)
        if node.within.last_days is not None:
            ages = occurred_at.copy() + exp.Interval(
                this=lit(str(node.within.last_days)), unit=exp.var("DAY")
            )
            moves = exp.or_(moves, ages <= lit(self.as_of))
        hits = (
            exp.select(exp.alias_(col(owner), "entity_id"))
            .from_(hits_table(self.prefix))
            .where(col(hit_column(node)))
            .where(col(owner).is_(exp.null()).not_())
        )
        for condition in read_range(node.within, self.since).conditions():
            hits = hits.where(condition)
        return hits.where(moves)

    # -- leaf change rows ---------------------------------------------------------------

    def _row(
        self,
        source: exp.Expression,
        entity_id: exp.Expression,
        t: exp.Expression,
        values: dict[int, tuple[exp.Expression, exp.Expression]],
        counts: dict[int, tuple[exp.Expression, exp.Expression]] | None = None,
    ) -> exp.Select:
        """A select yielding every grid column: the given leaves' values (at, after) and
        event counts by leaf index, NULL for the others."""
        counts = counts or {}
        projections: list[exp.Expression] = [
            exp.alias_(entity_id, "entity_id"),
            exp.alias_(t, "t"),
        ]
        for leaf in self.columns:
            at, after = values.get(leaf.index, (exp.null(), exp.null()))
            projections.append(exp.alias_(at, leaf.at))
            projections.append(exp.alias_(after, leaf.after))
            if self._is_event(leaf.index):
                count_at, count_after = counts.get(leaf.index, (exp.null(), exp.null()))
                projections.append(exp.alias_(count_at, leaf.count_at))
                projections.append(exp.alias_(count_after, leaf.count_after))
        return exp.select(*projections).from_(source)

    def _is_event(self, index: int) -> bool:
        return index > 0 and isinstance(self.leaves[index - 1][1], EventCondition)

    def _version_rows(self, entities: dict[str, str]) -> exp.Select:
        """One row per version of the entity with the value of every leaf that changes with
        it: existence, attributes, and false for leaves read through the contact's company
        (a contact version starts without a company value until a company row gives one).
        """
        values = {EXISTS: (col("is_present"), col("is_present"))}
        for index, (_, node) in enumerate(self.leaves, start=1):
            value = self._version_value(node, entities)
            if value is not None:
                values[index] = (value, value.copy())
        return self._row(
            self._versions(self.segment.entity, "versions"),
            col("entity_id"),
            col("valid_from"),
            values,
        )

    def _version_value(self, node: Leaf, entities: dict[str, str]) -> exp.Expression | None:
        """A leaf's value at each version of the entity, if versions change it."""
        if isinstance(node, Attribute):
            return _holds(node)
        if isinstance(node, CompanyAttribute) or (
            isinstance(node, InSegment) and entities[node.segment] != self.segment.entity
        ):
            return exp.false()
        return None

    def _through_company(self, leaf: LeafColumns, company_rows: exp.Select) -> exp.Select:
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
            .from_(self._versions("contact", "c"))
            .join(
                intervals.subquery("ci", copy=False),
                on=template(
                    "ci.company_id = c.company_id and ci.t < c.valid_to "
                    "and ci.t_next > c.valid_from"
                ),
            )
        )
        at = template("case when t >= valid_from then v_at else v_after end")
        return self._row(
            joined.subquery("mapped", copy=False),
            col("entity_id"),
            template("greatest(valid_from, t)"),
            {leaf.index: (at, col("v_after"))},
        )

    def _company_rows(self, leaf: LeafColumns, node: CompanyAttribute) -> exp.Select:
        value = _company_holds(node)
        company_rows = exp.select(
            exp.alias_(col("entity_id"), "company_id"),
            exp.alias_(col("valid_from"), "t"),
            exp.alias_(value, "v_at"),
            exp.alias_(value.copy(), "v_after"),
        ).from_(self._versions("company", "versions"))
        return self._through_company(leaf, company_rows)

    def _segment_rows(self, leaf: LeafColumns, node: InSegment, ref_entity: str) -> exp.Select:
        timeline = exp.to_table(timeline_table(node.segment, self.prefix))
        if ref_entity == self.segment.entity:
            source: exp.Expression = timeline
            if self.since is not None:
                rows = exp.select("*").from_(timeline).where(self._in_scope(col("entity_id")))
                source = rows.subquery("referenced", copy=False)
            values = {leaf.index: (col("m_at"), col("m_after"))}
            return self._row(source, col("entity_id"), col("t"), values)
        company_rows = exp.select(
            exp.alias_(col("entity_id"), "company_id"),
            "t",
            exp.alias_(col("m_at"), "v_at"),
            exp.alias_(col("m_after"), "v_after"),
        ).from_(timeline)
        return self._through_company(leaf, company_rows)

    def _event_rows(self, leaf: LeafColumns, node: EventCondition) -> exp.Select:
        """Counts as a step function: +1 at an event, -1 right after it leaves the window.

        From `since` on, an event that left a `last_days` window before `since` changes
        nothing and is not read; the steps before `since` are summed into one point just
        before it, which carries the count at `since` into the timeline.
        """
        owner = "contact_id" if self.segment.entity == "contact" else "company_id"
        hits = (
            exp.select(exp.alias_(col(owner), "entity_id"), "occurred_at")
            .from_(hits_table(self.prefix))
            .where(col(hit_column(node)))
            .where(col(owner).is_(exp.null()).not_())
        )
        window = node.within
        for condition in read_range(window, self.since).conditions():
            hits = hits.where(condition)
        if self.since is not None:
            hits = hits.where(self._in_scope(col(owner)))
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
                .where(aged.copy() <= lit(self.as_of))
            )
            steps = exp.union(steps, ageing, distinct=False, copy=False)
        if self.since is not None:
            instant = exp.Case(
                ifs=[
                    exp.If(
                        this=col("t") < lit(self.since),
                        true=lit(self.since - timedelta(microseconds=1)),
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
        return self._row(
            counted.subquery("counted", copy=False),
            col("entity_id"),
            col("t"),
            {
                leaf.index: (
                    _count_holds(node.count, n_at),
                    _count_holds(node.count, col("n_after")),
                )
            },
            counts={leaf.index: (n_at.copy(), col("n_after"))},
        )

    def _leaf_rows(
        self, leaf: LeafColumns, node: Leaf, entities: dict[str, str]
    ) -> exp.Select | None:
        """The leaf's change rows beyond the entity's own versions (`_version_rows`)."""
        if isinstance(node, Attribute):
            return None
        if isinstance(node, CompanyAttribute):
            return self._company_rows(leaf, node)
        if isinstance(node, InSegment):
            return self._segment_rows(leaf, node, entities[node.segment])
        return self._event_rows(leaf, node)

    def _default(self, index: int) -> exp.Expression:
        """A leaf's value before its first change point."""
        node = self.leaves[index - 1][1] if index > 0 else None
        if isinstance(node, EventCondition):
            return exp.Boolean(this=node.count.holds(0))
        return exp.false()

    # -- the grid -----------------------------------------------------------------------

    def timeline(self, entities: dict[str, str]) -> exp.Select:
        """Every change point of every entity with membership at and right after it.

        `entities` maps every segment name to its entity type (for `in_segment`). Columns:
        entity_id, t, m_at, m_after, and each leaf's filled values (`at_i`, `n_at_i`, ...)
        so the values at `as_of` can explain why an entity is not a member.
        """
        parts = [self._points(self.as_of)]
        if self.since is not None:
            parts.append(self._points(self.since))
        parts.append(self._version_rows(entities))
        for index, (_, node) in enumerate(self.leaves, start=1):
            leaf_rows = self._leaf_rows(self.columns[index], node, entities)
            if leaf_rows is not None:
                parts.append(leaf_rows)
        rows = union(parts, distinct=False)
        merged, filled = [], []
        window = "over (partition by entity_id order by t rows unbounded preceding)"
        for leaf in self.columns:
            merged += [
                exp.alias_(exp.LogicalOr(this=col(leaf.at)), leaf.at),
                exp.alias_(exp.LogicalOr(this=col(leaf.after)), leaf.after),
            ]
            carried = template(f"last_value(:c ignore nulls) {window}", c=col(leaf.after))
            after = exp.func("coalesce", carried, self._default(leaf.index))
            filled += [
                exp.alias_(exp.func("coalesce", col(leaf.at), after), leaf.at),
                exp.alias_(after.copy(), leaf.after),
            ]
            if self._is_event(leaf.index):
                merged += [
                    exp.alias_(exp.func("max", col(leaf.count_at)), leaf.count_at),
                    exp.alias_(exp.func("max", col(leaf.count_after)), leaf.count_after),
                ]
                carried = template(f"last_value(:c ignore nulls) {window}", c=col(leaf.count_after))
                count_after = exp.func("coalesce", carried, lit(0))
                filled += [
                    exp.alias_(
                        exp.func("coalesce", col(leaf.count_at), count_after), leaf.count_at
                    ),
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
        value_columns = [name for leaf in self.columns for name in self._names(leaf)]
        timeline = exp.select(
            "entity_id",
            "t",
            exp.alias_(self._membership("at"), "m_at"),
            exp.alias_(self._membership("after"), "m_after"),
            *value_columns,
        ).from_(filled_points.subquery("filled", copy=False))
        return (
            timeline
            if self.since is None
            else timeline.where(col("t") >= lit(self.since), copy=False)
        )

    def _points(self, t: datetime) -> exp.Select:
        """A grid point at `t` for every (changed) entity: each leaf's value is carried in."""
        entities = (
            exp.select("entity_id")
            .distinct()
            .from_(self._versions(self.segment.entity, "versions"))
            .subquery()
        )
        return self._row(exp.alias_(entities, "entities"), col("entity_id"), lit(t), {})

    def _names(self, leaf: LeafColumns) -> list[str]:
        names = [leaf.at, leaf.after]
        if self._is_event(leaf.index):
            names += [leaf.count_at, leaf.count_after]
        return names

    def _membership(self, side: str) -> exp.Expression:
        """`exists and condition`, over the filled `at_i` or `after_i` columns."""
        return self._condition(lambda index: col(getattr(self.columns[index], side)))

    def _condition(self, leaf_value: Callable[[int], exp.Expression]) -> exp.Expression:
        """`exists and condition`, each leaf (by index) replaced by `leaf_value`."""
        index_of = {path: index for index, (path, _) in enumerate(self.leaves, start=1)}

        def compile_condition(condition: Condition, path: str) -> exp.Expression:
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

    def members(self, timeline: str, previous: exp.Expression | None = None) -> exp.Select:
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
            "greatest(max(case when not m_at then t end), "
            "max(case when not m_after then t_next end))"
        )
        members = (
            exp.select(
                "entity_id",
                exp.alias_(last_break, "last_break"),
                exp.alias_(template("min(t)"), "earliest"),
            )
            .from_(with_next.subquery("with_next", copy=False))
            .group_by("entity_id", copy=False)
            .having(template("bool_or(t = :as_of and m_at)", as_of=lit(self.as_of)), copy=False)
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
        return exp.union(moved, self.unchanged(previous), distinct=False, copy=False)

    def unchanged(self, previous: exp.Expression) -> exp.Select:
        """The previous state's members without a change point: members still, same join
        time (restricted mode only)."""
        return (
            exp.select("entity_id", "joined_at")
            .from_(previous.copy())
            .where(exp.not_(self._is_changed(col("entity_id"))))
        )

    def carried(self, previous: exp.Expression) -> exp.Select:
        """Timeline rows for the unchanged members: true from `since` on, so that segments
        referencing this one see them (an unchanged non-member has no rows: false)."""
        return exp.select(
            "entity_id",
            exp.alias_(lit(self.since), "t"),
            exp.alias_(exp.true(), "m_at"),
            exp.alias_(exp.true(), "m_after"),
        ).from_(exp.alias_(self.unchanged(previous).subquery(), "unchanged"))
