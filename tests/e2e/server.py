"""Start and stop a real `dagster dev` (webserver + daemon) on a copy of the project.

Its working directory is a copy of `definitions.py`, `workspace.yaml` and `dbt_like_sql/` with
a few days of generated landing data, its journeys starting on the sample's second day so that
they enrol within it; its `DAGSTER_HOME` holds a copy of the repository's `dagster.yaml`.
Stopping it is Ctrl-C for its process group, as for a user's terminal.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from segment_pipeline.generate import GenerateParams, generate_landing

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FIRST_DAY = date(2026, 1, 1)
DAYS = 4
SAMPLE = GenerateParams(companies=40, contacts=200, events=2000, days=DAYS, start=FIRST_DAY)
#: The example's journeys start after the sample's days; the copy's start on its second day.
JOURNEYS_START = FIRST_DAY + timedelta(days=1)
#: Relative to the project copy, as a user running `dagster dev` in a project would set them.
SETTINGS = {
    "SEGMENT_PIPELINE_PROJECT_DIR": "dbt_like_sql",
    "SEGMENT_PIPELINE_LANDING_DIR": "data/landing",
    "SEGMENT_PIPELINE_WAREHOUSE": "data/warehouse.duckdb",
    "SEGMENT_PIPELINE_START_DATE": FIRST_DAY.isoformat(),
}
STARTUP_TIMEOUT = 120
SHUTDOWN_TIMEOUT = 30

WORKSPACE_QUERY = """
query Workspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on PythonError { message }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""


def sample_days() -> list[date]:
    """The days of generated landing data, in order."""
    return [FIRST_DAY + timedelta(days=offset) for offset in range(DAYS)]


@dataclass(frozen=True)
class DagsterDev:
    """A running `dagster dev` and the project copy it serves."""

    url: str
    project: Path
    env: dict[str, str]
    log: Path

    @property
    def warehouse(self) -> Path:
        """The DuckDB file the webserver's runs write."""
        return self.project / SETTINGS["SEGMENT_PIPELINE_WAREHOUSE"]

    def log_tail(self, lines: int = 40) -> str:
        """The end of `dagster dev`'s output, for failure messages."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a GraphQL document; its `data`, failing the test on GraphQL errors."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.load(response)
        assert not payload.get("errors"), payload["errors"]
        return payload["data"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _copy_project(root: Path) -> Path:
    project = root / "project"
    project.mkdir()
    for name in ("definitions.py", "workspace.yaml"):
        shutil.copy2(REPO / name, project / name)
    shutil.copytree(REPO / "dbt_like_sql", project / "dbt_like_sql")
    for journey in (project / "dbt_like_sql" / "journeys").glob("*.yml"):
        document = yaml.safe_load(journey.read_text())
        journey.write_text(yaml.safe_dump({**document, "starts_on": JOURNEYS_START}))
    generate_landing(project / SETTINGS["SEGMENT_PIPELINE_LANDING_DIR"], SAMPLE)
    return project


def _dagster_home(root: Path) -> Path:
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy2(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    return home


def _restore_sigint() -> None:
    # A shell starts background jobs with SIGINT ignored, and exec keeps that: undo it so
    # the teardown's SIGINT stops `dagster dev` the way Ctrl-C does.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_until_loaded(server: DagsterDev, process: subprocess.Popen[bytes]) -> None:
    """Until the code location has loaded; fail at once if it cannot."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, f"dagster dev exited early:\n{server.log_tail()}"
        try:
            workspace = server.graphql(WORKSPACE_QUERY)["workspaceOrError"]
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(1)
            continue
        assert workspace["__typename"] == "Workspace", workspace
        entries = workspace["locationEntries"]
        for entry in entries:
            location = entry["locationOrLoadError"] or {}
            assert location.get("__typename") != "PythonError", location.get("message")
        if entries and all(entry["loadStatus"] == "LOADED" for entry in entries):
            return
        time.sleep(1)
    pytest.fail(f"dagster dev did not load within {STARTUP_TIMEOUT}s:\n{server.log_tail()}")


def _signal_group(group: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signum)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C for the process group (webserver, daemon, code servers), then kill what is left."""
    _signal_group(process.pid, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=SHUTDOWN_TIMEOUT)
    _signal_group(process.pid, signal.SIGKILL)
    process.wait(timeout=SHUTDOWN_TIMEOUT)


@contextmanager
def running_dagster_dev(
    root: Path, prepare: Callable[[Path], object] | None = None
) -> Iterator[DagsterDev]:
    """`dagster dev` on 127.0.0.1 and a free port, serving a project copy under `root`
    (changed by `prepare`, given the copy's directory, before it starts)."""
    project = _copy_project(root)
    if prepare is not None:
        prepare(project)
    env = {**os.environ, **SETTINGS, "DAGSTER_HOME": str(_dagster_home(root))}
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    port = _free_port()
    server = DagsterDev(url=f"http://127.0.0.1:{port}", project=project, env=env, log=root / "log")
    command = [str(BIN / "dagster"), "dev", "-h", "127.0.0.1", "-p", str(port)]
    with server.log.open("wb") as log:
        process = subprocess.Popen(
            [*command, "-w", "workspace.yaml"],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_restore_sigint,
            start_new_session=True,
        )
    try:
        _wait_until_loaded(server, process)
        yield server
    finally:
        _stop(process)
