"""A small landing zone, project copies under tmp, a materialised warehouse.

Running the pipeline is the expensive part (the segment evaluation takes seconds per day),
so three days are materialised once per session and each test that writes gets its own
copy of that DuckDB file.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from segment_pipeline.generate import GenerateParams, generate_landing
from segment_pipeline.orchestrate.definitions import build_definitions
from segment_pipeline.orchestrate.launch import run_partitions
from segment_pipeline.settings import Settings
from tests.ui_backfill import single_run_backfill_tags
from tests.webhook_receiver import Receiver

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_PROJECT = REPO / "dbt_like_sql"
PARAMS = GenerateParams(companies=60, contacts=300, events=4000, days=5)
DAYS = (date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3))
SECRET_ENV = "SEGMENT_WEBHOOK_SECRET"
#: Small webhook batches, so a day's changes span several batches and a failure can land
#: between two of them.
BATCH_SIZE = 4
WEBHOOK_SEGMENTS = ["engaged_enterprise", "engaged_trials"]


@dataclass(frozen=True)
class Pipeline:
    """A project copy, its settings (warehouse, landing) and where its CSV files go."""

    project: Path
    settings: Settings
    csv_dir: Path

    def definitions(self) -> dg.Definitions:
        """The definitions as `dagster dev` would build them from these settings."""
        return build_definitions(self.settings)


def copy_project(target: Path, csv_dir: Path, webhook_url: str) -> Path:
    """The example project with destinations pointing at `csv_dir` and `webhook_url`."""
    shutil.copytree(EXAMPLE_PROJECT, target)
    destinations = [
        {
            "name": "crm_webhook",
            "type": "webhook",
            "url": webhook_url,
            "secret_env": SECRET_ENV,
            "segments": WEBHOOK_SEGMENTS,
            "batch_size": BATCH_SIZE,
        },
        {"name": "exports", "type": "csv", "path": str(csv_dir)},
    ]
    (target / "destinations.yml").write_text(yaml.safe_dump(destinations, sort_keys=False))
    return target


def make_pipeline(root: Path, landing: Path, webhook_url: str) -> Pipeline:
    """A pipeline under `root` over the shared landing zone."""
    project = copy_project(root / "project", root / "exports", webhook_url)
    settings = Settings(
        project_dir=project,
        landing_dir=landing,
        warehouse=root / "warehouse.duckdb",
        start_date=DAYS[0],
    )
    return Pipeline(project=project, settings=settings, csv_dir=root / "exports")


def materialize_range(
    defs: dg.Definitions,
    keys: Sequence[dg.AssetKey],
    start: date,
    end: date,
    *,
    instance: dg.DagsterInstance | None = None,
    run_config: dict[str, Any] | None = None,
) -> dg.ExecuteInProcessResult:
    """Materialise `keys` for `start`..`end` in one run, as a single-run UI backfill does."""
    job = defs.resolve_implicit_global_asset_job_def()
    with nullcontext(instance) if instance else dg.DagsterInstance.ephemeral() as used:
        return job.execute_in_process(
            asset_selection=list(keys),
            tags=single_run_backfill_tags(start, end),
            instance=used,
            run_config=run_config,
            raise_on_error=False,
        )


def failure_description(result: dg.ExecuteInProcessResult) -> str:
    """The sentence of the failed step, as the UI shows it."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data:
            data = event.step_failure_data.user_failure_data
            assert data is not None, event.step_failure_data.error
            return data.description or ""
    raise AssertionError("no step failed")


@pytest.fixture(autouse=True)
def _ephemeral_dagster(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs launched by the code under test use an ephemeral instance, not a DAGSTER_HOME."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)


@pytest.fixture(scope="session")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five days of generated landing data, shared (read-only) by every test."""
    path = tmp_path_factory.mktemp("landing")
    generate_landing(path, PARAMS)
    return path


@pytest.fixture(scope="session")
def materialized(tmp_path_factory: pytest.TempPathFactory, landing: Path) -> Pipeline:
    """The first three days run through the daily job once: never write to it, copy it."""
    pipeline = make_pipeline(
        tmp_path_factory.mktemp("materialized"), landing, "http://127.0.0.1:9/unused"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DAGSTER_HOME", raising=False)
        run_partitions(pipeline.settings, DAYS[0], DAYS[-1])
    return pipeline


@pytest.fixture
def pipeline(tmp_path: Path, materialized: Pipeline, landing: Path, receiver: Receiver) -> Pipeline:
    """A private copy of the materialised warehouse; the webhook points at `receiver`."""
    copy = make_pipeline(tmp_path, landing, receiver.url)
    shutil.copy(materialized.settings.warehouse, copy.settings.warehouse)
    return copy
