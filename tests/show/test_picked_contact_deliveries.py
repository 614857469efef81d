"""Picked contacts reach consumers with their company and persona, through real runs: the
CSV export, a live webhook receiver and the consumer helpers. The contact segment
`big_account_contacts` (`in_segment: big_accounts`) has contacts too, but as its own
members: they never carry a company or persona, and are never picked contacts."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from segment_pipeline.orchestrate.consumers import read_deltas, read_picked_contacts
from segment_pipeline.warehouse import Warehouse
from tests.webhook_receiver import SECRET, Receiver

from .conftest import DAYS, Runner

NAMES = ("gone", "keep", "shrink")


@pytest.fixture
def delivered(runner: Runner, project_dir, receiver: Receiver, tmp_path: Path, monkeypatch) -> Path:
    """The three days run with a CSV and a webhook destination; the CSV folder."""
    monkeypatch.setenv("PICKED_SECRET", SECRET)
    exports = tmp_path / "exports"
    destinations = [
        {"name": "hook", "type": "webhook", "url": receiver.url, "secret_env": "PICKED_SECRET"},
        {"name": "files", "type": "csv", "path": str(exports)},
    ]
    (project_dir.root / "destinations.yml").write_text(yaml.safe_dump(destinations))
    runner.materialize(DAYS)
    return exports


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def _people(rows: list[dict[str, str | None]]) -> dict[tuple[str, str, str], tuple]:
    """(change, entity_type, entity_id) -> (company_id, persona, reason)."""
    return {
        (str(r["change"]), str(r["entity_type"]), str(r["entity_id"])): (
            r["company_id"] or None,
            r["persona"] or None,
            r["reason"] or None,
        )
        for r in rows
    }


EXPECTED = {
    DAYS[0]: {
        **{("added", "company", name): (None, None, None) for name in NAMES},
        **{("added", "contact", f"c_{name}"): (name, "leader", None) for name in NAMES},
    },
    DAYS[1]: {
        ("added", "company", "new"): (None, None, None),
        ("removed", "company", "gone"): (None, None, "deleted"),
        ("removed", "company", "shrink"): (None, None, "no_longer_matches"),
        ("removed", "contact", "c_gone"): ("gone", "leader", "company_removed"),
        ("removed", "contact", "c_shrink"): ("shrink", "leader", "company_removed"),
    },
}


def test_csv_rows_carry_picked_contacts_company_and_persona(delivered: Path) -> None:
    for day, expected in EXPECTED.items():
        rows = _csv(delivered / "big_accounts" / f"{day.isoformat()}.csv")
        assert list(rows[0])[-2:] == ["company_id", "persona"]
        assert _people(rows) == expected
    members = _csv(delivered / "big_account_contacts" / f"{DAYS[0].isoformat()}.csv")
    assert _people(members) == {
        ("added", "contact", f"c_{name}"): (None, None, None) for name in NAMES
    }


def test_webhook_payload_carries_picked_contacts(delivered: Path, receiver: Receiver) -> None:
    bodies = [json.loads(request.body) for request in receiver.accepted()]
    by_day = {
        (body["segment"], body["snapshot_date"]): body["changes"]
        for body in bodies
        if body["batches"] == 1
    }
    for day, expected in EXPECTED.items():
        assert _people(by_day[("big_accounts", day.isoformat())]) == expected
    contacts = by_day[("big_account_contacts", DAYS[0].isoformat())]
    assert {(c["company_id"], c["persona"]) for c in contacts} == {(None, None)}


def test_consumer_helpers_load_picked_contacts_or_contact_members(
    delivered: Path, runner: Runner
) -> None:
    with Warehouse.open(runner.settings.warehouse_settings, read_only=True) as warehouse:
        picked = read_picked_contacts(warehouse, "big_accounts", DAYS[0])
        members = read_picked_contacts(warehouse, "big_account_contacts", DAYS[0])
        deltas = read_deltas(warehouse, "big_account_contacts", DAYS[0])
    assert [
        (r.entity_id, r.company_id, r.persona, r.persona_rank)
        for r in picked.itertuples(index=False)
    ] == [(f"c_{name}", name, "leader", 1) for name in NAMES]
    assert members.empty, "a contact segment's members are not picked contacts"
    assert deltas["persona"].isna().all() and len(deltas) == 3
