"""The `deliveries` table: one row per webhook attempt, the memory that makes re-runs safe.

Each attempt is written as soon as it ends (outside any transaction), so a run that fails
half-way still leaves the batches it delivered on record and a re-run does not send them
again. Callers must therefore not wrap a delivery in `Warehouse.transaction()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlglot import exp

from segment_pipeline.deliver.feeds import Feed
from segment_pipeline.warehouse.engine import Warehouse

DELIVERIES_TABLE = "deliveries"

DELIVERIES_COLUMNS: dict[str, str] = {
    "destination": "VARCHAR",
    "segment": "VARCHAR",
    "journey": "VARCHAR",
    "snapshot_date": "DATE",
    "batch": "INTEGER",
    "idempotency_key": "VARCHAR",
    "attempt": "INTEGER",
    "status": "VARCHAR",
    "http_status": "INTEGER",
    "error": "VARCHAR",
    "body_sha256": "VARCHAR",
    "attempted_at": "TIMESTAMP",
}

Status = Literal["delivered", "failed"]


@dataclass(frozen=True)
class Attempt:
    """One POST of one batch and how it ended; `attempt` counts from 1 within a run.

    Exactly one of `segment` and `journey` is set: whose changes, or entrants, were sent.
    `snapshot_date` is the day delivered (a journey's `entered_on`).
    """

    destination: str
    segment: str | None
    journey: str | None
    snapshot_date: date
    batch: int
    idempotency_key: str
    attempt: int
    status: Status
    http_status: int | None
    error: str | None
    body_sha256: str
    attempted_at: datetime


def ensure_deliveries_table(warehouse: Warehouse) -> None:
    """Create the `deliveries` table unless it exists."""
    warehouse.ensure_table(DELIVERIES_TABLE, DELIVERIES_COLUMNS)


def _literal(value: object, kind: str) -> exp.Expr:
    """A typed SQL literal for one attempt field (never string formatting)."""
    if value is None:
        return exp.cast(exp.null(), exp.DataType.build(kind))
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build(kind))
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build(kind))
    if isinstance(value, int):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def record_attempt(warehouse: Warehouse, attempt: Attempt) -> None:
    """Append one attempt; committed at once because the connection is in autocommit."""
    values = tuple(
        _literal(getattr(attempt, column), kind) for column, kind in DELIVERIES_COLUMNS.items()
    )
    row = exp.select(
        *(
            exp.alias_(value, column)
            for value, column in zip(values, DELIVERIES_COLUMNS, strict=True)
        )
    )
    warehouse.append(DELIVERIES_TABLE, row, list(DELIVERIES_COLUMNS))


def delivered_bodies(
    warehouse: Warehouse, destination: str, feed: Feed, snapshot_date: date
) -> dict[str, str]:
    """Idempotency key -> SHA-256 of the body the receiver got last for that key.

    Only the latest delivered body counts: after A, then B, a re-run producing A again
    must re-send A, because the receiver now holds B.
    """
    query = (
        exp.select(
            exp.column("idempotency_key"),
            exp.ArgMax(this=exp.column("body_sha256"), expression=exp.column("attempted_at")),
        )
        .from_(DELIVERIES_TABLE)
        .where(
            exp.column("destination").eq(exp.Literal.string(destination)),
            exp.column(feed.shape.subject).eq(exp.Literal.string(feed.name)),
            exp.column("snapshot_date").eq(_literal(snapshot_date, "DATE")),
            exp.column("status").eq(exp.Literal.string("delivered")),
        )
        .group_by(exp.column("idempotency_key"))
    )
    return {str(key): str(sha) for key, sha in warehouse.rows(query)}
