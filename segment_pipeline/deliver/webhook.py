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
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Self

import pandas as pd
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

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
from segment_pipeline.deliver.transport import PostOutcome, open_client, post
from segment_pipeline.errors import DeliveryError
from segment_pipeline.warehouse.engine import Warehouse


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery did: batches in the day, sent now, skipped as already there."""

    batches: int
    delivered: int
    skipped: int
    attempts: int


@dataclass(frozen=True)
class _Target:
    """Where the batches of one feed and day are recorded, besides the batch itself."""

    warehouse: Warehouse
    feed: Feed
    snapshot_date: date


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


class _NotDelivered(Exception):
    """An attempt the receiver did not accept, raised so tenacity can judge it."""

    def __init__(self, outcome: PostOutcome) -> None:
        super().__init__(outcome.error)
        self.outcome = outcome


def _worth_retrying(error: BaseException) -> bool:
    return isinstance(error, _NotDelivered) and error.outcome.retryable


class WebhookSender:
    """One delivery run to a webhook destination: a single httpx client (its connections
    reused for every batch, feed and day of the run) and the retry policy.

    Use it as a context manager, which closes the client: `with WebhookSender(...) as
    sender: sender.deliver(...)`. A failed attempt is retried by tenacity after
    `backoff_seconds * 2**n` (n = 0, 1, ...) on a connection error, a timeout, 429 or 5xx,
    up to `max_attempts` POSTs per batch; any other non-2xx status fails at once.
    """

    def __init__(
        self,
        destination: WebhookDestination,
        *,
        secret: str,
        max_attempts: int = 5,
        backoff_seconds: float = 0.5,
        timeout_seconds: float = 10,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        self._destination = destination
        self._secret = secret
        self._max_attempts = max_attempts
        self._backoff_seconds = backoff_seconds
        self._client = open_client(timeout_seconds)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._client.close()

    def deliver(
        self, warehouse: Warehouse, feed: Feed, snapshot_date: date, frame: pd.DataFrame
    ) -> DeliveryReport:
        """POST a feed's records for one day (a segment's changes, a journey's entrants) as
        signed JSON batches, each exactly once.

        Batches go in order. Every attempt is recorded in `deliveries` as it ends, so when
        a batch finally fails (DeliveryError) the batches before it stay recorded as
        delivered and a re-run starts from the first batch the receiver does not hold. A
        day without changes sends nothing. Must not run inside `Warehouse.transaction()`.
        """
        destination = self._destination
        if not feed.taken_by(destination):
            raise ValueError(f"destination {destination.name} does not take {feed.describe()}")
        ensure_deliveries_table(warehouse)
        records = feed_records(frame, feed, snapshot_date)
        batches = build_batches(feed, snapshot_date, records, destination.batch_size)
        already = delivered_bodies(warehouse, destination.name, feed, snapshot_date)
        target = _Target(warehouse=warehouse, feed=feed, snapshot_date=snapshot_date)
        pending = [b for b in batches if already.get(b.idempotency_key) != b.body_sha256]
        attempts = sum(self._send(target, batch) for batch in pending)
        return DeliveryReport(
            batches=len(batches),
            delivered=len(pending),
            skipped=len(batches) - len(pending),
            attempts=attempts,
        )

    def _send(self, target: _Target, batch: Batch) -> int:
        """POST one batch until it is accepted; the number of attempts it took.

        Raises DeliveryError on a permanent rejection or when every attempt failed.
        """
        headers = _headers(batch, self._secret)
        retrying = Retrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=wait_exponential(multiplier=self._backoff_seconds),
            retry=retry_if_exception(_worth_retrying),
            reraise=True,
        )
        number = 0
        try:
            for attempt in retrying:
                with attempt:
                    number = attempt.retry_state.attempt_number
                    outcome = post(self._client, self._destination.url, batch.body, headers)
                    self._record(target, batch, number, outcome)
                    if not outcome.delivered:
                        raise _NotDelivered(outcome)
        except _NotDelivered as failed:
            raise self._failure(target, batch, number, failed.outcome) from None
        return number

    def _record(self, target: _Target, batch: Batch, attempt: int, outcome: PostOutcome) -> None:
        subject = target.feed.shape.subject
        record_attempt(
            target.warehouse,
            Attempt(
                destination=self._destination.name,
                segment=target.feed.name if subject == "segment" else None,
                journey=target.feed.name if subject == "journey" else None,
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

    def _failure(
        self, target: _Target, batch: Batch, attempts: int, outcome: PostOutcome
    ) -> DeliveryError:
        destination = self._destination
        where = f"webhook destination {destination.name} ({_display_url(destination.url)})"
        what = (
            f"batch {batch.index} of {batch.batches} of {target.feed.describe()} "
            f"for {target.snapshot_date.isoformat()}"
        )
        if outcome.retryable:
            return DeliveryError(
                f"{where} did not accept {what} after {attempts} attempts; "
                f"last error: {outcome.error}"
            )
        return DeliveryError(f"{where} rejected {what} with {outcome.error}, which is not retried")
