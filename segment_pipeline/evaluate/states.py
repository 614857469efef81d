"""The state store: each evaluation's members and join times, what the next day starts from.

A state is kept per segment, definition version and snapshot date, with the landing
revision the evaluation saw; only the latest two days are kept, the only ones a later
day can start from.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlglot import exp

from segment_pipeline.compile.relations import members_table
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.ingest.landing import landing_revision
from segment_pipeline.sql import col, lit
from segment_pipeline.warehouse.engine import Warehouse
from segment_pipeline.warehouse.schema import create_table

#: Members and join times of each evaluation: what the next day's evaluation starts from.
STATES = "membership_states"
#: One row per evaluation kept in `membership_states` (a segment may have no members).
STATE_RUNS = "membership_state_runs"
_STATE_KEY = {"segment": "VARCHAR", "definition_version": "VARCHAR", "snapshot_date": "DATE"}
STATE_TABLES = {
    STATES: {**_STATE_KEY, "entity_id": "VARCHAR", "joined_at": "TIMESTAMP"},
    STATE_RUNS: {**_STATE_KEY, "landing_revision": "BIGINT"},
}


def create_state_tables(warehouse: Warehouse) -> None:
    """Create the state tables if they do not exist yet."""
    for name, columns in STATE_TABLES.items():
        warehouse.execute(create_table(name, columns))


def kept_states(warehouse: Warehouse, snapshot_date: date) -> set[tuple[str, str]]:
    """(segment, definition version) of the states kept for a day that saw the landing
    revision the warehouse has now for that day: the ones a later day can start from."""
    revision = landing_revision(warehouse, snapshot_date)
    return {
        (str(row[0]), str(row[1]))
        for row in warehouse.rows(
            exp.select("segment", "definition_version")
            .from_(STATE_RUNS)
            .where(col("snapshot_date").eq(lit(snapshot_date)))
            .where(exp.NullSafeEQ(this=col("landing_revision"), expression=lit(revision)))
        )
    }


def previous_state(segment: Segment, snapshot_date: date) -> exp.Expression:
    """The segment's members and join times kept for the day before, same definition."""
    return (
        exp.select("entity_id", "joined_at")
        .from_(STATES)
        .where(col("segment").eq(lit(segment.name)))
        .where(col("definition_version").eq(lit(segment.version)))
        .where(col("snapshot_date").eq(lit(snapshot_date - timedelta(days=1))))
        .subquery()
    )


def keep_states(warehouse: Warehouse, segments: list[Segment], snapshot_date: date) -> None:
    """Replace the segments' states for the day (from their `members_table`); drop states
    no later day can use."""
    day = lit(snapshot_date)
    revision = lit(landing_revision(warehouse, snapshot_date))
    with warehouse.transaction():
        for segment in segments:
            same_day = exp.and_(
                col("segment").eq(lit(segment.name)), col("snapshot_date").eq(day.copy())
            )
            stale = exp.and_(
                col("segment").eq(lit(segment.name)),
                col("snapshot_date") < lit(snapshot_date - timedelta(days=1)),
            )
            members = exp.select(
                lit(segment.name), lit(segment.version), day.copy(), "entity_id", "joined_at"
            ).from_(members_table(segment.name))
            run = exp.select(lit(segment.name), lit(segment.version), day.copy(), revision)
            for table in (STATES, STATE_RUNS):
                warehouse.execute(exp.delete(table, where=exp.or_(same_day, stale)))
            warehouse.execute(exp.insert(members, STATES))
            warehouse.execute(exp.insert(run, STATE_RUNS))
