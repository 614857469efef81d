"""The one place that talks to the SQL engine.

Everything above this module builds sqlglot expressions; this module renders them for
the engine's dialect and runs them. DuckDB is the embedded default; a distributed engine
later plugs in here by rendering the same expressions for its own dialect.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
from pydantic import BaseModel, ConfigDict
from sqlglot import exp

from segment_pipeline.errors import ConfigError


class WarehouseSettings(BaseModel):
    """Where the warehouse lives and how much of the machine DuckDB may use."""

    model_config = ConfigDict(frozen=True)

    path: Path
    memory_limit: str | None = None
    threads: int | None = None


class Warehouse:
    """Runs sqlglot expressions against one DuckDB connection."""

    dialect = "duckdb"

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection
        self._in_transaction = False
        # Naive timestamps in the data are UTC, and so is every time the pipeline computes.
        connection.execute("SET TimeZone = 'UTC'")

    @classmethod
    @contextmanager
    def open(cls, settings: WarehouseSettings, *, read_only: bool = False) -> Iterator[Warehouse]:
        """Open (creating it unless `read_only`) the DuckDB file with the configured limits."""
        if read_only and not settings.path.is_file():
            raise ConfigError(
                f"warehouse {settings.path} does not exist yet: run `segment-pipeline run` "
                "first, or point --warehouse / SEGMENT_PIPELINE_WAREHOUSE at it"
            )
        settings.path.parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, str | int | bool] = {"access_mode": "READ_ONLY"} if read_only else {}
        if settings.memory_limit:
            config["memory_limit"] = settings.memory_limit
        if settings.threads:
            config["threads"] = settings.threads
        try:
            connection = duckdb.connect(str(settings.path), config=config)
        except duckdb.Error as error:
            raise ConfigError(f"cannot open warehouse {settings.path}: {error}") from error
        try:
            yield cls(connection)
        finally:
            connection.close()

    def render(self, statement: exp.Expression) -> str:
        """The statement as SQL text in this warehouse's dialect.

        Every statement is built for one execution, so the generator may rewrite it in
        place rather than copy it first (copying the larger trees costs more than running
        some of them).
        """
        return statement.sql(dialect=self.dialect, copy=False)

    def execute(self, statement: exp.Expression) -> None:
        """Run a statement that returns nothing worth reading."""
        self.connection.execute(self.render(statement))

    def query(self, statement: exp.Expression) -> pd.DataFrame:
        """Run a query and return its rows as a DataFrame."""
        return self.connection.execute(self.render(statement)).df()

    def rows(self, statement: exp.Expression) -> list[tuple[object, ...]]:
        """Run a query and return its rows as tuples (for small results)."""
        return self.connection.execute(self.render(statement)).fetchall()

    def scalar(self, statement: exp.Expression) -> object:
        """Run a query that returns one value."""
        row = self.connection.execute(self.render(statement)).fetchone()
        return None if row is None else row[0]

    @contextmanager
    def registered(self, name: str, frame: pd.DataFrame) -> Iterator[exp.Table]:
        """Expose a DataFrame as the relation `name` while the block runs."""
        self.connection.register(name, frame)
        try:
            yield exp.to_table(name)
        finally:
            self.connection.unregister(name)

    def table_exists(self, name: str) -> bool:
        """Whether a table or view of that name exists in the main schema."""
        query = (
            exp.select(exp.func("count", exp.Star()))
            .from_("information_schema.tables")
            .where(exp.column("table_name").eq(exp.Literal.string(name)))
        )
        return bool(self.scalar(query))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside commit together or not at all.

        A transaction opened inside another joins it, so a caller can make several
        writers' work one unit (and pay for one commit).
        """
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
