"""Write a segment's daily snapshot: dynamic segments recomputed, static ones carried.

A static segment keeps the members and join times of its last refresh; it refreshes on
its first snapshot, when its definition version changes, and when a person asks.
Rows for persona contacts (SPEC 7) will be added to the same table by the personas step;
member rows leave `company_id`, `persona` and `persona_rank` NULL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlglot import exp

from segment_pipeline.definitions.segments import Segment
from segment_pipeline.sql import col, lit
from segment_pipeline.warehouse.engine import Warehouse
from segment_pipeline.warehouse.schema import OUTPUT_TABLES

SNAPSHOT_COLUMNS = list(OUTPUT_TABLES["segment_snapshots"])


@dataclass(frozen=True)
class SnapshotResult:
    """What one segment's snapshot for one day holds, and why."""

    segment: str
    snapshot_date: date
    members: int
    refreshed: bool
    previous_date: date | None


def _segment_day(segment: str, snapshot_date: date) -> exp.Expr:
    return exp.and_(col("segment").eq(lit(segment)), col("snapshot_date").eq(lit(snapshot_date)))


def previous_run(
    warehouse: Warehouse, segment: str, snapshot_date: date
) -> tuple[date, str] | None:
    """Date and definition version of the latest snapshot before `snapshot_date`.

    This is the delta's baseline: the latest earlier snapshot, whether or not it is the
    day before (a gap in the partitions compares with what was last materialised).
    """
    rows = warehouse.rows(
        exp.select("snapshot_date", "definition_version")
        .from_("segment_snapshot_runs")
        .where(col("segment").eq(lit(segment)))
        .where(col("snapshot_date") < lit(snapshot_date))
        .order_by(exp.Ordered(this=col("snapshot_date"), desc=True))
        .limit(1)
    )
    return (rows[0][0], str(rows[0][1])) if rows else None


def last_refresh(warehouse: Warehouse, segment: str, on_or_before: date) -> date:
    """The date of the segment's latest refreshed snapshot up to `on_or_before`: when the
    members (and picked contacts) that snapshot carries were evaluated. A dynamic segment
    refreshes every snapshot, so that is `on_or_before` itself when it has one."""
    found = warehouse.scalar(
        exp.select(exp.func("max", col("snapshot_date")))
        .from_("segment_snapshot_runs")
        .where(col("segment").eq(lit(segment)))
        .where(col("snapshot_date") <= lit(on_or_before))
        .where(col("refreshed"))
    )
    return found if isinstance(found, date) else on_or_before


def write_snapshot(
    warehouse: Warehouse,
    segment: Segment,
    snapshot_date: date,
    evaluated: exp.Expr,
    *,
    refresh: bool = False,
) -> SnapshotResult:
    """Replace the segment's snapshot for the day with its members.

    `evaluated` is a relation of the members the definition gives today (`entity_id`,
    `joined_at`); a static segment uses them only when it refreshes, and otherwise keeps
    its previous snapshot's members.
    """
    previous = previous_run(warehouse, segment.name, snapshot_date)
    members = exp.select("entity_id", "joined_at").from_(evaluated)
    refreshed = True
    if segment.mode == "static" and previous and previous[1] == segment.version and not refresh:
        members = (
            exp.select("entity_id", "joined_at")
            .from_("segment_snapshots")
            .where(_segment_day(segment.name, previous[0]))
            .where(col("entity_type").eq(lit(segment.entity)))
        )
        refreshed = False
    rows = exp.select(
        exp.alias_(lit(snapshot_date), "snapshot_date"),
        exp.alias_(lit(segment.name), "segment"),
        exp.alias_(lit(segment.entity), "entity_type"),
        "entity_id",
        "joined_at",
        exp.alias_(lit(segment.version), "definition_version"),
        exp.alias_(exp.null(), "company_id"),
        exp.alias_(exp.null(), "persona"),
        exp.alias_(exp.null(), "persona_rank"),
    ).from_(members.subquery("members", copy=False))
    now = datetime.now(UTC).replace(tzinfo=None)
    with warehouse.transaction():
        warehouse.replace_rows("segment_snapshots", _segment_day(segment.name, snapshot_date), rows)
        written = int(
            warehouse.scalar(
                exp.select(exp.func("count", exp.Star()))
                .from_("segment_snapshots")
                .where(_segment_day(segment.name, snapshot_date))
            )
            or 0
        )
        run_row = exp.select(
            exp.alias_(lit(snapshot_date), "snapshot_date"),
            exp.alias_(lit(segment.name), "segment"),
            exp.alias_(lit(segment.version), "definition_version"),
            exp.alias_(lit(refreshed), "refreshed"),
            exp.alias_(lit(written), "members"),
            exp.alias_(lit(now), "materialized_at"),
        )
        warehouse.replace_rows(
            "segment_snapshot_runs", _segment_day(segment.name, snapshot_date), run_row
        )
        record_definition(warehouse, segment, now)
    return SnapshotResult(
        segment.name, snapshot_date, written, refreshed, previous[0] if previous else None
    )


def record_definition(warehouse: Warehouse, segment: Segment, now: datetime) -> None:
    """Keep each definition version once, stamped with when it was first materialised."""
    known = (
        exp.select("1")
        .from_("segment_definitions")
        .where(
            exp.and_(col("segment").eq(lit(segment.name)), col("version").eq(lit(segment.version)))
        )
    )
    row = exp.select(
        exp.alias_(lit(segment.name), "segment"),
        exp.alias_(lit(segment.version), "version"),
        exp.alias_(lit(segment.entity), "entity"),
        exp.alias_(lit(segment.mode), "mode"),
        exp.alias_(exp.cast(lit(segment.definition_json()), "JSON"), "definition"),
        exp.alias_(lit(now), "first_materialized_at"),
    ).where(exp.not_(exp.Exists(this=known)))
    warehouse.append("segment_definitions", row)
