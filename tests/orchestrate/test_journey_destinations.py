"""Journey entrants through destinations: real Dagster runs, a live receiver on 127.0.0.1.

A journey starting on the first materialised day is added to a private project copy, its
days are enrolled, and the destinations that name it hand out `journey_entrants`; what
they deliver is compared with `journey_enrollments` read straight from the warehouse.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date

import pytest
import yaml
from sqlglot import exp

from segment_pipeline.orchestrate.assets.destinations import destination_key
from segment_pipeline.orchestrate.assets.journeys import journey_key
from segment_pipeline.warehouse import Warehouse
from tests.webhook_receiver import SECRET, Receiver

from .conftest import BATCH_SIZE, DAYS, SECRET_ENV, Pipeline, failure_description, materialize_range

JOURNEY = "welcome"
WEBHOOK = destination_key("crm_webhook")
IMPATIENT = {
    "ops": {"destinations__crm_webhook": {"config": {"max_attempts": 2, "backoff_seconds": 0}}}
}

Entrant = dict[str, str]
ENTRANT_FIELDS = ("entity_type", "entity_id", "completes_on", "definition_version")


def _add_journey(pipeline: Pipeline) -> None:
    """A journey on the trial segment from the first day, named by both destinations; the
    webhook takes no segment, so every POST it makes carries entrants."""
    journey = {
        "name": JOURNEY,
        "trigger_segment": "engaged_trials",
        "starts_on": DAYS[0].isoformat(),
        "duration_days": 2,
        "allow_reentry": True,
    }
    (pipeline.project / "journeys" / f"{JOURNEY}.yml").write_text(yaml.safe_dump(journey))
    file = pipeline.project / "destinations.yml"
    destinations = yaml.safe_load(file.read_text())
    for destination in destinations:
        destination["journeys"] = [JOURNEY]
        if destination["type"] == "webhook":
            destination["segments"] = []
    file.write_text(yaml.safe_dump(destinations, sort_keys=False))
    enrolled = materialize_range(pipeline.definitions(), [journey_key(JOURNEY)], DAYS[0], DAYS[-1])
    assert enrolled.success


def _enrolments(pipeline: Pipeline) -> dict[date, list[Entrant]]:
    """Each day's entrants as text, from the table, by entity."""
    query = (
        exp.select("entered_on", "entity_type", "entity_id", "completes_on", "definition_version")
        .from_("journey_enrollments")
        .where(exp.column("journey").eq(exp.Literal.string(JOURNEY)))
    )
    with Warehouse.open(pipeline.settings.warehouse_settings, read_only=True) as warehouse:
        rows = warehouse.query(query).to_dict("records")
    by_day: dict[date, list[Entrant]] = {day: [] for day in DAYS}
    for row in rows:
        entered = (
            row["entered_on"].date() if hasattr(row["entered_on"], "date") else row["entered_on"]
        )
        by_day[entered].append(
            {
                "entity_type": row["entity_type"],
                "entity_id": row["entity_id"],
                "completes_on": str(row["completes_on"])[:10],
                "definition_version": row["definition_version"],
            }
        )
    for entrants in by_day.values():
        entrants.sort(key=lambda e: (e["entity_type"], e["entity_id"]))
    return by_day


def _expected_keys(by_day: dict[date, list[Entrant]]) -> Counter[str]:
    return Counter(
        f"journey:{JOURNEY}:{day.isoformat()}:{index}"
        for day, entrants in by_day.items()
        for index in range(1, -(-len(entrants) // BATCH_SIZE) + 1)
    )


def test_csv_destination_writes_each_days_entrants(pipeline: Pipeline) -> None:
    _add_journey(pipeline)
    expected = _enrolments(pipeline)
    assert sum(map(len, expected.values())) > 0, "the sample enrols nobody"

    result = materialize_range(
        pipeline.definitions(), [destination_key("exports")], DAYS[0], DAYS[-1]
    )

    assert result.success
    for day, entrants in expected.items():
        file = pipeline.csv_dir / "journeys" / JOURNEY / f"{day.isoformat()}.csv"
        with file.open(newline="") as stream:
            rows = list(csv.DictReader(stream))
        assert {row["journey"] for row in rows} <= {JOURNEY}
        assert {row["entered_on"] for row in rows} <= {day.isoformat()}
        assert [{k: row[k] for k in ENTRANT_FIELDS} for row in rows] == entrants


def test_webhook_delivers_entrants_once_and_retries_a_failed_receiver(
    pipeline: Pipeline, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    _add_journey(pipeline)
    expected = _enrolments(pipeline)
    keys = _expected_keys(expected)
    assert len(keys) > 1, "too few entrants to fail between two batches"
    receiver.script.append(200)
    receiver.default = 503

    failed = materialize_range(
        pipeline.definitions(), [WEBHOOK], DAYS[0], DAYS[-1], run_config=IMPATIENT
    )

    assert not failed.success
    assert "of journey welcome for" in failure_description(failed)
    assert len(receiver.accepted_keys()) == 1

    receiver.default = 200
    recovered = materialize_range(pipeline.definitions(), [WEBHOOK], DAYS[0], DAYS[-1])

    assert recovered.success
    assert receiver.accepted_keys() == keys
    assert all(request.signature_ok for request in receiver.requests)
    bodies = [json.loads(request.body) for request in receiver.accepted()]
    assert {body["journey"] for body in bodies} == {JOURNEY}
    delivered: dict[date, list[Entrant]] = {day: [] for day in DAYS}
    for body in sorted(bodies, key=lambda b: (b["entered_on"], b["batch"])):
        delivered[date.fromisoformat(body["entered_on"])].extend(body["entrants"])
    assert delivered == expected

    sent = len(receiver.requests)
    again = materialize_range(pipeline.definitions(), [WEBHOOK], DAYS[0], DAYS[-1])
    assert again.success
    assert len(receiver.requests) == sent, "a re-run sent entrants again"
