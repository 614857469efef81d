"""Signed webhook delivery of a day's delta or entrants: batched, retried, recorded, sent once.

Idempotency: every batch carries `Idempotency-Key: <segment>:<YYYY-MM-DD>:<batch>` (the key
the issue asks for; `journey:<journey>:<YYYY-MM-DD>:<batch>` for a journey's entrants), a
stable name for the slot the batch fills at the receiver. Whether a batch is sent is decided
by the `deliveries` table, not by the key alone: a batch is skipped when the body the
receiver last accepted under that key has the same SHA-256, and sent again when the day was
recomputed into different content. A receiver should therefore treat a repeated key with a
different body (a different `X-Signature`) as a replacement of that slot, and a repeated key
with the same body as a duplicate it can ignore.
"""

from __future__ import annotations

import os
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd

from segment_pipeline.definitions.destinations import WebhookDestination
from segment_pipeline.deliver.changes import feed_records
from segment_pipeline.deliver.deliveries import (
    Attempt,
    delivered_bodies,
    ensure_deliveries_table,
    record_attempt,
)
from segment_pipeline.deliver.feeds import Feed
from segment_pipeline.deliver.payload import Batch, build_batches, signature
from segment_pipeline.deliver.transport import PostOutcome, post
from segment_pipeline.errors import DeliveryError
from segment_pipeline.warehouse.engine import Warehouse


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery run did: batches in the day, sent now, skipped as already there."""

    batches: int
    delivered: int
    skipped: int
    attempts: int


@dataclass(frozen=True)
class _Target:
    """Everything a single attempt needs to know besides the batch itself."""

    warehouse: Warehouse
    destination: WebhookDestination
    feed: Feed
    snapshot_date: date
    secret: str
    max_attempts: int
    backoff_seconds: float
    timeout_seconds: float


def resolve_secret(destination: WebhookDestination) -> str:
    """The signing secret from the environment variable the destination names."""
    secret = os.environ.get(destination.secret_env)
    if not secret:
        raise DeliveryError(
            f"webhook destination {destination.name} needs its signing secret in the "
            f"environment variable {destination.secret_env}, which is not set"
        )
    return secret


def _display_url(url: str) -> str:
    """The URL without a password, fit for messages and logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _headers(batch: Batch, secret: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Signature": signature(batch.body, secret),
        "Idempotency-Key": batch.idempotency_key,
    }


def _record(target: _Target, batch: Batch, attempt: int, outcome: PostOutcome) -> None:
    record_attempt(
        target.warehouse,
        Attempt(
            destination=target.destination.name,
            segment=target.feed.name if target.feed.shape.subject == "segment" else None,
            journey=target.feed.name if target.feed.shape.subject == "journey" else None,
            snapshot_date=target.snapshot_date,
            batch=batch.index,
            idempotency_key=batch.idempotency_key,
            attempt=attempt,
            status="delivered" if outcome.delivered else "failed",
            http_status=outcome.http_status,
            error=outcome.error,
            body_sha256=batch.body_sha256,
            attempted_at=datetime.now(UTC).replace(tzinfo=None),
        ),
    )


def _failure(target: _Target, batch: Batch, attempts: int, outcome: PostOutcome) -> DeliveryError:
    where = (
        f"webhook destination {target.destination.name} ({_display_url(target.destination.url)})"
    )
    what = (
        f"batch {batch.index} of {batch.batches} of {target.feed.describe()} "
        f"for {target.snapshot_date.isoformat()}"
    )
    if outcome.retryable:
        return DeliveryError(
            f"{where} did not accept {what} after {attempts} attempts; last error: {outcome.error}"
        )
    return DeliveryError(f"{where} rejected {what} with {outcome.error}, which is not retried")


def _send(target: _Target, batch: Batch) -> int:
    """POST one batch until it is accepted; the number of attempts it took.

    Raises DeliveryError on a permanent rejection or when every attempt failed.
    """
    headers = _headers(batch, target.secret)
    for attempt in range(1, target.max_attempts + 1):
        outcome = post(target.destination.url, batch.body, headers, target.timeout_seconds)
        _record(target, batch, attempt, outcome)
        if outcome.delivered:
            return attempt
        if not outcome.retryable or attempt == target.max_attempts:
            raise _failure(target, batch, attempt, outcome)
        time.sleep(target.backoff_seconds * 2 ** (attempt - 1))
    raise AssertionError("unreachable: the loop returns or raises")


def deliver_webhook(
    warehouse: Warehouse,
    destination: WebhookDestination,
    feed: Feed,
    snapshot_date: date,
    frame: pd.DataFrame,
    *,
    secret: str,
    max_attempts: int = 5,
    backoff_seconds: float = 0.5,
    timeout_seconds: float = 10,
) -> DeliveryReport:
    """POST a feed's records for one day (a segment's changes, a journey's entrants) as
    signed JSON batches, each exactly once.

    Batches go in order; a failed attempt is retried after `backoff_seconds * 2**n`
    (n = 0, 1, ...) on a connection error, a timeout, 429 or 5xx, and any other non-2xx
    status fails at once. Every attempt is recorded in `deliveries` as it ends, so when a
    batch finally fails (DeliveryError) the batches before it stay recorded as delivered
    and a re-run starts from the first batch the receiver does not hold. A day without
    changes sends nothing. Must not run inside `Warehouse.transaction()`.
    """
    if not feed.taken_by(destination):
        raise ValueError(f"destination {destination.name} does not take {feed.describe()}")
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
    ensure_deliveries_table(warehouse)
    records = feed_records(frame, feed, snapshot_date)
    batches = build_batches(feed, snapshot_date, records, destination.batch_size)
    already = delivered_bodies(warehouse, destination.name, feed, snapshot_date)
    target = _Target(
        warehouse=warehouse,
        destination=destination,
        feed=feed,
        snapshot_date=snapshot_date,
        secret=secret,
        max_attempts=max_attempts,
        backoff_seconds=backoff_seconds,
        timeout_seconds=timeout_seconds,
    )
    pending = [b for b in batches if already.get(b.idempotency_key) != b.body_sha256]
    attempts = sum(_send(target, batch) for batch in pending)
    return DeliveryReport(
        batches=len(batches),
        delivered=len(pending),
        skipped=len(batches) - len(pending),
        attempts=attempts,
    )
