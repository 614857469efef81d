"""Every version of a segment's definition, when it was first materialised, and what changed.

A diff is a unified diff of the canonical definitions (defaults filled, the form the version
hashes) written as YAML, so a person reads what a version changed, not how a file was edited.
"""

from __future__ import annotations

import difflib
import json
from datetime import date

import pandas as pd
import yaml
from sqlglot import exp

from segment_pipeline.definitions.segments import Segment
from segment_pipeline.evaluate.snapshot import previous_run
from segment_pipeline.sql import col, lit
from segment_pipeline.warehouse.engine import Warehouse

HISTORY_COLUMNS = ["version", "first_materialized_at", "first_snapshot_date", "diff"]


def canonical_yaml(definition_json: str) -> str:
    """A canonical definition (its JSON) as YAML, in the canonical key order."""
    return yaml.safe_dump(json.loads(definition_json), sort_keys=False, allow_unicode=True)


def definition_diff(old_json: str, new_json: str, old_version: str, new_version: str) -> str:
    """A unified diff of two canonical definitions; empty when they read the same."""
    lines = difflib.unified_diff(
        canonical_yaml(old_json).splitlines(keepends=True),
        canonical_yaml(new_json).splitlines(keepends=True),
        fromfile=f"version {old_version}",
        tofile=f"version {new_version}",
    )
    return "".join(lines)


def stored_definition(warehouse: Warehouse, segment: str, version: str) -> str | None:
    """The canonical definition (JSON) stored for a segment version, if it was materialised."""
    rows = warehouse.rows(
        exp.select(exp.cast(col("definition"), "VARCHAR"))
        .from_("segment_definitions")
        .where(col("segment").eq(lit(segment)), col("version").eq(lit(version)))
    )
    return str(rows[0][0]) if rows else None


def definition_history(warehouse: Warehouse, segment: str) -> pd.DataFrame:
    """Every materialised version of a segment, oldest first, with the first snapshot date
    still computed with it (none once every such day was recomputed with a later one) and
    the diff against the version before it."""
    first_days = (
        exp.select(
            col("definition_version"),
            exp.alias_(exp.func("min", col("snapshot_date")), "first_snapshot_date"),
        )
        .from_("segment_snapshot_runs")
        .where(col("segment").eq(lit(segment)))
        .group_by(col("definition_version"))
    )
    query = (
        exp.select(
            col("version", "d"),
            col("first_materialized_at", "d"),
            col("first_snapshot_date", "f"),
            exp.alias_(exp.cast(col("definition", "d"), "VARCHAR"), "definition"),
        )
        .from_(exp.alias_(exp.to_table("segment_definitions"), "d"))
        .join(
            first_days.subquery("f"),
            on=col("definition_version", "f").eq(col("version", "d")),
            join_type="left",
        )
        .where(col("segment", "d").eq(lit(segment)))
        .order_by(col("first_materialized_at", "d"), col("version", "d"))
    )
    rows = warehouse.query(query)
    diffs, previous = [], None
    for row in rows.itertuples(index=False):
        diffs.append(
            "(first version)"
            if previous is None
            else definition_diff(previous[1], str(row.definition), previous[0], str(row.version))
            or "(same definition: a segment or model it references changed)"
        )
        previous = (str(row.version), str(row.definition))
    rows["diff"] = diffs
    rows["first_snapshot_date"] = rows["first_snapshot_date"].map(
        lambda value: "-" if pd.isna(value) else str(value)[:10]
    )
    return rows[HISTORY_COLUMNS]


def version_change(warehouse: Warehouse, segment: Segment, day: date) -> dict[str, str]:
    """When the snapshot before `day` was computed with another version: that version and
    the diff from it to the segment's definition now (nothing otherwise)."""
    previous = previous_run(warehouse, segment.name, day)
    if previous is None or previous[1] == segment.version:
        return {}
    old = stored_definition(warehouse, segment.name, previous[1])
    diff = (
        definition_diff(old, segment.definition_json(), previous[1], segment.version)
        if old is not None
        else "(the previous version's definition is not stored)"
    )
    if not diff:
        diff = "(same definition: a segment or model it references changed)\n"
    return {"previous_definition_version": previous[1], "definition_diff": diff}
