"""A run's metadata shows the memory limit and threads the engine runs with.

The figures are read back from the engine (DuckDB's own settings), so what the UI shows is
what was in force, whether the user set it or the engine's default applied.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import dagster as dg
import pytest

from segment_pipeline.orchestrate.assets.ingest import INGEST_KEYS
from segment_pipeline.orchestrate.assets.segments import segment_key

from .conftest import DAYS, make_pipeline, materialize_range

SEGMENT = "high_fit_accounts"


def _limits(result: dg.ExecuteInProcessResult, key: dg.AssetKey) -> tuple[object, object]:
    events = result.asset_materializations_for_node("segment_snapshots") + [
        event
        for node in ("ingest_landing_zone",)
        for event in result.asset_materializations_for_node(node)
    ]
    metadata = next(event.metadata for event in events if event.asset_key == key)
    return metadata["engine_memory_limit"].value, metadata["engine_threads"].value


@pytest.mark.parametrize(
    ("memory_limit", "threads", "shown"),
    [("512MB", 1, ("488.2 MiB", "1")), (None, None, None)],
)
def test_run_metadata_shows_engine_limits(
    tmp_path: Path,
    landing: Path,
    memory_limit: str | None,
    threads: int | None,
    shown: tuple[str, str] | None,
) -> None:
    pipeline = make_pipeline(tmp_path, landing, "http://127.0.0.1:9/unused")
    settings = pipeline.settings.model_copy(
        update={"duckdb_memory_limit": memory_limit, "duckdb_threads": threads}
    )
    pipeline = dataclasses.replace(pipeline, settings=settings)
    keys = [*INGEST_KEYS.values(), segment_key(SEGMENT)]
    result = materialize_range(pipeline.definitions(), keys, DAYS[0], DAYS[0])
    assert result.success
    for key in (INGEST_KEYS["events"], segment_key(SEGMENT)):
        memory, shown_threads = _limits(result, key)
        if shown is None:
            # The engine's defaults: a size DuckDB chose, and every core.
            assert str(memory).endswith("iB"), memory
            assert int(str(shown_threads)) >= 1
        else:
            assert (memory, shown_threads) == shown
