"""Picked contacts of a company segment (SPEC 7) and their four removal reasons (SPEC 8),
each produced on purpose through real Dagster runs."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pandas as pd
import pytest
import yaml
from sqlglot import exp

from segment_pipeline.definitions.project import load_project
from segment_pipeline.evaluate.daily import materialize_day
from segment_pipeline.evaluate.states import STATE_RUNS
from segment_pipeline.ingest.landing import ingest_landing_date
from segment_pipeline.orchestrate.assets.segments import segment_key
from segment_pipeline.warehouse import Warehouse, WarehouseSettings
from segment_pipeline.warehouse.schema import ensure_schema
from tests.conftest import SOURCES

DAY1, DAY2, DAY3 = date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)
BEFORE = "2025-12-01T00:00:00Z"
LATER = "2025-12-02T00:00:00Z"
CHANGED = "2026-01-06T08:00:00Z"

ACCOUNTS = {
    "entity": "company",
    "where": {"attribute": "employee_count >= 500"},
    "personas": {
        "max_contacts_per_company": 2,
        "list": [
            {"name": "buyer", "where": "seniority = 'vp'", "max_contacts": 1},
            {"name": "champion", "where": "lower(title) LIKE '%growth%'"},
        ],
    },
}
COMPANIES = ["acme", "beta", "gamma", "omega", "zeta", "epsilon", "theta", "small"]


def contact(contact_id: str, company: str, **attributes: object) -> dict[str, object]:
    return {"contact_id": contact_id, "updated_at": BEFORE, "company_id": company, **attributes}


def write_accounts(project_dir, landing) -> None:
    """Day 1: member companies with picked contacts; day 2: one removal of each reason
    (acme changes nothing)."""
    sources = {
        **SOURCES,
        "contacts": {"columns": {**SOURCES["contacts"]["columns"], "title": "text"}},
    }
    (project_dir.root / "sources.yml").write_text(yaml.safe_dump(sources))
    project_dir.segment("accounts", ACCOUNTS)
    landing.jsonl(
        "2026-01-05",
        "companies",
        [
            {
                "company_id": name,
                "updated_at": BEFORE,
                "employee_count": 100 if name == "small" else 800,
            }
            for name in COMPANIES
        ],
    )
    landing.jsonl(
        "2026-01-05",
        "contacts",
        [
            contact("a_vp", "acme", seniority="vp", title="CFO"),
            # buyer is full: not picked, though as a champion it would come first
            contact("a_vp2", "acme", seniority="vp", title="Growth VP"),
            contact("a_growth", "acme", title="Head of Growth", updated_at=LATER),
            contact("b_growth", "beta", title="Growth"),
            contact("g_mover", "gamma", title="Growth"),
            contact("g_former", "gamma", title="Growth hacker", is_former_employee=False),
            contact("o_title", "omega", title="Growth manager"),
            contact("z_first", "zeta", title="Growth"),
            contact("z_second", "zeta", title="Growth", updated_at=LATER),
            # two per company: not picked
            contact("z_third", "zeta", title="Growth", updated_at=LATER),
            contact("t_lead", "theta", seniority="vp", title="CFO"),
            contact("s_growth", "small", title="Growth"),
        ],
    )
    landing.jsonl(
        "2026-01-06",
        "companies",
        [{"company_id": "beta", "updated_at": CHANGED, "employee_count": 100}],
    )
    landing.jsonl(
        "2026-01-06",
        "contacts",
        [
            {**contact("g_mover", "epsilon", title="Growth"), "updated_at": CHANGED},
            {
                **contact("g_former", "gamma", title="Growth hacker", is_former_employee=True),
                "updated_at": CHANGED,
            },
            {**contact("o_title", "omega", title="Office manager"), "updated_at": CHANGED},
            {**contact("z_vp", "zeta", seniority="vp", title="VP Sales"), "updated_at": CHANGED},
            {
                **contact("t_lead", "theta", seniority="director", title="Growth director"),
                "updated_at": CHANGED,
            },
        ],
    )


@pytest.fixture
def accounts(pipeline, project_dir, landing):
    """`write_accounts`, both days materialised."""
    write_accounts(project_dir, landing)
    pipeline.run(DAY1, DAY2)
    return pipeline


def picks(pipeline, day: date) -> dict[str, tuple[str, str, int, pd.Timestamp]]:
    snapshots = pipeline.table("segment_snapshots", "accounts")
    rows = snapshots[
        (snapshots["snapshot_date"] == pd.Timestamp(day)) & (snapshots["entity_type"] == "contact")
    ]
    return {
        row.entity_id: (row.company_id, row.persona, int(row.persona_rank), row.joined_at)
        for row in rows.itertuples()
    }


def contact_deltas(pipeline, day: date) -> pd.DataFrame:
    deltas = pipeline.table("segment_deltas", "accounts")
    return deltas[
        (deltas["snapshot_date"] == pd.Timestamp(day)) & (deltas["entity_type"] == "contact")
    ]


def test_best_contacts_are_picked_per_persona_and_company(accounts):
    company_joined = pd.Timestamp(BEFORE).tz_localize(None)
    assert picks(accounts, DAY1) == {
        "a_vp": ("acme", "buyer", 1, company_joined),
        "a_growth": ("acme", "champion", 2, pd.Timestamp(LATER).tz_localize(None)),
        "b_growth": ("beta", "champion", 2, company_joined),
        "g_mover": ("gamma", "champion", 2, company_joined),
        "g_former": ("gamma", "champion", 2, company_joined),
        "o_title": ("omega", "champion", 2, company_joined),
        "z_first": ("zeta", "champion", 2, company_joined),
        "z_second": ("zeta", "champion", 2, pd.Timestamp(LATER).tz_localize(None)),
        "t_lead": ("theta", "buyer", 1, company_joined),
    }


def test_each_contact_removal_reason_with_its_detail(accounts):
    deltas = contact_deltas(accounts, DAY2)
    removed = deltas[deltas["change"] == "removed"]
    assert {
        row.entity_id: (row.company_id, row.reason, row.reason_detail)
        for row in removed.itertuples()
    } == {
        "b_growth": (
            "beta",
            "company_removed",
            "company beta left the segment (no_longer_matches)",
        ),
        "g_mover": (
            "gamma",
            "left_company",
            "the contact moved from company gamma to company epsilon",
        ),
        "g_former": ("gamma", "left_company", "the contact is a former employee of company gamma"),
        "o_title": (
            "omega",
            "persona_mismatch",
            "no persona matches any more (was champion): title is now 'Office manager'",
        ),
        "z_second": (
            "zeta",
            "better_contact",
            "displaced by contact z_vp (buyer) at company zeta: a company takes at most 2",
        ),
    }
    added = deltas[deltas["change"] == "added"]
    changed = pd.Timestamp(CHANGED).tz_localize(None)
    assert {
        row.entity_id: (row.company_id, row.persona, row.joined_at) for row in added.itertuples()
    } == {"g_mover": ("epsilon", "champion", changed), "z_vp": ("zeta", "buyer", changed)}


def test_a_persona_change_keeps_the_contact_without_a_delta(accounts):
    deltas = contact_deltas(accounts, DAY2)
    assert "t_lead" not in set(deltas["entity_id"])
    changed = pd.Timestamp(CHANGED).tz_localize(None)
    assert picks(accounts, DAY2)["t_lead"] == ("theta", "champion", 2, changed)


def test_moves_are_separate_stretches_in_history(accounts):
    history = accounts.table("segment_history", "accounts")
    mover = history[history["entity_id"] == "g_mover"].sort_values("added_on")
    assert mover["added_on"].tolist() == [pd.Timestamp(DAY1), pd.Timestamp(DAY2)]
    assert mover["removal_reason"].tolist()[0] == "left_company"
    assert pd.isna(mover["removed_on"].tolist()[1])


def partition_metadata(pipeline, day: date) -> dict[str, object]:
    """The latest materialisation's metadata of the segment's partition for a day."""
    records = pipeline.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=segment_key("accounts"), asset_partitions=[str(day)]),
        limit=1,
    ).records
    event = records[0].asset_materialization
    assert event is not None
    return {key: value.value for key, value in event.metadata.items()}


def at(picked: dict[str, tuple[str, str, int, pd.Timestamp]], company: str) -> dict[str, tuple]:
    return {contact: row for contact, row in picked.items() if row[0] == company}


def test_a_day_repicks_only_the_companies_whose_inputs_changed(pipeline, project_dir, landing):
    """Day 2 changes contacts at gamma, omega, zeta and theta, moves one to epsilon and
    takes beta out; acme changes nothing and keeps its rows. Day 3 changes one contact of
    acme (still a champion): acme alone is picked anew. Without the state, day 3 picks at
    every company, to the same rows."""
    write_accounts(project_dir, landing)
    landing.jsonl(
        "2026-01-07",
        "contacts",
        [
            {
                **contact("a_growth", "acme", title="Growth lead"),
                "updated_at": "2026-01-07T09:00:00Z",
            }
        ],
    )
    for day in (DAY1, DAY2, DAY3):
        pipeline.materialize(day)
    first, second, third = (partition_metadata(pipeline, day) for day in (DAY1, DAY2, DAY3))
    assert first["companies"] == first["companies_repicked"] == 7
    assert (second["companies"], second["companies_repicked"]) == (6, 5)
    assert (third["companies"], third["companies_repicked"]) == (6, 1)
    assert at(picks(pipeline, DAY2), "acme") == at(picks(pipeline, DAY1), "acme")
    day2, day3 = picks(pipeline, DAY2), picks(pipeline, DAY3)
    assert {c: r for c, r in day3.items() if r[0] != "acme"} == {
        c: r for c, r in day2.items() if r[0] != "acme"
    }
    assert day3["a_growth"] == day2["a_growth"]
    with Warehouse.open(WarehouseSettings(path=pipeline.settings.warehouse)) as warehouse:
        warehouse.execute(exp.delete(STATE_RUNS))
    pipeline.materialize(DAY3)
    full = partition_metadata(pipeline, DAY3)
    assert (full["companies"], full["companies_repicked"]) == (6, 6)
    assert picks(pipeline, DAY3) == day3


def test_persona_segments_of_a_run_pick_as_each_alone(project_dir, landing, tmp_path):
    """Three persona segments in one run (one pass for their candidates): two rank alike
    (sharing columns), one in the other order; each picks, both days, what it picks alone."""
    write_accounts(project_dir, landing)
    project_dir.segment(
        "accounts_too", {**ACCOUNTS, "where": {"attribute": "employee_count >= 100"}}
    )
    personas = ACCOUNTS["personas"]
    assert isinstance(personas, dict)
    growth_first = {**personas, "list": personas["list"][::-1]}
    project_dir.segment("growth_first", {**ACCOUNTS, "personas": growth_first})
    project = load_project(project_dir.root)
    names = ["accounts", "accounts_too", "growth_first"]

    def run(path, segments: list[str]) -> dict[str, list[tuple]]:
        with Warehouse.open(WarehouseSettings(path=path)) as warehouse:
            ensure_schema(warehouse, project.sources)
            for day in (DAY1, DAY2):
                ingest_landing_date(warehouse, project.sources, landing.root, day)
                materialize_day(warehouse, project, day, segments)
            rows = warehouse.rows(
                exp.select(
                    "segment", "snapshot_date", "entity_id", "company_id", "persona", "joined_at"
                )
                .from_("segment_snapshots")
                .where(exp.column("entity_type").eq(exp.Literal.string("contact")))
                .order_by("segment", "snapshot_date", "entity_id")
            )
        found: dict[str, list[tuple]] = {name: [] for name in segments}
        for row in rows:
            found[row[0]].append(row[1:])
        return found

    together = run(tmp_path / "together.duckdb", names)
    for name in names:
        assert together[name] == run(tmp_path / f"{name}.duckdb", [name])[name], name
    assert together["accounts"] != together["growth_first"]
    assert {row[2] for row in together["accounts_too"]} - {
        row[2] for row in together["accounts"]
    } == {"small"}
