"""Evaluate segments at `as_of(D)`: membership timelines, members and join times.

One run prepares the visible data once (versions of both entities, and one pass over the
events flagging every event filter of every segment), then evaluates the segments in
dependency order so `in_segment` can read the timelines of the segments it references.

A daily run does not recompute all history. Each evaluation keeps its members and join
times as the segment's *state* for D; the next day reuses it when the definition version
is the same and no landing date up to D has been ingested since. Nothing before midnight
of D + 1 can have changed, so the timeline is computed from that instant on, over
window-sized slices of history, for the entities with a change point from then on only
(and of those with only event change points, only the ones whose other data lets them be
members; in a segment nothing references, only the previous members and those that can be
members at `as_of`): everyone else keeps the state's membership, and a member whose
stretch began before it the state's join time. The entities late rows reach (`late.py`)
start from the earliest late row instead. The rare member the state cannot date (a late row
that closed a gap the previous day saw) is evaluated on its whole history, in one pass for
all segments.
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
    members_table,
    moved_table,
    timeline_table,
    versions_table,
)
from segment_pipeline.definitions.conditions import EventCondition, iter_leaves
from segment_pipeline.definitions.project import Project
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.evaluate.late import LateScopes, late_table
from segment_pipeline.evaluate.visible import (
    FOREVER,
    as_of,
    first_change,
    visible_event_rows,
    visible_versions,
)
from segment_pipeline.ingest.landing import landing_revision
from segment_pipeline.sql import col, lit, template, union
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


def whole_ids_table(entity: str) -> str:
    """The run's temp table of the entities of a type evaluated on their whole history."""
    return f"{WHOLE_HISTORY}{entity}_ids"


