"""Smoke test of the benchmark: the documented command runs every step at `tiny` scale.

No timing is asserted (figures on a shared CI machine mean nothing); what must hold is that
every step runs from a clean work folder, that each figure and target ratio is reported,
that both baselines compute exactly the members the pipeline's run wrote for all 24
segments, that baseline (c) dates the changed segments' members exactly as the
recalculation does, that the plot of the cost of a day is drawn from the results, and that
the check does fail when a baseline's members or join times are wrong.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.plot import plot
from benchmarks.run import STEPS

ROOT = Path(__file__).resolve().parents[2]


def _benchmark(work_dir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--scale",
            "tiny",
            "--backfill-days",
            "3",
            "--work-dir",
            str(work_dir),
            *arguments,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.slow
def test_tiny_benchmark_runs_and_baselines_agree_and_a_wrong_baseline_fails(
    tmp_path: Path,
) -> None:
    results, work_dir = tmp_path / "results.json", tmp_path / "bench"
    completed = _benchmark(work_dir, "--json", str(results))
    assert completed.returncode == 0, completed.stderr[-3000:] + completed.stdout[-3000:]
    document = json.loads(results.read_text())

    assert set(document["figures"]) == set(STEPS)
    for step, figure in document["figures"].items():
        assert figure["seconds"] > 0, step
        assert figure["cpu_seconds"] > 0, step
        assert figure["peak_rss_mb"] > 0, step
    assert document["figures"]["definition_change"]["stale_segments"]
    assert document["figures"]["backfill"]["partitions"] == 3

    agreement = document["agreement"]
    assert agreement["pipeline_equals_duckdb_sql"], agreement["mismatches"]
    assert agreement["pipeline_equals_pandas"], agreement["mismatches"]
    members = agreement["members"]
    assert len(members) == 24
    assert sum(1 for count in members.values() if count > 0) >= 10, members
    assert agreement["join_times_equal_baseline_c"], agreement["join_time_mismatches"]
    assert agreement["join_time_members"] > 0
    assert set(document["figures"]["definition_change"]["stale_segments"]) == set(
        agreement["join_time_segments"]
    )
    assert document["figures"]["baseline_load"]["rows"]["events"] > 0
    assert set(document["ratios"]) == {
        "daily_run_over_baseline_a",
        "daily_run_over_baseline_a_cpu",
        "recalculation_over_baseline_a_plus_c",
        "first_load_over_baseline_d",
        "backfill_over_daily_run",
        "backfill_over_days_times_daily_run",
        "baseline_b_over_daily_run",
        "model_over_select_alone",
        "model_over_tables_and_select",
    }
    assert [row["ratio"] for row in document["targets"]] == [
        "daily_run_over_baseline_a",
        "recalculation_over_baseline_a_plus_c",
        "first_load_over_baseline_d",
        "backfill_over_daily_run",
    ]
    assert all(row["measured"] > 0 for row in document["targets"])
    assert document["figures"]["model_cost"]["companies_scored"] > 0
    assert agreement["model_scores_agree"]
    assert "baseline (a)" in completed.stdout
    png = plot(work_dir, tmp_path / "day_cost.png")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    # Plant wrong results: baseline (a) loses one member of one segment, and baseline (c)
    # dates one member a microsecond late.
    planted = work_dir / "tiny" / "members_duckdb_sql.parquet"
    frame = pd.read_parquet(planted)
    segment = frame["segment"].iloc[0]
    frame.drop(index=frame.index[0]).to_parquet(planted, index=False)
    planted = work_dir / "tiny" / "join_times_baseline_c.parquet"
    frame = pd.read_parquet(planted)
    late = frame["segment"].iloc[0]
    frame.loc[frame.index[0], "joined_at"] += pd.Timedelta(microseconds=1)
    frame.to_parquet(planted, index=False)
    checked = _benchmark(work_dir, "--check-only")
    assert checked.returncode == 1, checked.stderr
    assert f"baseline duckdb_sql disagrees on {segment}: 1 members only in the pipeline" in (
        checked.stderr
    )
    assert (
        f"baseline join_times disagrees on {late}: 0 members only in the pipeline, 0 only in "
        "the baseline, 1 with another join time"
    ) in checked.stderr
