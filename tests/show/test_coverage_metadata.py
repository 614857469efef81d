"""Contact coverage of a persona segment, per partition, against the warehouse's rows.

On top of the shared accounts: `keep` has a second VP (its `leader` persona is full, so it
is not picked) and an individual contributor (`anyone`); `shrink` has a former employee
(not eligible); `lonely` is a big company without contacts.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from .conftest import BEFORE, DAYS, Runner

SEGMENT = "big_accounts"


def _add(landing, source: str, rows: list[dict[str, object]]) -> None:
    """Append rows to the first day's landing file of a source."""
    path = landing.root / DAYS[0].isoformat() / f"{source}.jsonl"
    with path.open("a") as file:
        file.writelines(json.dumps(row) + "\n" for row in rows)


@pytest.fixture
def covered_runner(runner: Runner, landing) -> Runner:
    lonely = {"company_id": "lonely", "updated_at": BEFORE, "employee_count": 700}
    _add(landing, "companies", [lonely])
    contacts = [
        {"contact_id": "c_keep_vp2", "company_id": "keep", "seniority": "vp"},
        {"contact_id": "c_keep_ic", "company_id": "keep", "seniority": "ic"},
        {"contact_id": "c_shrink_old", "company_id": "shrink", "is_former_employee": True},
    ]
    _add(landing, "contacts", [{**contact, "updated_at": BEFORE} for contact in contacts])
    return runner


def _expected(warehouse: str, day: str) -> dict[str, object]:
    """The day's coverage counted straight from `segment_snapshots`."""
    with duckdb.connect(warehouse, read_only=True) as con:

        def rows(sql: str) -> list[tuple[object, ...]]:
            return con.execute(sql, [SEGMENT, day]).fetchall()

        where = "segment = ? and snapshot_date = ? and entity_type = "
        companies = {
            r[0] for r in rows(f"select entity_id from segment_snapshots where {where} 'company'")
        }
        picked = rows(f"select company_id, persona from segment_snapshots where {where} 'contact'")
    by_persona = {"leader": 0, "anyone": 0}
    for _, persona in picked:
        by_persona[str(persona)] += 1
    with_contacts = {company for company, _ in picked}
    return {
        "companies": len(companies),
        "companies_with_contacts": len(with_contacts & companies),
        "by_persona": by_persona,
        "uncovered": sorted(companies - with_contacts),
    }


def test_each_partition_carries_its_coverage(covered_runner: Runner) -> None:
    covered_runner.materialize(DAYS)
    metadata = covered_runner.metadata(SEGMENT)
    warehouse = str(covered_runner.settings.warehouse)
    for day in DAYS:
        shown = metadata[day.isoformat()]
        expected = _expected(warehouse, day.isoformat())
        assert shown["companies"] == shown["members"] == expected["companies"]
        assert shown["companies_with_contacts"] == expected["companies_with_contacts"]
        by_persona = {
            persona: shown[f"contacts_persona_{persona}"] for persona in ("leader", "anyone")
        }
        assert by_persona == expected["by_persona"]
        assert shown["picked_contacts"] == sum(by_persona.values())
        table = str(shown["companies_without_contacts"])
        listed = sorted(
            line.split("|")[1].strip() for line in table.splitlines()[2:] if line.startswith("|")
        )
        assert listed == expected["uncovered"]
    # The scenario itself, so the comparison above is not vacuous.
    first = _expected(warehouse, DAYS[0].isoformat())
    assert first == {
        "companies": 4,
        "companies_with_contacts": 3,
        "by_persona": {"leader": 3, "anyone": 1},
        "uncovered": ["lonely"],
    }
    assert _expected(warehouse, DAYS[1].isoformat())["uncovered"] == ["lonely", "new"]
    table = str(metadata[DAYS[1].isoformat()]["companies_without_contacts"])
    assert "eligible_contacts" in table