def _union_all(queries: list[exp.Select]) -> exp.Query:
    """The rows of every query; none, with a VARCHAR `entity_id`, if there is no query."""
    if not queries:
        return exp.select(exp.alias_(exp.cast(exp.null(), "VARCHAR"), "entity_id")).where(
            exp.false()
        )
    return union(queries, distinct=False)


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
        self.referenced = {
            name for segment in project.segments.values() for name in segment.references
        }
        self.writable = _is_writable(warehouse)
        #: Segments evaluated from `since` on, starting from the previous day's state.
        self.incremental: set[str] = set()
        #: Where incremental timelines start: just before `as_of(D - 1)`, and for the
        #: entities late rows reach (each segment's `late_table`), just before the first
        #: change.
        self.since: datetime | None = None
        self.since_late: datetime | None = None
        self._current_versions: set[str] = set()

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
        if self.since_late is not None:
            self._create_late_tables(segments)
        reads = _event_reads(segments, self._since_of)
        events = visible_event_rows(self.snapshot_date)
        hits = event_hits(reads, events, versions_table("contact"))
        _create_temp(self.warehouse, hits_table(), hits)

    def _since_of(self, segment: Segment) -> datetime | None:
        """Where the segment's earliest timeline starts, or None for all history."""
        if segment.name not in self.incremental:
            return None
        return self.since_late or self.since

    def _create_late_tables(self, segments: list[Segment]) -> None:
        """Each incremental segment's late entities: those late rows reach (in dependency
        order), then those its dependents' late entities read (in reverse)."""
        assert self.since_late is not None
        scopes = LateScopes(self.snapshot_date, self.since_late, versions_table("contact"))
        incremental = [segment for segment in segments if segment.name in self.incremental]
        for segment in incremental:
            reached = scopes.reached(segment, self.entities)
            _create_temp(self.warehouse, late_table(segment.name), reached)
        for segment in reversed(incremental):
            for dependent in incremental:
                if segment.name in dependent.references:
                    self.warehouse.execute(
                        exp.insert(scopes.read_by(dependent, segment), late_table(segment.name))
                    )

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
        # A segment evaluated on all its history needs all the history of its references,
        # and one evaluated from its state needs its references' changes from the state on.
        for segment in reversed(segments):
            if segment.name not in incremental:
                incremental.difference_update(segment.references)
        for segment in segments:
            if not incremental.issuperset(segment.references):
                incremental.discard(segment.name)
        self.incremental = incremental
        if incremental:
            # One microsecond earlier (the data's resolution): nothing changes in between,
            # and the timeline then sees the value just before the first change, so a
            # member that joined exactly then is dated from the timeline, not re-evaluated.
            midnight = as_of(previous)
            self.since = midnight - timedelta(microseconds=1)
            first = self.warehouse.scalar(first_change(self.snapshot_date))
            assert isinstance(first, datetime)
            if first < midnight:
                self.since_late = first - timedelta(microseconds=1)

    def evaluate(self, segments: list[Segment]) -> None:
        """Materialise the segments' timelines and members (in dependency order), then date
        the members no state can, all in one pass, and keep the states."""
        for segment in segments:
            if segment.name in self.incremental:
                self._evaluate_from_state(segment)
            else:
                compiler = TimelineCompiler(segment, self.as_of)
                timeline = timeline_table(segment.name)
                _create_temp(self.warehouse, timeline, compiler.timeline(self.entities))
                members = compiler.members(timeline)
                _create_temp(self.warehouse, members_table(segment.name), members)
        self._date_the_rest([segment for segment in segments if segment.name in self.incremental])
        if self.writable:
            self._keep_states(segments)

    def _evaluate_from_state(self, segment: Segment) -> None:
        """The changed entities' timelines from where their data can differ from the
        previous day's, stacked; the previous state for everyone else."""
        compilers = self._incremental_compilers(segment)
        previous = self._previous_state(segment)
        timeline = timeline_table(segment.name)
        stacked = union(
            [compiler.timeline(self.entities) for compiler in compilers], distinct=False
        )
        _create_temp(self.warehouse, timeline, stacked)
        _create_temp(
            self.warehouse, members_table(segment.name), compilers[0].members(timeline, previous)
        )
        if segment.name in self.referenced:
            # What segments referencing this one read: the entities whose membership moved,
            # and in the timeline, the unchanged members too.
            _create_temp(
                self.warehouse, moved_table(segment.name), TimelineCompiler.moved(timeline)
            )
            self.warehouse.execute(
                exp.insert(
                    compilers[0].carried(previous),
                    timeline,
                    columns=["entity_id", "t", "m_at", "m_after"],
                )
            )

    def _incremental_compilers(self, segment: Segment) -> list[TimelineCompiler]:
        """Fill the segment's `changed_table` (entities flagged `late` when late rows reach
        them) and return a compiler for each start: `since`, then `since_late` if any."""
        changed = changed_table(segment.name)

        def scope(late: bool) -> exp.Select:
            flag = col("late")
            return exp.select("entity_id").from_(changed).where(flag if late else exp.not_(flag))

        day = TimelineCompiler(segment, self.as_of, since=self.since, scope=scope(late=False))
        # An unreferenced segment's changed entities are all pruned below, so not twice.
        prune_widely = segment.name not in self.referenced and day.reads_more_than_events
        flagged = exp.select("entity_id", exp.alias_(exp.false(), "late")).from_(
            exp.alias_(
                day.changed(self.entities, prune_events=not prune_widely).subquery(), "changed"
            )
        )
        compilers = [day]
        if self.since_late is None:
            _create_temp(self.warehouse, changed, flagged)
        else:
            late = late_table(segment.name)
            flagged = flagged.where(
                col("entity_id").isin(query=exp.select("entity_id").from_(late)).not_()
            )
            reached = exp.select("entity_id", exp.alias_(exp.true(), "late")).distinct().from_(late)
            _create_temp(
                self.warehouse, changed, exp.union(flagged, reached, distinct=False, copy=False)
            )
            compilers.append(
                TimelineCompiler(segment, self.as_of, since=self.since_late, scope=scope(late=True))
            )
        if prune_widely:
            self._drop_non_members(segment, day)
        return compilers

    def _drop_non_members(self, segment: Segment, compiler: TimelineCompiler) -> None:
        """Leave out the changed entities that are neither members in the previous state
        nor can be at `as_of` (`TimelineCompiler.may_hold`): both days they are not.

        Only for a segment no other segment references: its timeline then only gives the
        members at `as_of` and their join times, while a referencing segment would also
        read when an entity was briefly a member in between.
        """
        changed = changed_table(segment.name)
        candidates = exp.select("entity_id").from_(changed)
        kept = union(
            [
                exp.select("entity_id").from_(self._previous_state(segment)),
                compiler.may_hold(candidates, self.entities),
            ],
            distinct=False,
        )
        self.warehouse.execute(exp.delete(changed, where=col("entity_id").isin(query=kept).not_()))

    def current_versions(self, entity: str) -> str:
        """The run's temp table of each entity's latest visible version, made on first use:
        removal reasons look a few entities up in it, segment after segment, and the
        current versions are a fraction of all of them."""
        table = f"current_{entity}_versions"
        if entity not in self._current_versions:
            _create_temp(
                self.warehouse,
                table,
                exp.select("*")
                .from_(versions_table(entity))
                .where(col("valid_to").eq(lit(FOREVER))),
            )
            self._current_versions.add(entity)
        return table

    def members(self, segment: Segment) -> pd.DataFrame:
        """Members of an evaluated segment at `as_of` with their join times."""
        query = exp.select("entity_id", "joined_at").from_(members_table(segment.name))
        frame = self.warehouse.query(query.order_by("entity_id"))
        frame.insert(0, "segment", segment.name)
        frame.insert(1, "entity_type", segment.entity)
        return frame[MEMBER_COLUMNS]

    def leaf_values(
        self, segment: Segment, entity_ids: list[str], columns: list[str]
    ) -> pd.DataFrame:
        """Timeline `columns` (leaf values, event counts) at `as_of` for some entities, by
        entity_id.

        An incremental timeline has no rows for entities without a change point; those
        asked for (removed since an older snapshot) are evaluated on their whole history.
        """
        wanted = pd.DataFrame({"entity_id": pd.Series(entity_ids, dtype="str")})
        with self.warehouse.registered("wanted_entities", wanted) as ids:
            values = self._values_at_as_of(timeline_table(segment.name), ids, columns)
        missing = wanted[~wanted["entity_id"].isin(values.index)]
        if missing.empty:
            return values
        with self.warehouse.registered("absent_entities", missing) as ids:
            self._whole_history([segment], {segment.entity: [exp.select("entity_id").from_(ids)]})
            whole = self._values_at_as_of(timeline_table(segment.name, WHOLE_HISTORY), ids, columns)
        return pd.concat([values, whole])

    def _values_at_as_of(self, timeline: str, ids: exp.Table, columns: list[str]) -> pd.DataFrame:
        query = (
            exp.select("entity_id", *columns)
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

    def _keep_states(self, segments: list[Segment]) -> None:
        """Replace the segments' states for the day; drop states no later day can use."""
        day = lit(self.snapshot_date)
        revision = lit(landing_revision(self.warehouse, self.snapshot_date))
        with self.warehouse.transaction():
            for segment in segments:
                same_day = exp.and_(
                    col("segment").eq(lit(segment.name)), col("snapshot_date").eq(day.copy())
                )
                stale = exp.and_(
                    col("segment").eq(lit(segment.name)),
                    col("snapshot_date") < lit(self.snapshot_date - timedelta(days=1)),
                )
                members = exp.select(
                    lit(segment.name), lit(segment.version), day.copy(), "entity_id", "joined_at"
                ).from_(members_table(segment.name))
                run = exp.select(lit(segment.name), lit(segment.version), day.copy(), revision)
                for table in (STATES, STATE_RUNS):
                    self.warehouse.execute(exp.delete(table, where=exp.or_(same_day, stale)))
                self.warehouse.execute(exp.insert(members, STATES))
                self.warehouse.execute(exp.insert(run, STATE_RUNS))

    # -- members the state cannot date ------------------------------------------------------

    def _date_the_rest(self, segments: list[Segment]) -> None:
        """Join times of members whose stretch began before `since` without the previous
        state knowing it: those entities alone, of every segment at once, evaluated on
        their whole history."""
        undated = {
            segment.name: exp.select("entity_id")
            .from_(members_table(segment.name))
            .where(col("joined_at").is_(exp.null()))
            for segment in segments
        }
        counts = [
            exp.select(lit(name), exp.func("count", exp.Star())).from_(query.subquery())
            for name, query in undated.items()
        ]
        if not counts:
            return
        counted = union(counts, distinct=False)
        dating = {str(name) for name, count in self.warehouse.rows(counted) if count}
        to_date = [segment for segment in segments if segment.name in dating]
        if not to_date:
            return
        ids: dict[str, list[exp.Select]] = {}
        for segment in to_date:
            ids.setdefault(segment.entity, []).append(undated[segment.name])
        self._whole_history(to_date, ids)
        for segment in to_date:
            compiler = TimelineCompiler(segment, self.as_of, prefix=WHOLE_HISTORY)
            whole = compiler.members(timeline_table(segment.name, WHOLE_HISTORY))
            self.warehouse.execute(
                template(
                    "update :members as m set joined_at = w.joined_at from :whole "
                    "where m.entity_id = w.entity_id and m.joined_at is null",
                    members=exp.to_table(members_table(segment.name)),
                    whole=whole.subquery("w"),
                )
            )

    def _whole_history(self, segments: list[Segment], ids: dict[str, list[exp.Select]]) -> None:
        """The segments' timelines (`WHOLE_HISTORY` tables) on all history, for a few
        entities (queries of their ids by entity type): their own data, their companies'
        and that of the segments they reference."""
        asked = {
            entity: [exp.select("entity_id").from_(query.subquery()) for query in queries]
            for entity, queries in ids.items()
        }
        _create_temp(
            self.warehouse, whole_ids_table("contact"), _union_all(asked.get("contact", []))
        )
        contact_ids = exp.select("entity_id").from_(whole_ids_table("contact"))
        their_companies = (
            exp.select(exp.alias_(col("company_id"), "entity_id"))
            .from_(versions_table("contact"))
            .where(col("entity_id").isin(query=contact_ids.copy()))
        )
        companies = _union_all([*asked.get("company", []), their_companies])
        _create_temp(self.warehouse, whole_ids_table("company"), companies)
        company_ids = exp.select("entity_id").from_(whole_ids_table("company"))
        for entity, entity_ids in (("contact", contact_ids), ("company", company_ids)):
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
            .where(col("company_id").isin(query=company_ids.copy()))
        )
        candidates = exp.or_(
            col("contact_id").isin(query=contact_ids.copy()),
            col("company_id").isin(query=company_ids.copy()),
            col("contact_id").isin(query=former_contacts),
        )
        events = visible_event_rows(self.snapshot_date).where(candidates)
        needed = required_segments(self.project, [segment.name for segment in segments])
        hits = event_hits(_event_reads(needed, lambda _: None), events, versions_table("contact"))
        owned = exp.or_(
            col("contact_id").isin(query=contact_ids.copy()),
            col("company_id").isin(query=company_ids.copy()),
        )
        _create_temp(
            self.warehouse,
            hits_table(WHOLE_HISTORY),
            exp.select("*").from_(hits.subquery("hits", copy=False)).where(owned),
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
    run.evaluate(segments)
    frames = []
    for segment in segments:
        if segment_names is None or segment.name in segment_names:
            frames.append(run.members(segment))
    if not frames:
        return pd.DataFrame(columns=MEMBER_COLUMNS)
    return pd.concat(frames, ignore_index=True)
