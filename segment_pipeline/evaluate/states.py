"""The state store: each evaluation's members and join times, what the next day starts from.

A state is kept per segment, definition version and snapshot date, with the landing
revision the evaluation saw and the version of the evaluation semantics that computed it;
only the latest two days are kept, the only ones a later day can start from.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlglot import exp

from segment_pipeline.compile.relations import members_table
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.evaluate.semantics import SEMANTICS_VERSION
from segment_pipeline.ingest.landing import landing_revision
from segment_pipeline.sql import col, lit, union
from segment_pipeline.warehouse.engine import Warehouse

#: Members and join times of each evaluation: what the next day's evaluation starts from.
STATES = "membership_states"
#: One row per evaluation kept in `membership_states` (a segment may have no members).
STATE_RUNS = "membership_state_runs"
_STATE_KEY = {"segment": "VARCHAR", "definition_version": "VARCHAR", "snapshot_date": "DATE"}
STATE_TABLES = {
    STATES: {**_STATE_KEY, "entity_id": "VARCHAR", "joined_at": "TIMESTAMP"},
    STATE_RUNS: {**_STATE_KEY, "landing_revision": "BIGINT", "semantics_version": "BIGINT"},
}


def create_state_tables(warehouse: Warehouse) -> None:
    """Create the state tables if they do not exist yet (a warehouse from before
    `semantics_version` gains the column; its states, NULL there, are not reused)."""
    for name, columns in STATE_TABLES.items():
        warehouse.ensure_table(name, columns, partitioned_by="snapshot_date")


def kept_states(warehouse: Warehouse, snapshot_date: date) -> set[tuple[str, str]]:
    """(segment, definition version) of the states kept for a day that saw the landing
    revision the warehouse has now for that day, computed by these evaluation semantics:
    the ones a later day can start from."""
    revision = landing_revision(warehouse, snapshot_date)
    return {
        (str(row[0]), str(row[1]))
        for row in warehouse.rows(
            exp.select("segment", "definition_version")
            .from_(STATE_RUNS)
            .where(col("snapshot_date").eq(lit(snapshot_date)))
            .where(exp.NullSafeEQ(this=col("landing_revision"), expression=lit(revision)))
            .where(col("semantics_version").eq(lit(SEMANTICS_VERSION)))
        )
    }


def previous_state(segment: Segment, snapshot_date: date) -> exp.Expr:
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
    if not segments:
        return
    revision = landing_revision(warehouse, snapshot_date)
    replaced = exp.and_(
        col("segment").isin(*(lit(segment.name) for segment in segments)),
        exp.or_(
            col("snapshot_date").eq(lit(snapshot_date)),
            col("snapshot_date") < lit(snapshot_date - timedelta(days=1)),
        ),
    )

    def key(segment: Segment) -> list[exp.Expr]:
        return [
            exp.alias_(lit(segment.name), "segment"),
            exp.alias_(lit(segment.version), "definition_version"),
            exp.alias_(lit(snapshot_date), "snapshot_date"),
        ]

    members = [
        exp.select(*key(segment), "entity_id", "joined_at").from_(members_table(segment.name))
        for segment in segments
    ]
    runs = [
        exp.select(
            *key(segment),
            exp.alias_(exp.cast(lit(revision), "BIGINT"), "landing_revision"),
            exp.alias_(lit(SEMANTICS_VERSION), "semantics_version"),
        )
        for segment in segments
    ]
    with warehouse.transaction():
        warehouse.replace_rows(STATES, replaced, union(members, distinct=False))
        warehouse.replace_rows(STATE_RUNS, replaced.copy(), union(runs, distinct=False))
