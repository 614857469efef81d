"""`segment-pipeline demo` from an empty folder, through the real CLI: it writes the example
project shipped with the package and records its runs in the folder's DAGSTER_HOME, where
`dagster dev` finds the materialised days, their metadata and the checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

BIN = Path(sys.executable).parent / "segment-pipeline"


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "SEGMENT_"))}
    return subprocess.run(
        [str(BIN), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_demo_from_an_empty_folder_records_its_runs(tmp_path: Path) -> None:
    done = _cli(tmp_path, "demo", "--days", "2")
    assert done.returncode == 0, done.stderr
    for name in ("dbt_like_sql/sources.yml", "definitions.py", "workspace.yaml"):
        assert (tmp_path / name).is_file(), name
    home = tmp_path / "dagster_home"
    with dg.DagsterInstance.from_config(str(home)) as instance:
        key = dg.AssetKey(["segments", "engaged_enterprise"])
        event = instance.get_latest_materialization_event(key)
        assert event is not None and event.asset_materialization is not None
        assert "members" in event.asset_materialization.metadata
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(key, "delta_balances")]
        )
        assert check, "the checks are recorded"


def test_init_scaffolds_a_project_and_refuses_to_overwrite(tmp_path: Path) -> None:
    done = _cli(tmp_path, "init", "new_project")
    assert done.returncode == 0, done.stderr
    project = tmp_path / "new_project"
    for name in (
        "dbt_like_sql/sources.yml",
        "dbt_like_sql/destinations.yml",
        "dbt_like_sql/journeys/trial_nurture.yml",
        "definitions.py",
        "workspace.yaml",
        "dagster_home/dagster.yaml",
    ):
        assert (project / name).is_file(), name
    assert list((project / "dbt_like_sql" / "segments").glob("*.yml"))
    again = _cli(tmp_path, "init", "new_project")
    assert again.returncode == 1
    assert "already exists" in again.stderr and "Traceback" not in again.stderr
