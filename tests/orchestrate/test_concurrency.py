"""Two runs of the same days in two processes on one DuckDB file: both finish, nothing breaks.

DuckDB lets one process at a time open the file. Every step opens it through
`WarehouseResource`, whose DuckDB engine retries a refused open with exponential backoff
(about 100 s in all), and closes it when the step ends, so overlapping runs take turns step
by step; each step replaces its partitions, so the turn order does not change the result. Under the
Dagster daemon the `duckdb_warehouse` pool (limit 1 in dagster_home/dagster.yaml) queues the
second run's steps instead, and the retry is only the fallback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlglot import exp

from segment_pipeline.definitions.project import load_project
from segment_pipeline.evaluate.audits import duplicate_members, joins_after_as_of, unbalanced_days
from segment_pipeline.warehouse import Warehouse

from .conftest import DAYS, Pipeline, make_pipeline

RUN = (
    "from datetime import date\n"
    "from segment_pipeline.orchestrate.launch import run_partitions\n"
    "from segment_pipeline.settings import Settings\n"
    "start, end = date.fromisoformat('{start}'), date.fromisoformat('{end}')\n"
    "print(run_partitions(Settings(), start, end))\n"
)
#: Columns that record when something ran, not what it computed.
RUN_TIMES = {"materialized_at", "first_materialized_at"}
TABLES = (
    "companies_history",
    "contacts_history",
    "events",
    "quarantine",
    "segment_definitions",
    "segment_snapshots",
    "segment_deltas",
    "segment_history",
    "segment_snapshot_runs",
    "journey_enrollments",
)


def _launch(pipeline: Pipeline, cwd: Path) -> subprocess.Popen[str]:
    env = {key: value for key, value in os.environ.items() if key != "DAGSTER_HOME"}
    env |= {
        "SEGMENT_PIPELINE_PROJECT_DIR": str(pipeline.project),
        "SEGMENT_PIPELINE_LANDING_DIR": str(pipeline.settings.landing_dir),
        "SEGMENT_PIPELINE_WAREHOUSE": str(pipeline.settings.warehouse),
        "SEGMENT_PIPELINE_START_DATE": pipeline.settings.start_date.isoformat(),
    }
    code = RUN.format(start=DAYS[0].isoformat(), end=DAYS[-1].isoformat())
    return subprocess.Popen(
        [sys.executable, "-W", "ignore", "-c", code],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _contents(pipeline: Pipeline) -> dict[str, pd.DataFrame]:
    frames = {}
    with Warehouse.open(pipeline.settings.warehouse_settings, read_only=True) as warehouse:
        for table in TABLES:
            frame = warehouse.query(exp.select("*").from_(table))
            frame = frame.drop(columns=[c for c in frame.columns if c in RUN_TIMES])
            # A list attribute (tech_stack) comes as arrays: as tuples, rows sort.
            frame = frame.map(lambda v: tuple(v) if isinstance(v, np.ndarray) else v)
            frames[table] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return frames


@pytest.mark.slow
def test_overlapping_runs_in_two_processes_leave_the_file_intact(
    tmp_path: Path, landing: Path, materialized: Pipeline
) -> None:
    shared = make_pipeline(tmp_path, landing, "http://127.0.0.1:9/unused")
    began = time.monotonic()
    runs = [_launch(shared, tmp_path) for _ in range(2)]
    outputs = [run.communicate(timeout=600) for run in runs]
    elapsed = time.monotonic() - began
    for run, (stdout, stderr) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, stderr[-3000:]
        assert stdout.strip(), "no run id printed"

    single, overlapped = _contents(materialized), _contents(shared)
    for table in TABLES:
        pd.testing.assert_frame_equal(overlapped[table], single[table], obj=table)
    assert len(overlapped["segment_snapshots"]) > 0

    days = list(DAYS)
    segments = load_project(shared.project).segments
    with Warehouse.open(shared.settings.warehouse_settings, read_only=True) as warehouse:
        names = list(segments)
        assert set(duplicate_members(warehouse, names, days).values()) == {0}
        entities = {name: [segment.entity] for name, segment in segments.items()}
        assert unbalanced_days(warehouse, entities, days) == {name: [] for name in names}
        assert set(joins_after_as_of(warehouse, names, days).values()) == {0}

    for file in materialized.csv_dir.rglob("*.csv"):
        twin = shared.csv_dir / file.relative_to(materialized.csv_dir)
        assert twin.read_bytes() == file.read_bytes(), twin
    assert elapsed < 300
