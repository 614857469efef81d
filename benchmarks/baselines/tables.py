"""A DuckDB connection that reads the benchmark warehouse's tables, whichever engine wrote
them: the baselines and the checks query the pipeline's tables through it.

On DuckDB the warehouse is the file itself. On Spark it is a directory of Parquet tables
(SPEC 12), which DuckDB reads in place: each table folder becomes a view, its hive
partitions (`snapshot_date=...`) columns again, and Spark's timestamps (instants, read
as `TIMESTAMP WITH TIME ZONE`) the UTC wall times the DuckDB warehouse stores, so the
baselines' SQL and pandas run unchanged on either warehouse.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from sqlglot import exp

from benchmarks.steps import StepConfig


def connect(config: StepConfig, *, schema: str | None = None) -> duckdb.DuckDBPyConnection:
    """A connection with the benchmark's limits, in UTC, where the warehouse's tables are
    readable (in `schema` when given, e.g. `w.events`), read-only."""
    limits = {"memory_limit": config.memory_limit, "threads": config.threads}
    if config.engine == "duckdb" and schema is None:
        connection = duckdb.connect(str(config.warehouse), read_only=True, config=limits)
    else:
        connection = duckdb.connect(config=limits)
    connection.execute("SET TimeZone = 'UTC'")
    if config.engine == "duckdb":
        if schema is not None:
            attach = exp.Attach(
                this=exp.alias_(exp.Literal.string(str(config.warehouse)), schema),
                expressions=[exp.AttachOption(this=exp.var("READ_ONLY"))],
            )
            connection.execute(attach.sql(dialect="duckdb"))
        return connection
    if schema is not None:
        connection.execute(exp.Create(this=exp.to_identifier(schema), kind="SCHEMA").sql("duckdb"))
    for folder in sorted(Path(config.warehouse).iterdir()):
        if folder.is_dir() and any(folder.rglob("*.parquet")):
            _view(connection, folder, schema)
    return connection


def _view(connection: duckdb.DuckDBPyConnection, folder: Path, schema: str | None) -> None:
    """`CREATE VIEW <table> AS SELECT ... FROM read_parquet(<folder>/**/*.parquet)`, by
    column name: a table's older partitions lack a column added to sources.yml since (Spark
    reads them as NULL there, and so must the baselines)."""
    hive = any("=" in child.name for child in folder.iterdir() if child.is_dir())
    source = exp.func(
        "read_parquet",
        exp.Literal.string(str(folder / "**" / "*.parquet")),
        exp.EQ(this=exp.column("hive_partitioning"), expression=exp.Boolean(this=hive)),
        exp.EQ(this=exp.column("union_by_name"), expression=exp.true()),
    )
    relation = connection.read_parquet(
        str(folder / "**" / "*.parquet"), hive_partitioning=hive, union_by_name=True
    )
    columns = [
        exp.cast(exp.column(name, quoted=True), "TIMESTAMP").as_(name, quoted=True)
        if str(kind) == "TIMESTAMP WITH TIME ZONE"
        else exp.column(name, quoted=True)
        for name, kind in zip(relation.columns, relation.types, strict=True)
    ]
    view = exp.Create(
        this=exp.table_(folder.name, db=schema, quoted=True),
        kind="VIEW",
        expression=exp.select(*columns).from_(source),
    )
    connection.execute(view.sql(dialect="duckdb"))
