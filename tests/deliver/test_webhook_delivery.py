"""Webhook delivery against a real HTTP receiver on 127.0.0.1 and a real DuckDB file."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from sqlglot import exp

from segment_pipeline.definitions.destinations import WebhookDestination
from segment_pipeline.deliver import WebhookSender, resolve_secret
from segment_pipeline.deliver.deliveries import DELIVERIES_COLUMNS
from segment_pipeline.deliver.feeds import Feed
from segment_pipeline.errors import DeliveryError
from tests.webhook_receiver import SECRET

DAY = date(2026, 3, 1)
ENGAGED = Feed.segment("engaged")
FAST = {"backoff_seconds": 0.01, "timeout_seconds": 2.0}


def webhook(url: str, **overrides) -> WebhookDestination:
    settings = {
        "name": "crm_webhook",
        "type": "webhook",
        "url": url,
        "secret_env": "SEGMENT_WEBHOOK_SECRET",
        "segments": ("engaged",),
        **overrides,
    }
    return WebhookDestination(**settings)


def attempts(warehouse):
    query = (
        exp.select(*DELIVERIES_COLUMNS)
        .from_("deliveries")
        .order_by("attempted_at", "batch", "attempt")
    )
    return warehouse.query(query)


def send(warehouse, url, frame, *, destination=None, feed=ENGAGED, secret=SECRET, **options):
    """One delivery run of one feed and day, as the webhook asset makes it."""
    with WebhookSender(destination or webhook(url), secret=secret, **{**FAST, **options}) as sender:
        return sender.deliver(warehouse, feed, DAY, frame)


def test_2500_changes_go_as_three_signed_batches(warehouse, receiver, deltas):
    report = send(warehouse, receiver.url, deltas(2500))

    assert (report.batches, report.delivered, report.skipped, report.attempts) == (3, 3, 0, 3)
    assert all(r.signature_ok for r in receiver.requests)
    assert {r.content_type for r in receiver.requests} == {"application/json"}
    assert [r.key for r in receiver.requests] == [
        "engaged:2026-03-01:1",
        "engaged:2026-03-01:2",
        "engaged:2026-03-01:3",
    ]
    documents = [json.loads(r.body) for r in receiver.requests]
    assert [len(d["changes"]) for d in documents] == [1000, 1000, 500]
    assert [(d["batch"], d["batches"]) for d in documents] == [(1, 3), (2, 3), (3, 3)]
    ids = [c["entity_id"] for d in documents for c in d["changes"]]
    assert len(set(ids)) == 2500


def test_503s_are_retried_with_the_same_bytes_and_key(warehouse, receiver, deltas):
    receiver.then(503, 503)

    report = send(warehouse, receiver.url, deltas(5))

    assert (report.delivered, report.attempts) == (1, 3)
    assert [r.answered for r in receiver.requests] == [503, 503, 200]
    assert [r.key for r in receiver.requests] == ["engaged:2026-03-01:1"] * 3
    assert len({r.body for r in receiver.requests}) == 1
    assert receiver.accepted_keys() == {"engaged:2026-03-01:1": 1}
    rows = attempts(warehouse)
    assert rows["attempt"].tolist() == [1, 2, 3]
    assert rows["status"].tolist() == ["failed", "failed", "delivered"]
    assert rows["http_status"].tolist() == [503, 503, 200]
    assert rows["error"].iloc[0].startswith("HTTP 503")
    assert rows["error"].isna().tolist() == [False, False, True]


def test_a_dropped_connection_is_retried(warehouse, receiver, deltas):
    receiver.then("drop")

    report = send(warehouse, receiver.url, deltas(5))

    assert report.attempts == 2
    first = attempts(warehouse).iloc[0]
    assert first["status"] == "failed"
    assert pd.isna(first["http_status"])
    assert "connection" in first["error"]


def test_a_timeout_is_retried(warehouse, receiver, deltas):
    receiver.then(("hang", 1.0))

    report = send(warehouse, receiver.url, deltas(5), timeout_seconds=0.2)

    assert report.attempts == 2
    assert attempts(warehouse)["error"].iloc[0] == "no response within 0.2 s"


def test_429_is_retried(warehouse, receiver, deltas):
    receiver.then(429)

    assert send(warehouse, receiver.url, deltas(5)).attempts == 2


@pytest.mark.parametrize("status", [400, 404, 422, 302])
def test_a_4xx_or_redirect_is_not_retried(warehouse, receiver, deltas, status):
    receiver.then(status)

    with pytest.raises(DeliveryError, match=rf"rejected batch 1 of 1 .* HTTP {status}"):
        send(warehouse, receiver.url, deltas(5))

    assert len(receiver.requests) == 1
    assert attempts(warehouse)["status"].tolist() == ["failed"]


def test_a_wrong_secret_is_refused_by_the_receiver_and_not_retried(warehouse, receiver, deltas):
    with pytest.raises(DeliveryError, match="HTTP 401"):
        send(warehouse, receiver.url, deltas(5), secret="wrong")

    assert [r.signature_ok for r in receiver.requests] == [False]


def test_a_rerun_delivers_each_batch_exactly_once(warehouse, receiver, deltas):
    frame = deltas(2500)
    send(warehouse, receiver.url, frame)

    again = send(warehouse, receiver.url, frame)

    assert (again.batches, again.delivered, again.skipped, again.attempts) == (3, 0, 3, 0)
    assert receiver.accepted_keys() == {
        "engaged:2026-03-01:1": 1,
        "engaged:2026-03-01:2": 1,
        "engaged:2026-03-01:3": 1,
    }


def test_a_recomputed_day_is_sent_again_under_the_same_key(warehouse, receiver, deltas):
    send(warehouse, receiver.url, deltas(10, version="v1"))

    recomputed = send(warehouse, receiver.url, deltas(10, version="v2"))
    back = send(warehouse, receiver.url, deltas(10, version="v1"))
    unchanged = send(warehouse, receiver.url, deltas(10, version="v1"))

    assert (recomputed.delivered, back.delivered, unchanged.skipped) == (1, 1, 1)
    assert [r.key for r in receiver.accepted()] == ["engaged:2026-03-01:1"] * 3
    versions = [json.loads(r.body)["changes"][0]["definition_version"] for r in receiver.requests]
    assert versions == ["v1", "v2", "v1"]


def test_a_receiver_that_stays_down_fails_clearly_and_keeps_delivered_batches(
    warehouse, receiver, deltas
):
    receiver.then(200)
    receiver.default = 503
    frame = deltas(2500)

    with pytest.raises(DeliveryError) as raised:
        send(warehouse, receiver.url, frame, max_attempts=3)

    assert str(raised.value) == (
        f"webhook destination crm_webhook ({receiver.url}) did not accept batch 2 of 3 of "
        "segment engaged for 2026-03-01 after 3 attempts; last error: HTTP 503 Service "
        'Unavailable ({"error":"try later"})'
    )
    rows = attempts(warehouse)
    assert list(zip(rows["batch"], rows["attempt"], rows["status"], strict=True)) == [
        (1, 1, "delivered"),
        (2, 1, "failed"),
        (2, 2, "failed"),
        (2, 3, "failed"),
    ]

    receiver.default = 200
    resumed = send(warehouse, receiver.url, frame)

    assert (resumed.delivered, resumed.skipped) == (2, 1)
    assert set(receiver.accepted_keys().values()) == {1}
    assert len(receiver.accepted_keys()) == 3


def test_nothing_listening_fails_after_max_attempts(warehouse, dead_url, deltas):
    with pytest.raises(DeliveryError, match=r"after 4 attempts; last error: connection failed"):
        send(warehouse, dead_url, deltas(5), max_attempts=4)

    assert attempts(warehouse)["attempt"].tolist() == [1, 2, 3, 4]


def test_backoff_doubles_between_attempts(warehouse, dead_url, deltas):
    started = time.monotonic()
    with pytest.raises(DeliveryError):
        send(warehouse, dead_url, deltas(1), max_attempts=4, backoff_seconds=0.05)

    assert time.monotonic() - started >= 0.05 + 0.1 + 0.2


def test_each_attempt_row_describes_what_was_sent(warehouse, receiver, deltas):
    send(warehouse, receiver.url, deltas(1500))

    rows = attempts(warehouse)
    assert rows["destination"].unique().tolist() == ["crm_webhook"]
    assert rows["segment"].unique().tolist() == ["engaged"]
    assert {d.date() for d in rows["snapshot_date"]} == {DAY}
    assert rows["idempotency_key"].tolist() == [r.key for r in receiver.requests]
    assert rows["body_sha256"].tolist() == [
        hashlib.sha256(r.body).hexdigest() for r in receiver.requests
    ]
    now = datetime.now(UTC).replace(tzinfo=None)
    assert all(abs((now - t).total_seconds()) < 60 for t in rows["attempted_at"])


def test_an_empty_delta_sends_nothing(warehouse, receiver, deltas):
    report = send(warehouse, receiver.url, deltas(0))

    assert (report.batches, report.attempts) == (0, 0)
    assert receiver.requests == []


def test_a_smaller_batch_size_is_honoured(warehouse, receiver, deltas):
    destination = webhook(receiver.url, batch_size=100)

    report = send(warehouse, receiver.url, deltas(250), destination=destination)

    assert report.batches == 3
    assert [len(json.loads(r.body)["changes"]) for r in receiver.requests] == [100, 100, 50]


def test_a_segment_the_destination_does_not_take_is_refused(warehouse, receiver, deltas):
    with pytest.raises(ValueError, match="does not take segment other"):
        send(warehouse, receiver.url, deltas(1, segment="other"), feed=Feed.segment("other"))


def test_the_secret_comes_from_the_named_variable(monkeypatch):
    destination = webhook("http://127.0.0.1:1/segments")
    monkeypatch.setenv("SEGMENT_WEBHOOK_SECRET", "from-env")

    assert resolve_secret(destination) == "from-env"

    monkeypatch.delenv("SEGMENT_WEBHOOK_SECRET")
    with pytest.raises(DeliveryError, match="environment variable SEGMENT_WEBHOOK_SECRET"):
        resolve_secret(destination)


def test_a_password_in_the_url_is_not_shown(warehouse, dead_url, deltas):
    url = dead_url.replace("http://", "http://user:hunter2@")

    with pytest.raises(DeliveryError) as raised:
        send(warehouse, url, deltas(1), max_attempts=1)

    assert "hunter2" not in str(raised.value)
    assert "user:***@127.0.0.1" in str(raised.value)
