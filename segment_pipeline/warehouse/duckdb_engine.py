"""The DuckDB engine: the whole warehouse in one file, on one connection.

Run relations are temp tables; replacing rows deletes and inserts in one transaction, so
every write is atomic, and a day's snapshots and deltas can commit as one unit.
DuckDB lets one process at a time open the file for writing: an open the file lock
refuses is retried with exponential backoff (about 100 s in all) before it fails.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.generators.duckdb import DuckDBGenerator

from segment_pipeline.errors import ConfigError
from segment_pipeline.sql import IsJsonObject, TextList, col, lit, template
from segment_pipeline.warehouse.duckdb_readers import stage_file
from segment_pipeline.warehouse.engine import Warehouse, WarehouseSettings

#: Opening a file another process holds: retries, and the first delay (doubling).
_OPEN_RETRIES, _FIRST_DELAY = 10, 0.1


def _connect(settings: WarehouseSettings, read_only: bool) -> duckdb.DuckDBPyConnection:
    config: dict[str, str | bool | int | float | list[str]] = (
        {"access_mode": "READ_ONLY"} if read_only else {}
    )
    if settings.memory_limit:
        config["memory_limit"] = settings.memory_limit
    if settings.threads:
        config["threads"] = settings.threads
    delay = _FIRST_DELAY
    for attempt in range(_OPEN_RETRIES + 1):
        try:
            return duckdb.connect(str(settings.path), config=config)
        except duckdb.IOException as error:
            if attempt == _OPEN_RETRIES or "lock" not in str(error).lower():
                raise ConfigError(f"cannot open warehouse {settings.path}: {error}") from error
            time.sleep(delay)
            delay *= 2
        except duckdb.Error as error:
            raise ConfigError(f"cannot open warehouse {settings.path}: {error}") from error
    raise AssertionError("unreachable")


def _is_json_object(generator: Any, node: IsJsonObject) -> str:
    text = node.this
    is_object = exp.JSONType(this=text.copy()).eq(lit("OBJECT"))
    return str(
        generator.sql(exp.Case().when(exp.func("json_valid", text), is_object).else_(exp.false()))
    )


def _text_list(generator: Any, node: TextList) -> str:
    """DuckDB's JSON functions are strict: valid JSON, an array, every item's type VARCHAR
    (a null item's is NULL); the inner CASE only sees valid JSON, which they need."""
    text = node.this
    every_item = lit("$[*]")
    only_strings = exp.Anonymous(
        this="list_has_all",
        expressions=[
            exp.Array(expressions=[lit("VARCHAR")]),
            exp.JSONType(this=text.copy(), expression=every_item),
        ],
    )
    is_list = exp.and_(exp.JSONType(this=text.copy()).eq(lit("ARRAY")), only_strings)
    items = exp.JSONExtractScalar(this=text.copy(), expression=every_item.copy())
    return str(
        generator.sql(
            exp.Case().when(exp.func("json_valid", text), exp.Case().when(is_list, items))
        )
    )


class PipelineDuckDB(DuckDB):
    """DuckDB's dialect, writing the pipeline's own nodes too (`segment_pipeline.sql`)."""

    class Generator(DuckDBGenerator):  # DuckDB.Generator, named by its class
        TRANSFORMS = {  # noqa: RUF012
            **DuckDBGenerator.TRANSFORMS,
            IsJsonObject: _is_json_object,
            TextList: _text_list,
        }


def _column_defs(columns: dict[str, str]) -> list[exp.ColumnDef]:
    return [
        exp.ColumnDef(this=exp.to_identifier(column), kind=exp.DataType.build(kind))
        for column, kind in columns.items()
    ]


class DuckDBWarehouse(Warehouse):
    """Runs sqlglot expressions against one DuckDB connection."""

    dialect = PipelineDuckDB

    def __init__(self, connection: duckdb.DuckDBPyConnection, *, read_only: bool = False) -> None:
        self.connection = connection
        self._read_only = read_only
        self._in_transaction = False
        # Naive timestamps in the data are UTC, and so is every time the pipeline computes.
        connection.execute("SET TimeZone = 'UTC'")

    @classmethod
    @contextmanager
    def open(
        cls, settings: WarehouseSettings, *, read_only: bool = False
    ) -> Iterator[DuckDBWarehouse]:
        """Open (creating it unless `read_only`) the DuckDB file with the configured limits."""
        if read_only and not settings.path.is_file():
            raise ConfigError(
                f"warehouse {settings.path} does not exist yet: run `segment-pipeline run` "
                "first, or point --warehouse / SEGMENT_PIPELINE_WAREHOUSE at it"
            )
        settings.path.parent.mkdir(parents=True, exist_ok=True)
        connection = _connect(settings, read_only)
        try:
            yield cls(connection, read_only=read_only)
        finally:
            connection.close()

    def execute(self, statement: exp.Expr) -> None:
        self.connection.execute(self.render(statement))

    def limits(self) -> dict[str, str]:
        """DuckDB's `memory_limit` and `threads` in force (its defaults: 80% of RAM, every
        core), read back from the connection rather than from the settings."""
        query = exp.select(
            exp.func("current_setting", lit("memory_limit")),
            exp.func("current_setting", lit("threads")),
        )
        memory, threads = self.rows(query)[0]
        return {"memory_limit": str(memory), "threads": str(threads)}

    def arrow(self, statement: exp.Expr) -> pa.Table:
        return self.connection.execute(self.render(statement)).to_arrow_table()

    def query(self, statement: exp.Expr) -> pd.DataFrame:
        return self.connection.execute(self.render(statement)).df()

    def rows(self, statement: exp.Expr) -> list[tuple[Any, ...]]:
        return self.connection.execute(self.render(statement)).fetchall()

    def scalar(self, statement: exp.Expr) -> Any:
        row = self.connection.execute(self.render(statement)).fetchone()
        return None if row is None else row[0]

    @contextmanager
    def registered(self, name: str, frame: pd.DataFrame) -> Iterator[exp.Table]:
        self.connection.register(name, frame)
        try:
            yield exp.to_table(name)
        finally:
            self.connection.unregister(name)

    def table_exists(self, name: str) -> bool:
        query = (
            exp.select(exp.func("count", exp.Star()))
            .from_("information_schema.tables")
            .where(col("table_name").eq(lit(name)))
        )
        return bool(self.scalar(query))

    def columns(self, name: str) -> list[str]:
        query = (
            exp.select("column_name")
            .from_("information_schema.columns")
            .where(col("table_name").eq(lit(name)))
            .order_by("ordinal_position")
        )
        return [str(row[0]) for row in self.rows(query)]

    @property
    def read_only(self) -> bool:
        return self._read_only

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_transaction:
            yield
            return
        self.connection.begin()
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self.connection.rollback()
            raise
        finally:
            self._in_transaction = False
        self.connection.commit()

    def ensure_table(
        self, name: str, columns: dict[str, str], *, partitioned_by: str | None = None
    ) -> None:
        self.ensure_tables({name: columns})

    def ensure_tables(
        self, tables: dict[str, dict[str, str]], partitions: dict[str, str] | None = None
    ) -> None:
        """What exists is one look-up of the file's columns, so a warehouse already in place
        (every run after the first, on each open) costs one statement, not two a table."""
        query = (
            exp.select("table_name", "column_name")
            .from_("information_schema.columns")
            .where(
                col("table_catalog").eq(exp.func("current_database")),
                col("table_name").isin(*(lit(name) for name in tables)),
                copy=False,
            )
        )
        existing: dict[str, set[str]] = {}
        for table, column in self.rows(query):
            existing.setdefault(str(table), set()).add(str(column))
        for name, columns in tables.items():
            if name not in existing:
                schema = exp.Schema(this=exp.to_table(name), expressions=_column_defs(columns))
                self.execute(exp.Create(this=schema, kind="TABLE", exists=True))
                continue
            added = {
                column: kind for column, kind in columns.items() if column not in existing[name]
            }
            for definition in _column_defs(added):
                self.execute(exp.Alter(this=exp.to_table(name), kind="TABLE", actions=[definition]))

    def create_table_as(
        self, name: str, query: exp.Query, *, partitioned_by: str | None = None
    ) -> None:
        self.execute(
            exp.Create(this=exp.to_table(name), kind="TABLE", replace=True, expression=query)
        )

    def drop_table(self, name: str) -> None:
        self.execute(exp.Drop(tables=[exp.to_table(name)], kind="TABLE", exists=True))

    def column_types(self, name: str) -> dict[str, str]:
        query = (
            exp.select("column_name", "data_type")
            .from_("information_schema.columns")
            .where(col("table_name").eq(lit(name)))
            .order_by("ordinal_position")
        )
        return {
            str(column): exp.DataType.build(str(kind), dialect="duckdb").sql()
            for column, kind in self.rows(query)
        }

    def create_relation(self, name: str, query: exp.Query) -> None:
        self.execute(
            template("create or replace temp table :t as :q", t=exp.to_table(name), q=query)
        )

    def replace_rows(self, table: str, where: exp.Expr, rows: exp.Query) -> None:
        with self.transaction():
            self.execute(exp.delete(table, where=where))
            self.append(table, rows)

    def append(self, table: str, rows: exp.Query, columns: list[str] | None = None) -> None:
        self.execute(exp.insert(rows, table, columns=columns or rows.named_selects))

    def stage_file(self, path: Path, wanted: list[str], into: str) -> list[str]:
        return stage_file(self, path, wanted, into)

    def append_arrow(self, table: str, data: pa.Table) -> None:
        name = "appended_rows"
        self.connection.register(name, data)
        try:
            self.append(table, exp.select(*data.column_names).from_(name), data.column_names)
        finally:
            self.connection.unregister(name)
