"""Baseline (c): the join times of the segments the definition change makes stale, in one
plain DuckDB SQL script (`join_times.sql`: window functions over change points, no
Dagster, no pipeline code).

The recalculation after a definition change must give each member of the changed segments
its join time from the whole history; baselines (a) + (c) are the floor of that step.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from benchmarks.baselines.duckdb_sql import run_script

SCRIPT = Path(__file__).with_name("join_times.sql")
#: The segments the script dates: those `benchmarks.steps.CHANGE` makes stale.
SEGMENTS = ("enterprise_pricing", "enterprise_pricing_contacts")


def join_times(connection: duckdb.DuckDBPyConnection, day: date) -> pd.DataFrame:
    """Members of the changed segments at `as_of(day)` with their join times: segment,
    entity_type, entity_id, joined_at."""
    run_script(connection, SCRIPT, day)
    return connection.execute("select * from jt_join_times").df()
