"""Webhook batches: the exact bytes sent, their signature and their idempotency key.

Everything here is a pure function of the day's delta, so a batch re-sent by a retry or a
re-run is byte-identical and carries the same signature; receivers can rely on that.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import date

from segment_pipeline.deliver.changes import Record
from segment_pipeline.deliver.feeds import Feed


@dataclass(frozen=True)
class Batch:
    """One POST body: batch `index` (1-based) of `batches` for a feed and day."""

    index: int
    batches: int
    idempotency_key: str
    body: bytes
    size: int

    @property
    def body_sha256(self) -> str:
        """Hex SHA-256 of the body: what decides whether a delivered batch must be re-sent."""
        return hashlib.sha256(self.body).hexdigest()


def idempotency_key(feed: Feed, day: date, index: int) -> str:
    """`<segment>:<YYYY-MM-DD>:<batch>` (`journey:<journey>:...` for entrants): the slot a
    batch fills at the receiver."""
    return f"{feed.key}:{day.isoformat()}:{index}"


def encode(document: object) -> bytes:
    """Canonical JSON (sorted keys, no spaces, ASCII): equal documents give equal bytes."""
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("ascii")


def signature(body: bytes, secret: str) -> str:
    """The `X-Signature` header value: `sha256=` and the hex HMAC-SHA256 of the body bytes."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def build_batches(feed: Feed, day: date, records: list[Record], batch_size: int) -> list[Batch]:
    """Split ordered records into batches of at most `batch_size` records.

    A day without records yields no batch at all: a receiver hears only about changes.
    """
    shape = feed.shape
    chunks = [records[start : start + batch_size] for start in range(0, len(records), batch_size)]
    batches = []
    for index, chunk in enumerate(chunks, start=1):
        document = {
            shape.subject: feed.name,
            shape.day_column: day.isoformat(),
            "batch": index,
            "batches": len(chunks),
            shape.items: [{f: record[f] for f in shape.item_fields} for record in chunk],
        }
        batches.append(
            Batch(
                index=index,
                batches=len(chunks),
                idempotency_key=idempotency_key(feed, day, index),
                body=encode(document),
                size=len(chunk),
            )
        )
    return batches
