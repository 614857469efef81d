"""Why an entity is (or is not) in a segment: every flip of its membership, and the leaf
condition that made it, then each leaf's value at `as_of(D)`.

It reads the evaluation's own timeline of the entity under the definition in force (the
whole-history relations a run dates members with, `MembershipRun.entity_timeline`), so
its flips are the instants the evaluation's join times come from.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlglot import exp

from segment_pipeline.compile.relations import versions_table
from segment_pipeline.compile.spec import TimelineSpec
from segment_pipeline.compile.visible import as_of
from segment_pipeline.definitions.project import Project
from segment_pipeline.errors import ConfigError
from segment_pipeline.evaluate.membership import MembershipRun
from segment_pipeline.explain.flips import flips
from segment_pipeline.explain.sentences import (
    flip_sentence,
    leaf_path,
    value_sentence,
)
from segment_pipeline.sql import col, lit
from segment_pipeline.warehouse.engine import Warehouse

#: The columns of an explanation: `flip` is `joined` / `left`, or None on the rows giving
#: each leaf's value at `as_of` (`at` is then `as_of`).
COLUMNS = ["at", "flip", "leaf", "holds", "count", "sentence"]


def explain(
    warehouse: Warehouse, project: Project, segment: str, entity_id: str, snapshot_date: date
) -> pd.DataFrame:
    """The entity's membership flips up to `as_of(snapshot_date)`, oldest first, each with
    the leaf that flipped it and its value then; then the value of every leaf at `as_of`.

    Raises `ConfigError` for an unknown segment or an entity with no visible record.
    """
    if segment not in project.segments:
        raise ConfigError(f"unknown segment {segment!r}: `segment-pipeline validate` lists them")
    definition = project.segments[segment]
    spec = TimelineSpec(definition, as_of(snapshot_date))
    run = MembershipRun(warehouse, project, snapshot_date)
    timeline = run.entity_timeline(definition, entity_id)
    if not warehouse.scalar(
        exp.select(exp.func("count", exp.Star()))
        .from_(versions_table(definition.entity))
        .where(col("entity_id").eq(lit(entity_id)))
    ):
        raise ConfigError(
            f"{definition.entity} {entity_id!r} has no record visible as of {snapshot_date} "
            f"(segment {segment} is over {definition.entity} records): check the id and --date"
        )
    rows = [
        {
            "at": flip.at,
            "flip": "joined" if flip.joined else "left",
            "leaf": leaf_path(spec, flip.leaf),
            "holds": flip.after[flip.leaf][0],
            "count": flip.after[flip.leaf][1],
            "sentence": flip_sentence(spec, flip),
        }
        for flip in flips(spec, timeline)
    ]
    last = timeline.iloc[-1]
    for leaf in spec.columns:
        holds = bool(last[leaf.at])
        count = int(last[leaf.count_at]) if spec.is_event(leaf.index) else None
        rows.append(
            {
                "at": spec.as_of,
                "flip": None,
                "leaf": leaf_path(spec, leaf.index),
                "holds": holds,
                "count": count,
                "sentence": value_sentence(spec, leaf.index, holds, count),
            }
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["count"] = frame["count"].astype("Int64")
    return frame
