"""Evaluate segments without writing anything: their members and join times as the
definitions give them today (the property suites' view, and `preview`'s)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd
from sqlglot import exp

from segment_pipeline.compile.relations import picks_table
from segment_pipeline.definitions.project import Project
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.evaluate.membership import MEMBER_COLUMNS, MembershipRun
from segment_pipeline.evaluate.planning import required_segments
from segment_pipeline.evaluate.states import PICK_COLUMNS
from segment_pipeline.warehouse.engine import Warehouse


def _evaluated(
    warehouse: Warehouse, project: Project, snapshot_date: date, names: Iterable[str]
) -> tuple[MembershipRun, list[Segment]]:
    """A run that evaluated the named segments and those they reference."""
    segments = required_segments(project, names)
    run = MembershipRun(warehouse, project, snapshot_date)
    run.prepare(segments)
    run.evaluate(segments)
    return run, segments


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
    run, segments = _evaluated(warehouse, project, snapshot_date, segment_names or project.segments)
    frames = [
        run.members(segment)
        for segment in segments
        if segment_names is None or segment.name in segment_names
    ]
    if not frames:
        return pd.DataFrame(columns=MEMBER_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def preview_segment(
    warehouse: Warehouse, project: Project, snapshot_date: date, segment_name: str
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """`evaluate_members` of one segment, and for a company segment with personas the
    contacts they pick among those members (`PICK_COLUMNS`, by company and rank)."""
    run, _ = _evaluated(warehouse, project, snapshot_date, [segment_name])
    segment = project.segments[segment_name]
    members = run.members(segment)
    if segment.personas is None:
        return members, None
    contacts = exp.select(*PICK_COLUMNS).from_(picks_table(segment.name))
    return members, warehouse.query(contacts.order_by("company_id", "persona_rank", "entity_id"))
