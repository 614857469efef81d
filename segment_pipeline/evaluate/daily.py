"""One snapshot date of some segments: evaluate once, then write snapshots and deltas."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlglot import exp

from segment_pipeline.compile.relations import members_table
from segment_pipeline.definitions.project import Project
from segment_pipeline.evaluate.deltas import DeltaResult, write_deltas
from segment_pipeline.evaluate.failures import failing_as
from segment_pipeline.evaluate.membership import MembershipRun
from segment_pipeline.evaluate.personas import Coverage, write_picked_contacts
from segment_pipeline.evaluate.planning import required_segments
from segment_pipeline.evaluate.snapshot import SnapshotResult, write_snapshot
from segment_pipeline.warehouse.engine import Warehouse


@dataclass(frozen=True)
class SegmentDay:
    """What a segment's snapshot and delta for one day hold."""

    snapshot: SnapshotResult
    delta: DeltaResult
    #: For a company segment with personas: how its picked contacts cover its companies.
    coverage: Coverage | None = None


def materialize_day(
    warehouse: Warehouse,
    project: Project,
    snapshot_date: date,
    names: Collection[str],
    refresh: Collection[str] = (),
) -> dict[str, SegmentDay]:
    """Snapshot and delta of the named segments for one day (history is rebuilt after).

    The visible data is staged once and every segment needed (the named ones and those
    they reference) is evaluated in one run, in dependency order.
    """
    run = MembershipRun(warehouse, project, snapshot_date)
    segments = required_segments(project, names)
    names_needed = [segment.name for segment in segments]
    with failing_as(names_needed, "staging the day's visible data and event hits"):
        run.prepare(segments)
    run.evaluate(segments)
    results: dict[str, SegmentDay] = {}
    # The day's snapshots and deltas land together or not at all (one commit, too).
    with warehouse.transaction():
        for segment in segments:
            if segment.name not in names:
                continue
            with failing_as(segment.name, "writing its snapshot"):
                snapshot = write_snapshot(
                    warehouse,
                    segment,
                    snapshot_date,
                    exp.to_table(members_table(segment.name)),
                    refresh=segment.name in refresh,
                )
            coverage = None
            if segment.personas is not None:
                with failing_as(segment.name, "picking its personas' contacts"):
                    coverage = write_picked_contacts(
                        warehouse,
                        segment,
                        project.sources,
                        snapshot,
                        run.repicked[segment.name],
                    )
            with failing_as(segment.name, "writing its delta and removal reasons"):
                delta = write_deltas(run, segment, snapshot_date)
            results[segment.name] = SegmentDay(snapshot, delta, coverage)
    return results
