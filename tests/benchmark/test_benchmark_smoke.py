"""Smoke test of the benchmark: the documented command runs every step at `small` scale.

No timing is asserted (figures on a shared CI machine mean nothing); what must hold is that
every step runs from a clean work folder, that each figure is reported, and that both
baselines compute exactly the pipeline's member sets for all 20 segments.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.run import STEPS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_small_benchmark_runs_and_baselines_agree(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--scale",
            "small",
            "--work-dir",
            str(tmp_path / "bench"),
            "--json",
            str(results),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:] + completed.stdout[-3000:]
    document = json.loads(results.read_text())

    assert set(document["figures"]) == set(STEPS)
    for step, figure in document["figures"].items():
        assert figure["seconds"] > 0, step
        assert figure["cpu_seconds"] > 0, step
        assert figure["peak_rss_mb"] > 0, step
    assert document["figures"]["definition_change"]["stale_segments"]

    agreement = document["agreement"]
    assert agreement["pipeline_equals_duckdb_sql"], agreement["mismatches"]
    assert agreement["pipeline_equals_pandas"], agreement["mismatches"]
    members = agreement["members"]
    assert len(members) == 20
    assert sum(1 for count in members.values() if count > 0) >= 15, members

    assert set(document["ratios"]) == {
        "daily_partition_over_duckdb_sql",
        "membership_over_duckdb_sql",
        "pandas_over_daily_partition",
        "pandas_over_membership",
        "daily_partition_over_duckdb_sql_cpu",
        "membership_over_duckdb_sql_cpu",
    }
    assert "baseline (a)" in completed.stdout
