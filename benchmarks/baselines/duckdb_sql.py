"""Baseline (a): the benchmark segments' members in one plain DuckDB SQL script.

The floor: the cheapest way to get today's member sets out of the same warehouse tables,
without join times, timelines, deltas or Dagster. The script is `membership.sql`, run one
statement at a time with `$day` and `$as_of` bound as parameters (never formatted in).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb
import pandas as pd

SCRIPT = Path(__file__).with_name("membership.sql")


def as_of(day: date) -> datetime:
    """The instant a snapshot date is evaluated at (SPEC 5): the next midnight, UTC."""
    return datetime.combine(day + timedelta(days=1), time())


def run_script(connection: duckdb.DuckDBPyConnection, script: Path, day: date) -> None:
    """Run a baseline's SQL script statement by statement, in UTC, binding `$day` and
    `$as_of` where a statement uses them."""
    connection.execute("SET TimeZone = 'UTC'")
    values: dict[str, object] = {"day": day, "as_of": as_of(day)}
    for statement in connection.extract_statements(script.read_text()):
        wanted = {name: values[name] for name in statement.named_parameters}
        connection.execute(statement, wanted)


def members(connection: duckdb.DuckDBPyConnection, day: date) -> pd.DataFrame:
    """Members of every benchmark segment at `as_of(day)`: segment, entity_type, entity_id."""
    run_script(connection, SCRIPT, day)
    return connection.execute("select * from bl_members").df()
