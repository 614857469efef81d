"""End-to-end fixtures: one `dagster dev` for the session (it takes half a minute to start)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import DagsterDev, running_dagster_dev


@pytest.fixture(scope="session")
def dagster_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterDev]:
    """A running `dagster dev` serving a project copy with a few days of sample data."""
    with running_dagster_dev(tmp_path_factory.mktemp("dagster_dev")) as server:
        yield server
