"""Evaluate segments at `as_of(D)`: membership timelines, members and join times.

One run prepares the visible data once (versions of both entities, and one pass over the
events flagging every event filter of every segment), then evaluates the segments in
dependency order so `in_segment` can read the timelines of the segments it references.

A daily run does not recompute all history. Each evaluation keeps its members and join
times as the segment's *state* for D; the next day reuses it when the definition version
is the same and no landing date up to D has been ingested since. Nothing before
`first_change(D + 1)` (usually midnight of D + 1, earlier when late rows landed) can have
changed, so the timeline is computed from that instant on, over window-sized slices of
history, for the entities with a change point from then on only: everyone else keeps the
state's membership, and a member whose stretch began before it the state's join time. The rare
member the state cannot date (a late row that closed a gap the previous day saw) is
evaluated on its whole history, alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

import pandas as pd
from sqlglot import exp

from segment_pipeline.compile.timeline import (
    EventRead,
    TimelineCompiler,
    changed_table,
    event_hits,
    hits_table,
    timeline_table,
    versions_table,
)
from segment_pipeline.definitions.conditions import EventCondition, iter_leaves
from segment_pipeline.definitions.project import Project
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.evaluate.visible import (
    as_of,
    first_change,
    visible_events,
    visible_versions,
)
from segment_pipeline.ingest.landing import landing_revision
from segment_pipeline.sql import col, lit, template
from segment_pipeline.warehouse.engine import Warehouse
from segment_pipeline.warehouse.schema import create_table

MEMBER_COLUMNS = ["segment", "entity_type", "entity_id", "joined_at"]
#: Members and join times of each evaluation: what the next day's evaluation starts from.
STATES = "membership_states"
#: One row per evaluation kept in `membership_states` (a segment may have no members).
STATE_RUNS = "membership_state_runs"
#: The run tables of entities re-evaluated on their whole history.
WHOLE_HISTORY = "whole_"
_STATE_KEY = {"segment": "VARCHAR", "definition_version": "VARCHAR", "snapshot_date": "DATE"}
STATE_TABLES = {
    STATES: {**_STATE_KEY, "entity_id": "VARCHAR", "joined_at": "TIMESTAMP"},
    STATE_RUNS: {**_STATE_KEY, "landing_revision": "BIGINT"},
}


def _create_temp(warehouse: Warehouse, name: str, query: exp.Expression) -> None:
    warehouse.execute(
        template("create or replace temp table :t as :q", t=exp.to_table(name), q=query)
    )


def members_table(segment: str) -> str:
    """The run's temp table of a segment's members and join times."""
    return f"members__{segment}"


def required_segments(project: Project, names: Iterable[str]) -> list[Segment]:
    """The named segments and everything they reference, in dependency order."""
    needed: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.extend(project.segments[name].references)
    return [segment for name, segment in project.segments.items() if name in needed]


def _event_reads(
    segments: Iterable[Segment], since_of: Callable[[Segment], datetime | None]
) -> list[EventRead]:
    """What every event leaf of the segments reads, from where each segment's timeline starts."""
    return [
        EventRead(leaf, segment.entity, since_of(segment))
        for segment in segments
        for _, leaf in iter_leaves(segment.where)
        if isinstance(leaf, EventCondition)
    ]


def _is_writable(warehouse: Warehouse) -> bool:
    """False for a read-only connection (a preview): it may read states, not keep them."""
    mode = warehouse.scalar(
        exp.select("value")
        .from_(exp.func("duckdb_settings"))
        .where(col("name").eq(lit("access_mode")))
    )
    return str(mode).lower() != "read_only"


