"""Run the real Dagster assets on a hand-written project and landing zone."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from sqlglot import exp

from segment_pipeline.orchestrate.definitions import build_definitions
from segment_pipeline.orchestrate.launch import QUIET, run_partitions
from segment_pipeline.settings import Settings
from segment_pipeline.warehouse import Warehouse, WarehouseSettings


class Pipeline:
    """Materialises partitions through Dagster exactly as a scheduled run would."""

    def __init__(self, project_root: Path, landing_root: Path, warehouse: Path) -> None:
        self.settings = Settings(
            project_dir=project_root,
            landing_dir=landing_root,
            warehouse=warehouse,
            start_date=date(2025, 12, 1),
        )
        self.instance = dg.DagsterInstance.ephemeral()

    def run(self, start: date, end: date) -> None:
        """Every partition from start to end in one run, as a UI backfill launches it."""
        run_partitions(self.settings, start, end)

    def materialize(self, day: date, refresh_static: list[str] | None = None) -> None:
        """One partition, as the schedule or a click on "Materialize" launches it."""
        defs = build_definitions(self.settings)
        config = {
            **QUIET,
            "ops": {"segment_snapshots": {"config": {"refresh_static": refresh_static or []}}},
        }
        result = dg.materialize(
            list(defs.assets or []),
            partition_key=day.isoformat(),
            resources=defs.resources,
            instance=self.instance,
            run_config=config,
        )
        assert result.success

    def table(self, name: str, segment: str | None = None) -> pd.DataFrame:
        query = exp.select("*").from_(name)
        if segment is not None:
            query = query.where(exp.column("segment").eq(exp.Literal.string(segment)))
        with Warehouse.open(WarehouseSettings(path=self.settings.warehouse), read_only=True) as w:
            frame = w.query(query)
        return frame.sort_values(list(frame.columns[:4]), ignore_index=True)

    def members(self, segment: str, day: date) -> dict[str, pd.Timestamp]:
        snapshots = self.table("segment_snapshots", segment)
        today = snapshots[snapshots["snapshot_date"] == pd.Timestamp(day)]
        return dict(zip(today["entity_id"], today["joined_at"], strict=True))


@pytest.fixture
def pipeline(project_dir, landing, tmp_path: Path) -> Pipeline:
    return Pipeline(project_dir.root, landing.root, tmp_path / "warehouse.duckdb")
