"""The one seam between the pipeline and a SQL engine.

Everything above this package builds sqlglot expressions and calls the `Warehouse`
methods below; an engine renders them for its dialect and runs them. Two engines
implement it: DuckDB (one file, the default) and Apache Spark (Parquet tables under a
warehouse directory). Nothing else in the pipeline knows which one runs.

Writes go through three operations every engine can do on its own storage: create a
run-local relation from a query (`create_relation`), replace the rows of a table that a
condition selects (`replace_rows`: DuckDB deletes and inserts in one transaction, Spark
overwrites the partitions concerned) and append rows (`append`, `append_arrow`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, ClassVar, Literal

import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, ConfigDict
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from segment_pipeline.errors import ConfigError

EngineName = Literal["duckdb", "spark"]


class WarehouseSettings(BaseModel):
    """Which engine, where the warehouse lives and how much of the machine it may use.

    `path` is the DuckDB file, or Spark's warehouse directory (one folder per table).
    """

    model_config = ConfigDict(frozen=True)

    path: Path
    engine: EngineName = "duckdb"
    memory_limit: str | None = None
    threads: int | None = None
    #: Spark Connect URL (`sc://host:15002`); unset, Spark runs a local session.
    spark_remote: str | None = None


def create_folder(path: Path) -> None:
    """Create the warehouse file's folder, or say in one sentence why it cannot be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(
            f"cannot create the folder {path.parent} for the warehouse {path} "
            f"({error.strerror or error}): point --warehouse or SEGMENT_PIPELINE_WAREHOUSE "
            "at a writable place"
        ) from error


class Warehouse(ABC):
    """Runs sqlglot expressions on one engine: the pipeline's only way to its data."""

    #: The engine's sqlglot dialect: its own, plus the pipeline's nodes (`segment_pipeline.sql`).
    dialect: ClassVar[type[Dialect]]

    @staticmethod
    def open(
        settings: WarehouseSettings, *, read_only: bool = False
    ) -> AbstractContextManager[Warehouse]:
        """Open the configured engine's warehouse (creating it unless `read_only`)."""
        if settings.engine == "spark":
            from segment_pipeline.warehouse.spark_engine import SparkWarehouse

            return SparkWarehouse.open(settings, read_only=read_only)
        from segment_pipeline.warehouse.duckdb_engine import DuckDBWarehouse

        return DuckDBWarehouse.open(settings, read_only=read_only)

    def render(self, statement: exp.Expr) -> str:
        """The statement as SQL text in this warehouse's dialect.

        Every statement is built for one execution, so the generator may rewrite it in
        place rather than copy it first (copying the larger trees costs more than running
        some of them).
        """
        return statement.sql(dialect=self.dialect, copy=False)

    # -- reading and running ----------------------------------------------------------

    def limits(self) -> dict[str, str]:
        """The memory limit and thread count the engine runs with, as the engine reports
        them (a run's metadata shows them). An engine that cannot tell returns nothing."""
        return {}

    @abstractmethod
    def execute(self, statement: exp.Expr) -> None:
        """Run a statement that returns nothing worth reading."""

    @abstractmethod
    def arrow(self, statement: exp.Expr) -> pa.Table:
        """Run a query and return its rows as an Arrow table."""

    @abstractmethod
    def query(self, statement: exp.Expr) -> pd.DataFrame:
        """Run a query and return its rows as a DataFrame."""

    @abstractmethod
    def rows(self, statement: exp.Expr) -> list[tuple[Any, ...]]:
        """Run a query and return its rows as tuples (for small results).

        The values are the engine's Python values for the query's column types: the query,
        not this interface, knows those types, so they are `Any` here."""

    def scalar(self, statement: exp.Expr) -> Any:
        """Run a query that returns one value (`Any`, as in `rows`)."""
        rows = self.rows(statement)
        return rows[0][0] if rows else None

    @abstractmethod
    def registered(self, name: str, frame: pd.DataFrame) -> AbstractContextManager[exp.Table]:
        """Expose a DataFrame as the relation `name` while the block runs."""

    @abstractmethod
    def table_exists(self, name: str) -> bool:
        """Whether a table (or run relation) of that name exists."""

    @abstractmethod
    def columns(self, name: str) -> list[str]:
        """The column names of a table, in order."""

    @property
    @abstractmethod
    def read_only(self) -> bool:
        """Whether the warehouse was opened only to read (a preview)."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """All writes inside commit together or not at all, where the engine can.

        A transaction opened inside another joins it. DuckDB commits them as one; Spark
        has no transactions over Parquet tables, and each write replaces whole
        partitions, so a re-run repairs what a failed one left half-written.
        """

    # -- writing ----------------------------------------------------------------------

    @abstractmethod
    def ensure_table(
        self, name: str, columns: dict[str, str], *, partitioned_by: str | None = None
    ) -> None:
        """Create a table if it does not exist yet, and add columns declared since.

        `partitioned_by` names the date column an engine that stores partitions (Spark)
        splits the table by; replacing rows then rewrites only the partitions concerned.
        """

    def ensure_tables(
        self, tables: dict[str, dict[str, str]], partitions: dict[str, str] | None = None
    ) -> None:
        """`ensure_table` for each table (`partitions`: each one's `partitioned_by`); an
        engine that can tell what exists in one look-up overrides this."""
        for name, columns in tables.items():
            self.ensure_table(name, columns, partitioned_by=(partitions or {}).get(name))

    @abstractmethod
    def create_table_as(
        self, name: str, query: exp.Query, *, partitioned_by: str | None = None
    ) -> None:
        """Create (or replace) a table holding the rows of a query, typed as it types them."""

    @abstractmethod
    def drop_table(self, name: str) -> None:
        """Drop a table and its rows if it exists."""

    @abstractmethod
    def column_types(self, name: str) -> dict[str, str]:
        """A table's columns and their types, as sqlglot type names (e.g. `ARRAY<TEXT>`)."""

    @abstractmethod
    def create_relation(self, name: str, query: exp.Query) -> None:
        """Materialise a run-local relation (gone when the warehouse is closed)."""

    @abstractmethod
    def replace_rows(self, table: str, where: exp.Expr, rows: exp.Query) -> None:
        """Replace the table's rows for which `where` holds with `rows` (named like the
        table's columns): a partition re-materialised, never appended twice. `rows` must
        not read `table` (materialise a run relation first)."""

    @abstractmethod
    def append(self, table: str, rows: exp.Query, columns: list[str] | None = None) -> None:
        """Append the rows of a query into `columns` (default: the query's column names)."""

    @abstractmethod
    def stage_file(self, path: Path, wanted: list[str], into: str) -> list[str]:
        """Stage one landing file as the run relation `into`; return the columns it has.

        The relation has one text column per wanted column (NULL when the file lacks it),
        the 1-based `line` an editor shows (parquet: the row number), the `raw` row text
        and `malformed`: why the line itself could not be parsed, if it could not.

        Raises:
            IngestError: the file cannot be read at all (the message names it and why).
        """

    @abstractmethod
    def append_arrow(self, table: str, data: pa.Table) -> None:
        """Append an Arrow table whose columns are named like the table's."""
