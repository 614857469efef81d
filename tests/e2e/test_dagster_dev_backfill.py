"""A UI backfill writes exactly what `segment-pipeline run` writes for the same range.

The backfill is launched through `dagster dev`'s GraphQL API, as the UI's launchpad does, and
run by its daemon (SPEC 10, 11).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from segment_pipeline.definitions.project import load_project
from tests.ui_backfill import RANGE_END, RANGE_START

from .server import BIN, SETTINGS, DagsterDev, sample_days

JOB = "daily_segments"
#: Every output the daily job writes; each must be non-empty over the sample's days.
TABLES = (
    "segment_snapshots",
    "segment_deltas",
    "segment_history",
    "journey_enrollments",
    "journey_entrants",
)
BACKFILL_TIMEOUT = 600
CLI_TIMEOUT = 180

REPOSITORIES_QUERY = """
query Repositories {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } jobs { name } } }
    ... on PythonError { message }
  }
}
"""

JOB_ASSETS_QUERY = """
query JobAssets($job: PipelineSelector!) {
  assetNodes(pipeline: $job) { assetKey { path } }
}
"""

LAUNCH_BACKFILL_MUTATION = """
mutation LaunchBackfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on Error { message }
  }
}
"""

BACKFILL_QUERY = """
query Backfill($backfillId: String!) {
  partitionBackfillOrError(backfillId: $backfillId) {
    __typename
    ... on PartitionBackfill {
      status
      error { message }
      runs(limit: 100) { id status tags { key value } }
    }
    ... on Error { message }
  }
}
"""

SUCCEEDED = {"COMPLETED", "COMPLETED_SUCCESS"}
ENDED = {"FAILED", "COMPLETED_FAILED", "CANCELED"}


def job_asset_keys(server: DagsterDev) -> list[list[str]]:
    """The asset keys of the daily job, as the UI's launchpad sees them."""
    repositories = server.graphql(REPOSITORIES_QUERY)["repositoriesOrError"]
    assert repositories["__typename"] == "RepositoryConnection", repositories
    [repository] = [
        node for node in repositories["nodes"] if JOB in {job["name"] for job in node["jobs"]}
    ]
    selector = {
        "repositoryLocationName": repository["location"]["name"],
        "repositoryName": repository["name"],
        "pipelineName": JOB,
    }
    nodes = server.graphql(JOB_ASSETS_QUERY, {"job": selector})["assetNodes"]
    return [node["assetKey"]["path"] for node in nodes]


def launch_backfill(server: DagsterDev, partitions: list[str], keys: list[list[str]]) -> str:
    """Launch a backfill of `partitions` of the assets `keys`; its id."""
    params = {"partitionNames": partitions, "assetSelection": [{"path": key} for key in keys]}
    result = server.graphql(LAUNCH_BACKFILL_MUTATION, {"params": params})
    launched = result["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    return launched["backfillId"]


def wait_for_backfill(server: DagsterDev, backfill_id: str) -> dict[str, Any]:
    """Poll until the daemon has finished the backfill; the backfill."""
    deadline = time.monotonic() + BACKFILL_TIMEOUT
    while time.monotonic() < deadline:
        backfill = server.graphql(BACKFILL_QUERY, {"backfillId": backfill_id})
        backfill = backfill["partitionBackfillOrError"]
        assert backfill["__typename"] == "PartitionBackfill", backfill
        assert backfill["status"] not in ENDED, f"{backfill}\n{server.log_tail()}"
        if backfill["status"] in SUCCEEDED:
            return backfill
        time.sleep(2)
    pytest.fail(f"backfill {backfill_id} not done in {BACKFILL_TIMEOUT}s:\n{server.log_tail()}")


def start_cli_run(server: DagsterDev, workdir: Path, start: str, end: str) -> subprocess.Popen:
    """`segment-pipeline run` on an ephemeral instance, writing only under `workdir`.

    It reads the server's project and landing data but writes its own warehouse (and any
    exports) in its own working directory, so it may run while the backfill does.
    """
    env = {**server.env}
    del env["DAGSTER_HOME"]
    for name in ("SEGMENT_PIPELINE_PROJECT_DIR", "SEGMENT_PIPELINE_LANDING_DIR"):
        env[name] = str(server.project / SETTINGS[name])
    with (workdir / "cli.log").open("wb") as log:
        return subprocess.Popen(
            [str(BIN / "segment-pipeline"), "run", "--start", start, "--end", end],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def read_table(warehouse: Path, table: str) -> pd.DataFrame:
    """Every row and column of `table`, in a total order."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.table(table).order("all").df()


@pytest.mark.e2e
def test_ui_backfill_matches_cli_run(dagster_dev: DagsterDev, tmp_path: Path) -> None:
    days = [day.isoformat() for day in sample_days()]
    project = load_project(dagster_dev.project / SETTINGS["SEGMENT_PIPELINE_PROJECT_DIR"])
    keys = job_asset_keys(dagster_dev)
    assert {tuple(key) for key in keys} >= {("segments", name) for name in project.segments} | {
        ("journeys", name) for name in project.journeys
    }

    backfill_id = launch_backfill(dagster_dev, days, keys)
    cli = start_cli_run(dagster_dev, tmp_path, days[0], days[-1])
    try:
        backfill = wait_for_backfill(dagster_dev, backfill_id)
        cli.wait(timeout=CLI_TIMEOUT)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.returncode == 0, (tmp_path / "cli.log").read_text()

    runs = backfill["runs"]
    assert runs, backfill
    for run in runs:
        tags = {tag["key"]: tag["value"] for tag in run["tags"]}
        assert run["status"] == "SUCCESS", run
        assert (tags.get(RANGE_START), tags.get(RANGE_END)) == (days[0], days[-1]), tags

    for table in TABLES:
        from_backfill = read_table(dagster_dev.warehouse, table)
        from_cli = read_table(tmp_path / SETTINGS["SEGMENT_PIPELINE_WAREHOUSE"], table)
        assert len(from_backfill) > 0, table
        pd.testing.assert_frame_equal(from_backfill, from_cli, obj=table)
    snapshot_dates = read_table(dagster_dev.warehouse, "segment_snapshots")["snapshot_date"]
    assert sorted({str(day)[:10] for day in snapshot_dates}) == days
    entry_days = read_table(dagster_dev.warehouse, "journey_entrants")["entered_on"]
    assert {str(day)[:10] for day in entry_days} <= set(days[1:])
