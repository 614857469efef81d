"""Evaluate segments at `as_of(D)`: materialise the compiled relations, in order.

One run prepares the visible data once (versions of both entities, and one pass over the
events flagging every event filter of every segment), then evaluates the segments in
dependency order so `in_segment` can read the timelines of the segments it references.

A daily run does not recompute all history (`planning.py`). Each evaluation keeps its
members and join times as the segment's *state* for D (`states.py`); the next day reuses
it when the definition version is the same and no landing date up to D has been ingested
since. Nothing before midnight of D + 1 can have changed, so the timeline is computed from
that instant on, over window-sized slices of history, for the entities with a change point
from then on only (`compile/pruning.py`): everyone else keeps the state's membership, and
a member whose stretch began before it the state's join time. The entities late rows
reach (`compile/late.py`) start from the earliest late row instead. The rare member the
state cannot date (a late row that closed a gap the previous day saw) is evaluated on its
whole history, in one pass for all segments (`compile/whole_history.py`).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlglot import exp

from segment_pipeline.compile import join_times, pruning
from segment_pipeline.compile.event_pass import event_hits, event_reads
from segment_pipeline.compile.late import LateScopes
from segment_pipeline.compile.model_values import entity_models, with_model_values
from segment_pipeline.compile.relations import (
    Relation,
    candidates_table,
    carried_table,
    changed_table,
    current_versions_table,
    hits_table,
    late_table,
    members_table,
    moved_table,
    reached_table,
    state_members_table,
    timeline_table,
    versions_table,
)
from segment_pipeline.compile.spec import TimelineSpec
from segment_pipeline.compile.timeline import timeline
from segment_pipeline.compile.visible import (
    FOREVER,
    as_of,
    visible_event_rows,
    visible_versions,
)
from segment_pipeline.compile.whole_history import (
    WHOLE_HISTORY,
    count_undated,
    undated_members,
    whole_history_relations,
)
from segment_pipeline.definitions.project import Project
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.definitions.sources import ENTITY_KEYS, EntityType
from segment_pipeline.evaluate.failures import failing_as
from segment_pipeline.evaluate.models import require_list_columns, require_partition
from segment_pipeline.evaluate.personas import pick_contacts
from segment_pipeline.evaluate.planning import RunPlan, plan_run, required_segments
from segment_pipeline.evaluate.states import keep_states, previous_state
from segment_pipeline.sql import col, lit, union
from segment_pipeline.warehouse.engine import Warehouse

MEMBER_COLUMNS = ["segment", "entity_type", "entity_id", "joined_at"]
#: The run's versions before entity-model values cut them.
UNCUT = "uncut_"


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
        #: A read-only warehouse (a preview) may read states, not keep them.
        self.writable = not warehouse.read_only
        #: Which segments start from the previous day's state, and from when.
        self.plan = RunPlan()
        #: For each evaluated segment with personas: companies whose contacts it picked anew.
        self.repicked: dict[str, int] = {}
        self._current_versions: set[str] = set()

    def _materialise(self, relation: Relation) -> None:
        self.warehouse.create_relation(relation.name, relation.query)

    def prepare(self, segments: list[Segment]) -> None:
        """Stage what every segment reads: visible versions and the flagged events."""
        for segment in segments:
            require_list_columns(self.warehouse, segment)
        self.stage_versions(segments)
        self.plan = plan_run(self.warehouse, segments, self.snapshot_date, writable=self.writable)
        if self.plan.since_late is not None:
            self._create_late_tables(segments)
        reads = event_reads(segments, self.plan.since_of)
        events = visible_event_rows(self.snapshot_date)
        self._materialise(
            Relation(hits_table(), event_hits(reads, events, versions_table("contact")))
        )

    def stage_versions(self, segments: list[Segment]) -> None:
        """The run's visible versions of both entities, as `segments` read them: what a
        look-up of one entity's record (`explain`, a persona ranking) reads without the
        rest of `prepare`."""
        for entity in ("company", "contact"):
            self._stage_versions(entity, segments)

    def _stage_versions(self, entity: EntityType, segments: list[Segment]) -> None:
        """The visible versions of an entity, cut at the steps of the entity models the
        segments read and carrying their values (`compile/model_values.py`)."""
        versions = visible_versions(self.project.sources, entity, self.snapshot_date)
        models = entity_models(self.project.models, segments, entity)
        if models:
            readers = {name: segment.name for segment in segments for name in segment.models}
            for model in models:
                require_partition(
                    self.warehouse, model, self.snapshot_date, f"segment {readers[model.name]}"
                )
            plain = versions_table(entity, UNCUT)
            self._materialise(Relation(plain, versions))
            columns = [
                "is_present",
                ENTITY_KEYS[entity],
                *self.project.sources.stored_attributes(entity),
            ]
            versions = with_model_values(plain, columns, models, self.snapshot_date)
        self._materialise(Relation(versions_table(entity), versions))

    def _create_late_tables(self, segments: list[Segment]) -> None:
        """Each incremental segment's late entities: those late rows reach (in dependency
        order), then those its dependents' late entities read (in reverse)."""
        assert self.plan.since_late is not None
        scopes = LateScopes(self.snapshot_date, self.plan.since_late, versions_table("contact"))
        incremental = [segment for segment in segments if segment.name in self.plan.incremental]
        for segment in incremental:
            self._materialise(
                Relation(reached_table(segment.name), scopes.reached(segment, self.entities))
            )
        for segment in reversed(incremental):
            late = [exp.select("entity_id").from_(reached_table(segment.name))]
            late += [
                scopes.read_by(dependent, segment)
                for dependent in incremental
                if segment.name in dependent.references
            ]
            self._materialise(Relation(late_table(segment.name), union(late, distinct=False)))

    def evaluate(self, segments: list[Segment]) -> None:
        """Materialise the segments' timelines and members (in dependency order), then date
        the members no state can, all in one pass, pick the contacts of those with personas
        (one pass too), and keep the states."""
        for segment in segments:
            with failing_as(segment.name, "evaluating its membership timeline and join times"):
                self._evaluate(segment)
        incremental = [segment for segment in segments if segment.name in self.plan.incremental]
        names = [segment.name for segment in segments]
        with failing_as(names, "dating the members the previous state cannot date"):
            self._date_the_rest(incremental)
        picking = [segment for segment in segments if segment.personas is not None]
        if picking:
            with failing_as([s.name for s in picking], "picking its personas' contacts"):
                self._pick_contacts(picking)
        if self.writable:
            with failing_as(names, "keeping the membership states"):
                keep_states(self.warehouse, segments, self.snapshot_date)

    def _pick_contacts(self, segments: list[Segment]) -> None:
        """Each segment's picks at its members; those whose state kept picks start from
        them, from the instant the day's data can differ on (`evaluate/personas.py`)."""
        starts = {}
        for segment in segments:
            since = self.plan.since_of(segment)
            if segment.name in self.plan.picks_kept and since is not None:
                starts[segment.name] = since
        self.repicked = pick_contacts(
            self.warehouse, self.project.sources, segments, starts, self.snapshot_date
        )

    def _evaluate(self, segment: Segment) -> None:
        if segment.name in self.plan.incremental:
            self._evaluate_from_state(segment)
        else:
            spec = TimelineSpec(segment, self.as_of)
            name = timeline_table(segment.name)
            self._materialise(Relation(name, timeline(spec, self.entities)))
            self._materialise(Relation(members_table(segment.name), join_times.members(spec, name)))

    def _evaluate_from_state(self, segment: Segment) -> None:
        """The changed entities' timelines from where their data can differ from the
        previous day's, stacked; the previous state for everyone else."""
        specs = self._incremental_specs(segment)
        previous = previous_state(segment, self.snapshot_date)
        name = timeline_table(segment.name)
        stacked = union([timeline(spec, self.entities) for spec in specs], distinct=False)
        self._materialise(Relation(name, stacked))
        members = join_times.members(specs[0], name, previous)
        self._materialise(Relation(state_members_table(segment.name), members))
        if segment.name in self.referenced:
            # What segments referencing this one read: the entities whose membership moved,
            # and beside the timeline, the unchanged members.
            self._materialise(Relation(moved_table(segment.name), pruning.moved(name)))
            carried = join_times.carried(specs[0], previous)
            self._materialise(Relation(carried_table(segment.name), carried))

    def _incremental_specs(self, segment: Segment) -> list[TimelineSpec]:
        """Fill the segment's `changed_table` (entities flagged `late` when late rows reach
        them) and return a timeline spec for each start: `since`, then `since_late` if any."""
        changed = changed_table(segment.name)

        def scope(late: bool) -> exp.Select:
            flag = col("late")
            return exp.select("entity_id").from_(changed).where(flag if late else exp.not_(flag))

        day = TimelineSpec(segment, self.as_of, since=self.plan.since, scope=scope(late=False))
        # An unreferenced segment's changed entities are all pruned below, so not twice.
        prune_widely = segment.name not in self.referenced and pruning.reads_more_than_events(day)
        entities = pruning.changed(day, self.entities, prune_events=not prune_widely)
        flagged = exp.select("entity_id", exp.alias_(exp.false(), "late")).from_(
            exp.alias_(entities.subquery(), "changed")
        )
        specs = [day]
        # Pruned below, the entities are first kept as candidates.
        target = candidates_table(segment.name) if prune_widely else changed
        if self.plan.since_late is None:
            self._materialise(Relation(target, flagged))
        else:
            late = late_table(segment.name)
            flagged = flagged.where(
                col("entity_id").isin(query=exp.select("entity_id").from_(late)).not_()
            )
            reached = exp.select("entity_id", exp.alias_(exp.true(), "late")).distinct().from_(late)
            self._materialise(
                Relation(target, exp.union(flagged, reached, distinct=False, copy=False))
            )
            specs.append(
                TimelineSpec(
                    segment, self.as_of, since=self.plan.since_late, scope=scope(late=True)
                )
            )
        if prune_widely:
            self._drop_non_members(segment, day)
        return specs

    def _drop_non_members(self, segment: Segment, spec: TimelineSpec) -> None:
        """Leave out the changed entities that are neither members in the previous state
        nor can be at `as_of` (`pruning.may_hold`): both days they are not.

        Only for a segment no other segment references: its timeline then only gives the
        members at `as_of` and their join times, while a referencing segment would also
        read when an entity was briefly a member in between.
        """
        candidates = exp.select("entity_id").from_(candidates_table(segment.name))
        kept = union(
            [
                exp.select("entity_id").from_(previous_state(segment, self.snapshot_date)),
                pruning.may_hold(spec, candidates, self.entities),
            ],
            distinct=False,
        )
        changed = (
            exp.select("*")
            .from_(candidates_table(segment.name))
            .where(col("entity_id").isin(query=kept))
        )
        self._materialise(Relation(changed_table(segment.name), changed))

    def current_versions(self, entity: str) -> str:
        """The run's relation of each entity's latest visible version, made on first use:
        removal reasons look a few entities up in it, segment after segment, and the
        current versions are a fraction of all of them."""
        table = current_versions_table(entity)
        if entity not in self._current_versions:
            latest = (
                exp.select("*")
                .from_(versions_table(entity))
                .where(col("valid_to").eq(lit(FOREVER)))
            )
            self._materialise(Relation(table, latest))
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

    def entity_timeline(self, segment: Segment, entity_id: str) -> pd.DataFrame:
        """One entity's timeline of `segment` on its whole history, ordered by `t`: every
        change point with membership and each leaf's values at and right after it.

        The same relations a run evaluates members the state cannot date with
        (`compile/whole_history.py`), for one entity: what `explain` reads, so its flips are
        the evaluation's own.
        """
        self.stage_versions(required_segments(self.project, [segment.name]))
        wanted = pd.DataFrame({"entity_id": pd.Series([entity_id], dtype="str")})
        with self.warehouse.registered("explained_entity", wanted) as ids:
            self._whole_history([segment], {segment.entity: [exp.select("entity_id").from_(ids)]})
        query = (
            exp.select("*")
            .from_(timeline_table(segment.name, WHOLE_HISTORY))
            .where(col("entity_id").eq(lit(entity_id)))
            .order_by("t")
        )
        return self.warehouse.query(query)

    def _values_at_as_of(self, timeline: str, ids: exp.Table, columns: list[str]) -> pd.DataFrame:
        query = (
            exp.select("entity_id", *columns)
            .from_(timeline)
            .where(col("t").eq(lit(self.as_of)))
            .where(col("entity_id").isin(query=exp.select("entity_id").from_(ids)))
        )
        return self.warehouse.query(query).set_index("entity_id")

    # -- members the state cannot date ------------------------------------------------------

    def _date_the_rest(self, segments: list[Segment]) -> None:
        """Join times of members whose stretch began before `since` without the previous
        state knowing it: those entities alone, of every segment at once, evaluated on
        their whole history."""
        if not segments:
            return
        undated = {
            segment.name: undated_members(state_members_table(segment.name)) for segment in segments
        }
        dating = {str(name) for name, count in self.warehouse.rows(count_undated(undated)) if count}
        to_date = [segment for segment in segments if segment.name in dating]
        ids: dict[str, list[exp.Select]] = {}
        for segment in to_date:
            ids.setdefault(segment.entity, []).append(undated[segment.name])
        if to_date:
            self._whole_history(to_date, ids)
        for segment in segments:
            whole = None
            if segment in to_date:
                spec = TimelineSpec(segment, self.as_of, prefix=WHOLE_HISTORY)
                whole = join_times.members(spec, timeline_table(segment.name, WHOLE_HISTORY))
            dated = join_times.dated(state_members_table(segment.name), whole)
            self._materialise(Relation(members_table(segment.name), dated))

    def _whole_history(self, segments: list[Segment], ids: dict[str, list[exp.Select]]) -> None:
        """The segments' timelines (`WHOLE_HISTORY` relations) on all history, for a few
        entities (queries of their ids by entity type)."""
        needed = required_segments(self.project, [segment.name for segment in segments])
        relations = whole_history_relations(
            needed, ids, self.snapshot_date, self.as_of, self.entities
        )
        for relation in relations:
            self._materialise(relation)
