"""A small hand-written project and landing zone run through the real Dagster assets.

Three days: three big companies with a contact each on day one; on day two one is
deleted and one shrinks, and a fourth company arrives; on day three nothing lands.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from segment_pipeline.orchestrate.definitions import build_definitions
from segment_pipeline.orchestrate.launch import QUIET
from segment_pipeline.settings import Settings
from tests.ui_backfill import single_run_backfill_tags

DAYS = (date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7))
BEFORE = "2025-12-01T00:00:00Z"

BIG_ACCOUNTS = {
    "entity": "company",
    "where": {"attribute": "employee_count >= 500"},
    "personas": {
        "max_contacts_per_company": 2,
        "list": [
            {"name": "leader", "where": "seniority = 'vp'", "max_contacts": 1},
            {"name": "anyone", "where": "true"},
        ],
    },
}
BIG_ACCOUNT_CONTACTS = {"entity": "contact", "where": {"in_segment": "big_accounts"}}


class Runner:
    """Materialises partitions through Dagster on one instance, as the UI would."""

    def __init__(self, project: Path, landing: Path, warehouse: Path) -> None:
        self.settings = Settings(
            project_dir=project, landing_dir=landing, warehouse=warehouse, start_date=DAYS[0]
        )
        self.instance = dg.DagsterInstance.ephemeral()

    def materialize(self, days: Sequence[date]) -> dg.ExecuteInProcessResult:
        """`days` (consecutive) in one run: one partition, or a single-run backfill."""
        defs = build_definitions(self.settings)
        options: dict[str, object] = (
            {"partition_key": days[0].isoformat()}
            if len(days) == 1
            else {"tags": single_run_backfill_tags(days[0], days[-1])}
        )
        result = dg.materialize(
            list(defs.assets or []),
            resources=defs.resources,
            instance=self.instance,
            run_config=QUIET,
            **options,  # type: ignore[arg-type]
        )
        assert result.success
        return result

    def metadata(self, segment: str) -> dict[str, dict[str, object]]:
        """The latest materialisation's metadata values of each partition of a segment."""
        from segment_pipeline.orchestrate.assets.segments import segment_key

        records = self.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=segment_key(segment)), limit=1000, ascending=True
        ).records
        found: dict[str, dict[str, object]] = {}
        for record in records:
            event = record.asset_materialization
            assert event is not None and event.partition is not None
            found[event.partition] = {key: value.value for key, value in event.metadata.items()}
        return found


@pytest.fixture
def accounts(project_dir, landing) -> None:
    """The project (two segments) and the landing zone of the module docstring."""
    project_dir.segment("big_accounts", BIG_ACCOUNTS)
    project_dir.segment("big_account_contacts", BIG_ACCOUNT_CONTACTS)
    names = ["keep", "shrink", "gone"]
    landing.jsonl(
        "2026-01-05",
        "companies",
        [
            {"company_id": name, "updated_at": BEFORE, "employee_count": 800, "country": "GB"}
            for name in names
        ],
    )
    landing.jsonl(
        "2026-01-05",
        "contacts",
        [
            {"contact_id": f"c_{name}", "updated_at": BEFORE, "company_id": name, "seniority": "vp"}
            for name in names
        ],
    )
    landing.jsonl(
        "2026-01-06",
        "companies",
        [
            {"company_id": "shrink", "updated_at": "2026-01-06T08:00:00Z", "employee_count": 20},
            {"company_id": "gone", "updated_at": "2026-01-06T09:00:00Z", "is_deleted": True},
            {"company_id": "new", "updated_at": "2026-01-06T10:00:00Z", "employee_count": 900},
        ],
    )


@pytest.fixture
def runner(accounts, project_dir, landing, tmp_path: Path) -> Runner:
    return Runner(project_dir.root, landing.root, tmp_path / "warehouse.duckdb")