class MembershipRun:
    """The evaluation of some segments at one snapshot date, on one connection."""

    def __init__(self, warehouse: Warehouse, project: Project, snapshot_date: date) -> None:
        self.warehouse = warehouse
        self.project = project
        self.snapshot_date = snapshot_date
        self.as_of = as_of(snapshot_date)
        self.entities = {name: segment.entity for name, segment in project.segments.items()}
        self.writable = _is_writable(warehouse)
        #: Segments evaluated from `since` on, starting from the previous day's state.
        self.incremental: set[str] = set()
        self.since: datetime | None = None

    def prepare(self, segments: list[Segment]) -> None:
        """Stage what every segment reads: visible versions and the flagged events."""
        sources = self.project.sources
        for entity in ("company", "contact"):
            _create_temp(
                self.warehouse,
                versions_table(entity),
                visible_versions(sources, entity, self.snapshot_date),
            )
        self._plan(segments)
        reads = _event_reads(segments, self._since_of)
        company_reads = [read.condition() for read in reads if read.entity == "company"]
        events = visible_events(
            self.snapshot_date,
            versions_table("contact"),
            wanted=exp.or_(*(read.condition() for read in reads)) if reads else exp.false(),
            attributed=exp.or_(*company_reads) if company_reads else exp.false(),
        )
        leaves = [read.leaf for read in reads]
        _create_temp(self.warehouse, hits_table(), event_hits(leaves, events))

    def _since_of(self, segment: Segment) -> datetime | None:
        """Where the segment's timeline starts: `since`, or None for all history."""
        return self.since if segment.name in self.incremental else None

    def _plan(self, segments: list[Segment]) -> None:
        """Which segments can start from the previous day's state, and from when."""
        if self.writable:
            self._create_state_tables()
        elif not self.warehouse.table_exists(STATE_RUNS):
            return
        previous = self.snapshot_date - timedelta(days=1)
        revision = landing_revision(self.warehouse, previous)
        kept = {
            (str(row[0]), str(row[1]))
            for row in self.warehouse.rows(
                exp.select("segment", "definition_version")
                .from_(STATE_RUNS)
                .where(col("snapshot_date").eq(lit(previous)))
                .where(exp.NullSafeEQ(this=col("landing_revision"), expression=lit(revision)))
            )
        }
        incremental = {
            segment.name
            for segment in segments
            if (segment.name, segment.version) in kept and not segment.models
        }
        # A segment evaluated on all its history needs all the history of its references.
        for segment in reversed(segments):
            if segment.name not in incremental:
                incremental.difference_update(segment.references)
        self.incremental = incremental
        if incremental:
            first = self.warehouse.scalar(first_change(self.snapshot_date))
            assert isinstance(first, datetime)
            # One microsecond earlier (the data's resolution): nothing changes in between,
            # and the timeline then sees the value just before the first change, so a
            # member that joined exactly then is dated from the timeline, not re-evaluated.
            self.since = first - timedelta(microseconds=1)

    def evaluate(self, segment: Segment) -> None:
        """Materialise the segment's timeline and members (references must come first)."""
        incremental = segment.name in self.incremental
        compiler = TimelineCompiler(segment, self.as_of, since=self.since if incremental else None)
        timeline = timeline_table(segment.name)
        previous = None
        if incremental:
            for reference in segment.references:
                self._ensure_changed(reference)
            previous = self._previous_state(segment)
            _create_temp(
                self.warehouse, changed_table(segment.name), compiler.changed(self.entities)
            )
        _create_temp(self.warehouse, timeline, compiler.timeline(self.entities))
        _create_temp(
            self.warehouse, members_table(segment.name), compiler.members(timeline, previous)
        )
        if previous is not None:
            self.warehouse.execute(
                exp.insert(
                    compiler.carried(previous),
                    timeline,
                    columns=["entity_id", "t", "m_at", "m_after"],
                )
            )
            self._date_the_rest(segment)
        if self.writable:
            self._keep_state(segment)

    def _ensure_changed(self, name: str) -> None:
        """The changed entities of a reference evaluated on all its history: those whose
        membership changes from `since` on (what an incremental dependent needs)."""
        if name in self.incremental:
            return
        previous_after = template("lag(m_after) over (partition by entity_id order by t)")
        points = exp.select(
            "entity_id", "t", "m_at", "m_after", exp.alias_(previous_after, "before")
        ).from_(timeline_table(name))
        moves = template(
            "t >= :since "
            "and (m_at <> coalesce(before, false) or m_after <> coalesce(before, false))",
            since=lit(self.since),
        )
        _create_temp(
            self.warehouse,
            changed_table(name),
            exp.select("entity_id")
            .distinct()
            .from_(exp.alias_(points.subquery(), "points"))
            .where(moves),
        )

    def members(self, segment: Segment) -> pd.DataFrame:
        """Members of an evaluated segment at `as_of` with their join times."""
        query = exp.select("entity_id", "joined_at").from_(members_table(segment.name))
        frame = self.warehouse.query(query.order_by("entity_id"))
        frame.insert(0, "segment", segment.name)
        frame.insert(1, "entity_type", segment.entity)
        return frame[MEMBER_COLUMNS]

    def leaf_values(self, segment: Segment, entity_ids: list[str]) -> pd.DataFrame:
        """Each leaf's value (and event counts) at `as_of` for some entities, by entity_id.

        An incremental timeline has no rows for entities without a change point; those
        asked for (removed since an older snapshot) are evaluated on their whole history.
        """
        wanted = pd.DataFrame({"entity_id": pd.Series(entity_ids, dtype="str")})
        with self.warehouse.registered("wanted_entities", wanted) as ids:
            values = self._values_at_as_of(timeline_table(segment.name), ids)
        missing = wanted[~wanted["entity_id"].isin(values.index)]
        if missing.empty:
            return values
        with self.warehouse.registered("absent_entities", missing) as ids:
            self._whole_history(segment, exp.select("entity_id").from_(ids))
            whole = self._values_at_as_of(timeline_table(segment.name, WHOLE_HISTORY), ids)
        return pd.concat([values, whole])

    def _values_at_as_of(self, timeline: str, ids: exp.Table) -> pd.DataFrame:
        query = (
            exp.select("*")
            .from_(timeline)
            .where(col("t").eq(lit(self.as_of)))
            .where(col("entity_id").isin(query=exp.select("entity_id").from_(ids)))
        )
        return self.warehouse.query(query).set_index("entity_id")

    # -- states ---------------------------------------------------------------------------

    def _create_state_tables(self) -> None:
        for name, columns in STATE_TABLES.items():
            self.warehouse.execute(create_table(name, columns))

    def _previous_state(self, segment: Segment) -> exp.Expression:
        return (
            exp.select("entity_id", "joined_at")
            .from_(STATES)
            .where(col("segment").eq(lit(segment.name)))
            .where(col("definition_version").eq(lit(segment.version)))
            .where(col("snapshot_date").eq(lit(self.snapshot_date - timedelta(days=1))))
            .subquery()
        )

    def _keep_state(self, segment: Segment) -> None:
        """Replace the segment's state for the day; drop states no later day can use."""
        day = lit(self.snapshot_date)
        same_day = exp.and_(col("segment").eq(lit(segment.name)), col("snapshot_date").eq(day))
        stale = exp.and_(
            col("segment").eq(lit(segment.name)),
            col("snapshot_date") < lit(self.snapshot_date - timedelta(days=1)),
        )
        members = exp.select(
            lit(segment.name), lit(segment.version), day.copy(), "entity_id", "joined_at"
        ).from_(members_table(segment.name))
        run = exp.select(
            lit(segment.name),
            lit(segment.version),
            day.copy(),
            lit(landing_revision(self.warehouse, self.snapshot_date)),
        )
        with self.warehouse.transaction():
            for table in (STATES, STATE_RUNS):
                self.warehouse.execute(exp.delete(table, where=exp.or_(same_day, stale)))
            self.warehouse.execute(exp.insert(members, STATES))
            self.warehouse.execute(exp.insert(run, STATE_RUNS))

    # -- members the state cannot date ------------------------------------------------------

    def _date_the_rest(self, segment: Segment) -> None:
        """Join times of members whose stretch began before `since` without the previous
        state knowing it: those entities alone, evaluated on their whole history."""
        members = members_table(segment.name)
        undated = exp.select("entity_id").from_(members).where(col("joined_at").is_(exp.null()))
        count = exp.select(exp.func("count", exp.Star())).from_(undated.subquery())
        if not self.warehouse.scalar(count):
            return
        self._whole_history(segment, undated)
        compiler = TimelineCompiler(segment, self.as_of, prefix=WHOLE_HISTORY)
        whole = compiler.members(timeline_table(segment.name, WHOLE_HISTORY))
        self.warehouse.execute(
            template(
                "update :members as m set joined_at = w.joined_at from :whole "
                "where m.entity_id = w.entity_id and m.joined_at is null",
                members=exp.to_table(members),
                whole=whole.subquery("w"),
            )
        )

    def _whole_history(self, segment: Segment, ids: exp.Select) -> None:
        """The segment's timeline (`WHOLE_HISTORY` tables) on all history, for a few of its
        entities: their own data, their companies' and the segments it references."""
        ids = exp.select("entity_id").from_(exp.alias_(ids.subquery(), "ids"))
        if segment.entity == "contact":
            contacts = ids
            companies = (
                exp.select("company_id")
                .from_(versions_table("contact"))
                .where(col("entity_id").isin(query=ids.copy()))
            )
        else:
            contacts = ids.where(exp.false())
            companies = ids
        for entity, entity_ids in (("contact", contacts), ("company", companies)):
            _create_temp(
                self.warehouse,
                versions_table(entity, WHOLE_HISTORY),
                exp.select("*")
                .from_(versions_table(entity))
                .where(col("entity_id").isin(query=entity_ids.copy())),
            )
        # The events that may be theirs, before the costly company lookup, then exactly.
        former_contacts = (
            exp.select("entity_id")
            .from_(versions_table("contact"))
            .where(col("company_id").isin(query=companies.copy()))
        )
        candidates = exp.or_(
            col("contact_id").isin(query=contacts.copy()),
            col("company_id").isin(query=companies.copy()),
            col("contact_id").isin(query=former_contacts),
        )
        events = visible_events(self.snapshot_date, versions_table("contact"), wanted=candidates)
        needed = required_segments(self.project, [segment.name])
        leaves = [read.leaf for read in _event_reads(needed, lambda _: None)]
        owned = exp.or_(
            col("contact_id").isin(query=contacts.copy()),
            col("company_id").isin(query=companies.copy()),
        )
        _create_temp(
            self.warehouse, hits_table(WHOLE_HISTORY), event_hits(leaves, events).where(owned)
        )
        for needed_segment in needed:
            _create_temp(
                self.warehouse,
                timeline_table(needed_segment.name, WHOLE_HISTORY),
                TimelineCompiler(needed_segment, self.as_of, prefix=WHOLE_HISTORY).timeline(
                    self.entities
                ),
            )


def evaluate_members(
    warehouse: Warehouse,
    project: Project,
    snapshot_date: date,
    segment_names: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Members and join times of segments (default: all) at `as_of(snapshot_date)`.

    Pure evaluation of the definitions on the visible data, as dynamic segments see it;
    static segments' frozen membership is the snapshot's business.
    """
    segments = required_segments(project, segment_names or project.segments)
    run = MembershipRun(warehouse, project, snapshot_date)
    run.prepare(segments)
    frames = []
    for segment in segments:
        run.evaluate(segment)
        if segment_names is None or segment.name in segment_names:
            frames.append(run.members(segment))
    if not frames:
        return pd.DataFrame(columns=MEMBER_COLUMNS)
    return pd.concat(frames, ignore_index=True)
