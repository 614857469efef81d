"""Destinations end to end: the daily job's CSV files, webhooks against a live receiver."""

from __future__ import annotations

import csv
import json
import math
from datetime import date

import dagster as dg
import pytest

from segment_pipeline.deliver.changes import feed_records
from segment_pipeline.deliver.feeds import Feed
from segment_pipeline.orchestrate.assets.destinations import destination_key
from segment_pipeline.orchestrate.consumers import read_deltas
from segment_pipeline.warehouse import Warehouse
from tests.webhook_receiver import SECRET, Receiver

from .conftest import (
    BATCH_SIZE,
    DAYS,
    SECRET_ENV,
    WEBHOOK_SEGMENTS,
    Pipeline,
    failure_description,
    materialize_range,
)

WEBHOOK = destination_key("crm_webhook")
WEBHOOK_OP = "destinations__crm_webhook"
IMPATIENT = {"ops": {WEBHOOK_OP: {"config": {"max_attempts": 2, "backoff_seconds": 0}}}}


def _deltas(pipeline: Pipeline, segments: list[str]) -> dict[tuple[str, date], list[dict]]:
    with Warehouse.open(pipeline.settings.warehouse_settings, read_only=True) as warehouse:
        return {
            (segment, day): feed_records(
                read_deltas(warehouse, segment, day), Feed.segment(segment), day
            )
            for segment in segments
            for day in DAYS
        }


def _expected_keys(pipeline: Pipeline) -> set[str]:
    """`<segment>:<day>:<batch>` of every batch the three days need."""
    return {
        f"{segment}:{day.isoformat()}:{index}"
        for (segment, day), records in _deltas(pipeline, WEBHOOK_SEGMENTS).items()
        for index in range(1, math.ceil(len(records) / BATCH_SIZE) + 1)
    }


def _metadata(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    events = result.get_asset_materialization_events()
    assert events, "nothing was materialised"
    return {name: value.value for name, value in events[0].materialization.metadata.items()}


def test_daily_run_exports_each_day_of_each_segment(materialized: Pipeline) -> None:
    project_segments = sorted(
        path.stem for path in (materialized.project / "segments").glob("*.yml")
    )
    expected = _deltas(materialized, project_segments)
    assert sum(len(records) for records in expected.values()) > 0, "the sample has no changes"
    for (segment, day), records in expected.items():
        file = materialized.csv_dir / segment / f"{day.isoformat()}.csv"
        with file.open(newline="") as stream:
            rows = [{k: v or None for k, v in row.items()} for row in csv.DictReader(stream)]
        assert rows == records, f"{file} differs from segment_deltas"


def test_daily_run_posts_nothing(materialized: Pipeline) -> None:
    """The shipped example's receiver is not running during a CLI run: nothing is tried."""
    with Warehouse.open(materialized.settings.warehouse_settings, read_only=True) as warehouse:
        assert not warehouse.table_exists("deliveries")


def test_webhook_delivers_every_batch_exactly_once(
    pipeline: Pipeline, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    expected = _expected_keys(pipeline)
    assert len(expected) > len(DAYS), "batches too big to exercise batching"

    first = materialize_range(pipeline.definitions(), [WEBHOOK], DAYS[0], DAYS[-1])
    assert first.success
    assert receiver.accepted_keys() == dict.fromkeys(expected, 1)
    assert all(request.signature_ok for request in receiver.requests)
    sent = {
        (body["segment"], body["snapshot_date"], change["entity_id"], change["change"])
        for body in (json.loads(request.body) for request in receiver.requests)
        for change in body["changes"]
    }
    assert sent == {
        (segment, day.isoformat(), record["entity_id"], record["change"])
        for (segment, day), records in _deltas(pipeline, WEBHOOK_SEGMENTS).items()
        for record in records
    }
    assert _metadata(first) | {"days": None, "by_segment": None} == {
        "changes": len(sent),
        "batches_delivered": len(expected),
        "batches_skipped": 0,
        "attempts": len(expected),
        "days": None,
        "by_segment": None,
    }

    again = materialize_range(pipeline.definitions(), [WEBHOOK], DAYS[0], DAYS[-1])
    assert again.success
    assert len(receiver.requests) == len(expected), "a re-run sent a batch again"
    metadata = _metadata(again)
    assert (metadata["batches_delivered"], metadata["batches_skipped"], metadata["attempts"]) == (
        0,
        len(expected),
        0,
    )


def test_receiver_down_fails_in_one_sentence_and_keeps_what_was_delivered(
    pipeline: Pipeline, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    receiver.script.append(200)
    receiver.default = 503

    failed = materialize_range(
        pipeline.definitions(), [WEBHOOK], DAYS[0], DAYS[-1], run_config=IMPATIENT
    )
    assert not failed.success
    sentence = failure_description(failed)
    assert "\n" not in sentence
    assert sentence.startswith("webhook destination crm_webhook (")
    assert "did not accept batch" in sentence and "after 2 attempts" in sentence
    assert len(receiver.accepted_keys()) == 1

    receiver.default = 200
    recovered = materialize_range(pipeline.definitions(), [WEBHOOK], DAYS[0], DAYS[-1])
    assert recovered.success
    assert receiver.accepted_keys() == dict.fromkeys(_expected_keys(pipeline), 1)
    assert _metadata(recovered)["batches_skipped"] == 1


def test_missing_secret_fails_in_one_sentence(
    pipeline: Pipeline, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    result = materialize_range(pipeline.definitions(), [WEBHOOK], DAYS[0], DAYS[-1])
    assert not result.success
    assert failure_description(result) == (
        f"webhook destination crm_webhook needs its signing secret in the environment "
        f"variable {SECRET_ENV}, which is not set"
    )
    assert receiver.requests == []


def test_a_day_whose_segments_never_ran_is_not_exported_as_empty(pipeline: Pipeline) -> None:
    day = date(2026, 1, 4)
    result = materialize_range(pipeline.definitions(), [destination_key("exports")], day, day)
    assert not result.success
    assert failure_description(result).endswith(
        f"has no snapshot for {day} yet: materialise segments/high_fit_accounts partition "
        f"{day} first"
    )
    assert not list(pipeline.csv_dir.glob(f"*/{day}.csv"))
