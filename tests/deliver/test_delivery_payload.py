"""Batches, canonical bodies, signatures and keys, without any network."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date

import pandas as pd
import pytest

from segment_pipeline.deliver.changes import feed_records, iso_timestamp
from segment_pipeline.deliver.feeds import Feed
from segment_pipeline.deliver.payload import build_batches, idempotency_key, signature

DAY = date(2026, 3, 1)
ENGAGED = Feed.segment("engaged")


def test_batches_hold_at_most_batch_size_changes(deltas):
    records = feed_records(deltas(2500), ENGAGED, DAY)

    batches = build_batches(ENGAGED, DAY, records, 1000)

    assert [b.size for b in batches] == [1000, 1000, 500]
    assert [b.idempotency_key for b in batches] == [
        "engaged:2026-03-01:1",
        "engaged:2026-03-01:2",
        "engaged:2026-03-01:3",
    ]
    documents = [json.loads(b.body) for b in batches]
    assert [(d["batch"], d["batches"]) for d in documents] == [(1, 3), (2, 3), (3, 3)]
    assert {d["segment"] for d in documents} == {"engaged"}
    assert {d["snapshot_date"] for d in documents} == {"2026-03-01"}


def test_changes_are_ordered_by_change_entity_type_and_id(deltas):
    records = feed_records(deltas(30), ENGAGED, DAY)
    changes = json.loads(build_batches(ENGAGED, DAY, records, 1000)[0].body)["changes"]

    keys = [(c["change"], c["entity_type"], c["entity_id"]) for c in changes]
    assert keys == sorted(keys)
    assert keys[0][0] == "added"
    assert set(changes[0]) == {
        "entity_type",
        "entity_id",
        "change",
        "reason",
        "reason_detail",
        "joined_at",
        "definition_version",
        "company_id",
        "persona",
    }


def test_body_bytes_do_not_depend_on_input_order(deltas):
    frame = deltas(50)
    shuffled = frame.sample(frac=1, random_state=7).reset_index(drop=True)

    first = build_batches(ENGAGED, DAY, feed_records(frame, ENGAGED, DAY), 20)
    second = build_batches(ENGAGED, DAY, feed_records(shuffled, ENGAGED, DAY), 20)

    assert [b.body for b in first] == [b.body for b in second]
    assert b", " not in first[0].body and b": " not in first[0].body


def test_nulls_and_timestamps_are_rendered_canonically(deltas):
    changes = json.loads(
        build_batches(ENGAGED, DAY, feed_records(deltas(3), ENGAGED, DAY), 10)[0].body
    )["changes"]

    added = next(c for c in changes if c["change"] == "added")
    removed = next(c for c in changes if c["change"] == "removed")
    assert added["joined_at"] == "2026-02-01T09:31:00.123456Z"
    assert added["reason"] is None and added["reason_detail"] is None
    assert removed["joined_at"] is None
    assert removed["reason"] == "no_longer_matches"


def test_aware_timestamps_are_converted_to_utc():
    aware = pd.Timestamp("2026-03-01 10:00:00+02:00")

    assert iso_timestamp(aware) == "2026-03-01T08:00:00.000000Z"


def test_signature_is_hmac_sha256_of_the_body():
    body = b'{"a":1}'
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()

    assert signature(body, "s3cret") == f"sha256={expected}"


def test_idempotency_key_names_segment_day_and_batch():
    assert idempotency_key(ENGAGED, DAY, 2) == "engaged:2026-03-01:2"


def test_an_empty_delta_gives_no_batch(deltas):
    assert build_batches(ENGAGED, DAY, feed_records(deltas(0), ENGAGED, DAY), 10) == []


def test_rows_of_another_segment_or_day_are_refused(deltas):
    with pytest.raises(ValueError, match="holds rows of"):
        feed_records(deltas(3, segment="other"), ENGAGED, DAY)
    with pytest.raises(ValueError, match="holds rows of"):
        feed_records(deltas(3, day=date(2026, 3, 2)), ENGAGED, DAY)
