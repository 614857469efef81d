"""A dead URL on 127.0.0.1, a real DuckDB file, and delta frames to deliver (the live
receiver is the shared `receiver` fixture of tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from segment_pipeline.deliver.changes import DELTA_COLUMNS
from segment_pipeline.warehouse import Warehouse, WarehouseSettings

DAY = date(2026, 3, 1)


@pytest.fixture
def dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: every connection is refused."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}/segments"


@pytest.fixture
def warehouse(tmp_path) -> Iterator[Warehouse]:
    with Warehouse.open(WarehouseSettings(path=tmp_path / "w.duckdb")) as opened:
        yield opened


def make_deltas(
    count: int, *, segment: str = "engaged", day: date = DAY, version: str = "v1"
) -> pd.DataFrame:
    """`count` changes of one segment and day, deliberately out of order."""
    start = datetime(2026, 2, 1, 9, 30, 0, 123456)
    rows = []
    for number in reversed(range(count)):
        added = number % 3 != 0
        rows.append(
            {
                "snapshot_date": pd.Timestamp(day),
                "segment": segment,
                "entity_type": "company",
                "entity_id": f"c{number:05d}",
                "change": "added" if added else "removed",
                "reason": None if added else "no_longer_matches",
                "reason_detail": None if added else "where.all[0]: employee_count >= 500",
                "joined_at": start + timedelta(minutes=number) if added else pd.NaT,
                "definition_version": version,
            }
        )
    frame = pd.DataFrame(rows, columns=list(DELTA_COLUMNS))
    frame["joined_at"] = pd.to_datetime(frame["joined_at"]).astype("datetime64[us]")
    return frame


@pytest.fixture
def deltas() -> Callable[..., pd.DataFrame]:
    """Factory for delta frames: `deltas(2500)`, `deltas(10, version="v2")`."""
    return make_deltas
