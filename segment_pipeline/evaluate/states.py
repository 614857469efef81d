"""The state store: each evaluation's members and join times, what the next day starts from.

A state is kept per segment, definition version and snapshot date, with the landing
revision the evaluation saw and the version of the evaluation semantics that computed it;
only the latest two days are kept, the only ones a later day can start from. A company
segment with personas keeps its picked contacts in the same state, with a row saying so
(a state kept before picks were kept has none, and its picks are not reused).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlglot import exp

from segment_pipeline.compile.relations import members_table, picks_table
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.evaluate.semantics import SEMANTICS_VERSION
from segment_pipeline.ingest.landing import landing_revision
from segment_pipeline.sql import col, lit, union
from segment_pipeline.warehouse.engine import Warehouse

#: Members and join times of each evaluation: what the next day's evaluation starts from.
STATES = "membership_states"
#: One row per evaluation kept in `membership_states` (a segment may have no members).
STATE_RUNS = "membership_state_runs"
#: Picked contacts of each evaluation of a segment with personas (`PICK_COLUMNS`).
PICK_STATES = "picked_contact_states"
#: One row per evaluation that kept its picked contacts in `picked_contact_states`.
PICK_STATE_RUNS = "picked_contact_state_runs"
_STATE_KEY = {"segment": "VARCHAR", "definition_version": "VARCHAR", "snapshot_date": "DATE"}
STATE_TABLES = {
    STATES: {**_STATE_KEY, "entity_id": "VARCHAR", "joined_at": "TIMESTAMP"},
    PICK_STATES: {
        **_STATE_KEY,
        "entity_id": "VARCHAR",
        "joined_at": "TIMESTAMP",
        "company_id": "VARCHAR",
        "persona": "VARCHAR",
        "persona_rank": "INTEGER",
    },
    PICK_STATE_RUNS: _STATE_KEY,
    STATE_RUNS: {**_STATE_KEY, "landing_revision": "BIGINT", "semantics_version": "BIGINT"},
}
#: The columns of a picked contact, beyond the segment and day.
PICK_COLUMNS = ["entity_id", "joined_at", "company_id", "persona", "persona_rank"]


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


def kept_picks(warehouse: Warehouse, snapshot_date: date) -> set[tuple[str, str]]:
    """(segment, definition version) of the states kept for a day with their picked
    contacts (`kept_states` says whether the state itself can be reused)."""
    return {
        (str(row[0]), str(row[1]))
        for row in warehouse.rows(
            exp.select("segment", "definition_version")
            .from_(PICK_STATE_RUNS)
            .where(col("snapshot_date").eq(lit(snapshot_date)))
        )
    }


def _previous(table: str, columns: list[str], segment: Segment, snapshot_date: date) -> exp.Expr:
    return (
        exp.select(*columns)
        .from_(table)
        .where(col("segment").eq(lit(segment.name)))
        .where(col("definition_version").eq(lit(segment.version)))
        .where(col("snapshot_date").eq(lit(snapshot_date - timedelta(days=1))))
        .subquery()
    )


def previous_state(segment: Segment, snapshot_date: date) -> exp.Expr:
    """The segment's members and join times kept for the day before, same definition."""
    return _previous(STATES, ["entity_id", "joined_at"], segment, snapshot_date)


def previous_picks(segment: Segment, snapshot_date: date) -> exp.Expr:
    """The segment's picked contacts kept for the day before, same definition
    (`PICK_COLUMNS`)."""
    return _previous(PICK_STATES, PICK_COLUMNS, segment, snapshot_date)


def keep_states(warehouse: Warehouse, segments: list[Segment], snapshot_date: date) -> None:
    """Replace the segments' states for the day (from their `members_table`, and the
    `picks_table` of those with personas); drop states no later day can use."""
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
    picking = [segment for segment in segments if segment.personas is not None]
    picks = [
        exp.select(*key(segment), *PICK_COLUMNS).from_(picks_table(segment.name))
        for segment in picking
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
        if picking:
            warehouse.replace_rows(PICK_STATES, replaced.copy(), union(picks, distinct=False))
            marks = [exp.select(*key(segment)) for segment in picking]
            warehouse.replace_rows(PICK_STATE_RUNS, replaced.copy(), union(marks, distinct=False))
        warehouse.replace_rows(STATE_RUNS, replaced.copy(), union(runs, distinct=False))
