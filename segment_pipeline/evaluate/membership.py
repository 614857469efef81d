"""Evaluate segments at `as_of(D)`: membership timelines, members and join times.

One run prepares the visible data once (versions of both entities, and one pass over the
events flagging every event filter of every segment), then evaluates the segments in
dependency order so `in_segment` can read the timelines of the segments it references.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd
from sqlglot import exp

from segment_pipeline.compile.timeline import (
    TimelineCompiler,
    event_hits,
    timeline_table,
    versions_table,
)
from segment_pipeline.definitions.conditions import EventCondition, iter_leaves
from segment_pipeline.definitions.project import Project
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.evaluate.visible import as_of, visible_events, visible_versions
from segment_pipeline.sql import lit, template
from segment_pipeline.warehouse.engine import Warehouse

MEMBER_COLUMNS = ["segment", "entity_type", "entity_id", "joined_at"]


def _create_temp(warehouse: Warehouse, name: str, query: exp.Expression) -> None:
    warehouse.execute(
        template("create or replace temp table :t as :q", t=exp.to_table(name), q=query)
    )


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


class MembershipRun:
    """The evaluation of some segments at one snapshot date, on one connection."""

    def __init__(self, warehouse: Warehouse, project: Project, snapshot_date: date) -> None:
        self.warehouse = warehouse
        self.project = project
        self.snapshot_date = snapshot_date
        self.as_of = as_of(snapshot_date)
        self.entities = {name: segment.entity for name, segment in project.segments.items()}
        self.compilers: dict[str, TimelineCompiler] = {}

    def prepare(self, segments: list[Segment]) -> None:
        """Stage what every segment reads: visible versions and the flagged events."""
        sources = self.project.sources
        for entity in ("company", "contact"):
            _create_temp(
                self.warehouse,
                versions_table(entity),
                visible_versions(sources, entity, self.snapshot_date),
            )
        event_leaves = [
            leaf
            for segment in segments
            for _, leaf in iter_leaves(segment.where)
            if isinstance(leaf, EventCondition)
        ]
        events = visible_events(self.snapshot_date, versions_table("contact"))
        _create_temp(self.warehouse, "event_hits", event_hits(event_leaves, events))

    def evaluate(self, segment: Segment) -> None:
        """Materialise the segment's timeline (its references must be evaluated first)."""
        compiler = TimelineCompiler(segment, self.as_of)
        self.compilers[segment.name] = compiler
        _create_temp(self.warehouse, timeline_table(segment.name), compiler.timeline(self.entities))

    def members(self, segment: Segment) -> pd.DataFrame:
        """Members of an evaluated segment at `as_of` with their join times."""
        query = self.compilers[segment.name].members(timeline_table(segment.name))
        frame = self.warehouse.query(query.order_by("entity_id"))
        frame.insert(0, "segment", segment.name)
        frame.insert(1, "entity_type", segment.entity)
        return frame[MEMBER_COLUMNS]

    def leaf_values(self, segment: Segment, entity_ids: list[str]) -> pd.DataFrame:
        """Each leaf's value (and event counts) at `as_of` for some entities, by entity_id."""
        query = (
            exp.select("*")
            .from_(timeline_table(segment.name))
            .where(exp.column("t").eq(lit(self.as_of)))
            .where(exp.column("entity_id").isin(*(lit(entity) for entity in entity_ids)))
        )
        return self.warehouse.query(query).set_index("entity_id")


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
