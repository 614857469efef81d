"""Planning a run: which segments it evaluates, which start from the previous day's state,
and from which instant.

A segment starts from its state when the state was kept for the same definition version
and no landing date up to D - 1 has been ingested since; a segment evaluated on all its
history needs all the history of its references, and one evaluated from its state needs
its references' changes from the state on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from segment_pipeline.compile.visible import as_of, first_change
from segment_pipeline.definitions.project import Project
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.evaluate.states import (
    PICK_STATE_RUNS,
    STATE_RUNS,
    create_state_tables,
    kept_picks,
    kept_states,
)
from segment_pipeline.warehouse.engine import Warehouse


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


@dataclass(frozen=True)
class RunPlan:
    """Which segments start from the previous day's state, and where their timelines start.

    `since` is just before `as_of(D - 1)`; `since_late`, when late rows landed, just before
    the first change, for the entities they reach.
    """

    incremental: frozenset[str] = field(default_factory=frozenset)
    since: datetime | None = None
    since_late: datetime | None = None
    #: Incremental segments with personas whose state kept their picked contacts.
    picks_kept: frozenset[str] = field(default_factory=frozenset)

    def since_of(self, segment: Segment) -> datetime | None:
        """Where the segment's earliest timeline starts, or None for all history."""
        if segment.name not in self.incremental:
            return None
        return self.since_late or self.since


def plan_run(
    warehouse: Warehouse, segments: list[Segment], snapshot_date: date, *, writable: bool
) -> RunPlan:
    """The plan of evaluating `segments` (in dependency order) at `snapshot_date`."""
    if writable:
        create_state_tables(warehouse)
    elif not warehouse.table_exists(STATE_RUNS):
        return RunPlan()
    previous = snapshot_date - timedelta(days=1)
    kept = kept_states(warehouse, previous)
    incremental = {
        segment.name
        for segment in segments
        if (segment.name, segment.version) in kept and not segment.models
    }
    for segment in reversed(segments):
        if segment.name not in incremental:
            incremental.difference_update(segment.references)
    for segment in segments:
        if not incremental.issuperset(segment.references):
            incremental.discard(segment.name)
    if not incremental:
        return RunPlan()
    # One microsecond earlier (the data's resolution): nothing changes in between, and the
    # timeline then sees the value just before the first change, so a member that joined
    # exactly then is dated from the timeline, not re-evaluated.
    midnight = as_of(previous)
    first = warehouse.scalar(first_change(snapshot_date))
    assert isinstance(first, datetime)
    since_late = first - timedelta(microseconds=1) if first < midnight else None
    picks = kept_picks(warehouse, previous) if warehouse.table_exists(PICK_STATE_RUNS) else set()
    picks_kept = {
        segment.name
        for segment in segments
        if segment.name in incremental and (segment.name, segment.version) in picks
    }
    since = midnight - timedelta(microseconds=1)
    return RunPlan(frozenset(incremental), since, since_late, frozenset(picks_kept))
