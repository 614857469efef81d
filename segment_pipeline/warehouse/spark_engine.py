"""The Spark engine: every table is Parquet under the warehouse directory, partitioned by
its date column (hive layout), so any engine can read the outputs (SPEC 12).

A local session runs unless `spark_remote` (Spark Connect) is set. The catalog of a local
session lives in memory, so every table is declared over its directory (`LOCATION`) when
the warehouse opens, and its partitions recovered from the folders. Run relations are
checkpointed temp views. Replacing rows rewrites the partitions concerned with
`INSERT OVERWRITE ... PARTITION` from a staged copy; there are no transactions over
Parquet, and each write replaces whole partitions, so a re-run repairs whatever a failed
run left half-written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema
from sqlglot import exp

from segment_pipeline.errors import ConfigError
from segment_pipeline.sql import lit
from segment_pipeline.warehouse.arrow_readers import read_landing_file
from segment_pipeline.warehouse.engine import Warehouse, WarehouseSettings
from segment_pipeline.warehouse.spark_session import spark_session
from segment_pipeline.warehouse.spark_sql import PipelineSpark, column_defs, quoted_table, spark_sql

#: The warehouse directory whose tables each (local) session's catalog declares.
_DECLARED: dict[int, str] = {}


class SparkWarehouse(Warehouse):
    """Runs sqlglot expressions on a Spark session over one warehouse directory."""

    dialect = PipelineSpark

    def __init__(
        self, spark: SparkSession, root: str, *, local: bool, read_only: bool = False
    ) -> None:
        self.spark = spark
        self.root = root.rstrip("/")
        #: Whether the warehouse directory is on this machine (a local session).
        self.local = local
        self._read_only = read_only
        self._relations: dict[str, DataFrame] = {}

    @classmethod
    @contextmanager
    def open(
        cls, settings: WarehouseSettings, *, read_only: bool = False
    ) -> Iterator[SparkWarehouse]:
        """A warehouse on the configured session; its run relations are dropped at the end."""
        if not settings.spark_remote:
            if read_only and not settings.path.is_dir():
                raise ConfigError(
                    f"warehouse {settings.path} does not exist yet: run `segment-pipeline run` "
                    "first, or point --warehouse / SEGMENT_PIPELINE_WAREHOUSE at it"
                )
            settings.path.mkdir(parents=True, exist_ok=True)
        root = str(settings.path) if settings.spark_remote else str(settings.path.resolve())
        local = not settings.spark_remote
        warehouse = cls(spark_session(settings), root, local=local, read_only=read_only)
        if local:
            warehouse._declare_tables()
        try:
            yield warehouse
        finally:
            warehouse.close()

    def _declare_tables(self) -> None:
        """Point the session's catalog at this warehouse's tables.

        A local session keeps its catalog in memory, for whichever warehouse it opened last:
        a warehouse opened anew drops those declarations (not their data: every table is
        external, over its folder) and declares each of its folders that holds data, with
        the partitions its folders are.
        """
        session = id(self.spark)
        if _DECLARED.get(session) == self.root:
            return
        for table in self.spark.catalog.listTables():
            if not table.isTemporary:
                self.execute(exp.Drop(tables=[quoted_table(table.name)], kind="TABLE", exists=True))
        for folder in sorted(Path(self.root).iterdir()):
            if not folder.is_dir() or not any(folder.rglob("*.parquet")):
                continue
            location = exp.LocationProperty(this=lit(self._location(folder.name)))
            parquet = exp.FileFormatProperty(this=exp.var("PARQUET"))
            properties = exp.Properties(expressions=[parquet, location])
            self.execute(
                exp.Create(this=quoted_table(folder.name), kind="TABLE", properties=properties)
            )
            if self._partition_column(folder.name):
                self.spark.catalog.recoverPartitions(folder.name)
        _DECLARED[session] = self.root

    def close(self) -> None:
        """Drop the run relations (the session itself is shared and stays up)."""
        for name, frame in self._relations.items():
            self.spark.catalog.dropTempView(name)
            frame.unpersist()
        self._relations.clear()

    def render(self, statement: exp.Expr) -> str:
        return spark_sql(statement)

    def _sql(self, statement: exp.Expr) -> DataFrame:
        return self.spark.sql(self.render(statement))

    def execute(self, statement: exp.Expr) -> None:
        self._sql(statement).collect()

    def arrow(self, statement: exp.Expr) -> pa.Table:
        return self._sql(statement).toArrow()

    def query(self, statement: exp.Expr) -> pd.DataFrame:
        frame: pd.DataFrame = self.arrow(statement).to_pandas()
        return frame

    def rows(self, statement: exp.Expr) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._sql(statement).collect()]

    def _frame(self, data: pa.Table) -> DataFrame:
        """An Arrow table as a Spark DataFrame; a column of NULLs only is text."""
        fields = [
            pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in data.schema
        ]
        data = data.cast(pa.schema(fields))
        schema = from_arrow_schema(data.schema)
        return self.spark.createDataFrame(data.to_pylist() or [], schema=schema)

    @contextmanager
    def registered(self, name: str, frame: pd.DataFrame) -> Iterator[exp.Table]:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        self._frame(table).createOrReplaceTempView(name)
        try:
            yield exp.to_table(name)
        finally:
            self.spark.catalog.dropTempView(name)

    def table_exists(self, name: str) -> bool:
        return bool(self.spark.catalog.tableExists(name))

    def columns(self, name: str) -> list[str]:
        return list(self.spark.table(name).columns)

    def column_types(self, name: str) -> dict[str, str]:
        return {
            field.name: exp.DataType.build(field.dataType.simpleString(), dialect="spark").sql()
            for field in self.spark.table(name).schema.fields
        }

    @property
    def read_only(self) -> bool:
        return self._read_only

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    def _location(self, name: str) -> str:
        return f"{self.root}/{name}"

    def _partition_column(self, name: str) -> str | None:
        columns = self.spark.catalog.listColumns(name)
        partitions = [column.name for column in columns if column.isPartition]
        return partitions[0] if partitions else None

    def ensure_table(
        self, name: str, columns: dict[str, str], *, partitioned_by: str | None = None
    ) -> None:
        if not self.table_exists(name):
            if self.local:
                Path(self._location(name)).mkdir(parents=True, exist_ok=True)
            properties: list[exp.Expr] = [exp.FileFormatProperty(this=exp.var("PARQUET"))]
            if partitioned_by:
                partition = exp.Schema(expressions=[exp.to_identifier(partitioned_by, quoted=True)])
                properties.append(exp.PartitionedByProperty(this=partition))
            properties.append(exp.LocationProperty(this=lit(self._location(name))))
            schema = exp.Schema(this=quoted_table(name), expressions=column_defs(columns))
            self.execute(
                exp.Create(
                    this=schema,
                    kind="TABLE",
                    exists=True,
                    properties=exp.Properties(expressions=properties),
                )
            )
            if partitioned_by:
                # The folders of a warehouse written before are its partitions.
                self.spark.catalog.recoverPartitions(name)
        existing = set(self.columns(name))
        added = {column: kind for column, kind in columns.items() if column not in existing}
        if added:
            self.execute(
                exp.Alter(
                    this=quoted_table(name),
                    kind="TABLE",
                    actions=[exp.Schema(expressions=column_defs(added))],
                )
            )

    def create_table_as(
        self, name: str, query: exp.Query, *, partitioned_by: str | None = None
    ) -> None:
        frame = self._sql(query)
        columns = {field.name: field.dataType.simpleString() for field in frame.schema.fields}
        self.drop_table(name)
        self.ensure_table(name, columns, partitioned_by=partitioned_by)
        self.append(name, query)

    def drop_table(self, name: str) -> None:
        if self.table_exists(name):
            self.replace_rows(name, exp.true(), exp.select("*").from_(name).where(exp.false()))
            self.execute(exp.Drop(tables=[quoted_table(name)], kind="TABLE", exists=True))

    def create_relation(self, name: str, query: exp.Query) -> None:
        self._keep(name, self._sql(query).localCheckpoint(eager=True))

    def _keep(self, name: str, frame: DataFrame) -> None:
        """Make a checkpointed frame the run relation `name` (replacing one so named)."""
        previous = self._relations.pop(name, None)
        frame.createOrReplaceTempView(name)
        self._relations[name] = frame
        if previous is not None:
            previous.unpersist()

    def _ordered(self, table: str, rows: exp.Query) -> exp.Select:
        """The rows in the table's column order (partition column last, as Spark keeps it).
        A column the rows leave out is NULL, as DuckDB's INSERT naming its columns gives
        (contacts without a declared `company_id` still fill `contacts_history`)."""
        given = set(rows.named_selects)
        columns = [
            exp.column(name, quoted=True)
            if "*" in given or name in given
            else exp.alias_(exp.cast(exp.null(), kind), name, quoted=True)
            for name, kind in self.column_types(table).items()
        ]
        return exp.select(*columns).from_(rows.subquery("rows", copy=False))

    def replace_rows(self, table: str, where: exp.Expr, rows: exp.Query) -> None:
        partition = self._partition_column(table)
        kept = exp.select("*").from_(table).where(exp.not_(exp.paren(where.copy())))
        if partition is not None:
            touched = exp.select(partition).from_(table).where(where.copy()).distinct()
            dates = {row[0] for row in self.rows(touched)}
            new = self._ordered(table, rows.copy())
            staged_name = f"staged__{table}"
            self.create_relation(staged_name, new)
            dates |= {
                row[0] for row in self.rows(exp.select(partition).from_(staged_name).distinct())
            }
            if not dates:
                return
            in_dates = exp.column(partition).isin(*(lit(day) for day in sorted(dates)))
            stacked = self._kept_and(table, kept.where(in_dates), staged_name)
            replacement = f"replacement__{table}"
            self.create_relation(replacement, stacked)
            self._overwrite(table, replacement, partition)
            emptied = dates - {
                row[0] for row in self.rows(exp.select(partition).from_(replacement).distinct())
            }
            for day in sorted(emptied):
                self._empty_partition(table, partition, str(day), replacement)
            return
        staged_name = f"staged__{table}"
        self.create_relation(staged_name, self._ordered(table, rows))
        replacement = f"replacement__{table}"
        self.create_relation(replacement, self._kept_and(table, kept, staged_name))
        self._overwrite(table, replacement, None)

    def _kept_and(self, table: str, kept: exp.Select, staged_name: str) -> exp.Query:
        """The kept rows of the table, then the staged ones."""
        return exp.union(
            self._ordered(table, kept), exp.select("*").from_(staged_name), distinct=False
        )

    def _empty_partition(self, table: str, partition: str, day: str, shaped_like: str) -> None:
        """Remove one partition's rows and the partition. Dropping a partition of an
        external table keeps its files (a re-opened warehouse would find them again), so
        the partition is first overwritten with no rows (of `shaped_like`, a relation with
        the table's columns: Spark cannot overwrite a table it reads)."""
        target = quoted_table(table)
        by_day = exp.Partition(expressions=[exp.column(partition).eq(lit(day))])
        target.set("partition", by_day)
        data_columns = [c for c in self.columns(table) if c != partition]
        columns = (exp.column(c, quoted=True) for c in data_columns)
        nothing = exp.select(*columns).from_(shaped_like)
        self.execute(exp.Insert(this=target, expression=nothing.where(exp.false()), overwrite=True))
        drop = exp.DropPartition(expressions=[by_day.copy()], exists=True)
        self.execute(exp.Alter(this=quoted_table(table), kind="TABLE", actions=[drop]))

    def _overwrite(self, table: str, staged_name: str, partition: str | None) -> None:
        """Replace the table's rows (with `partition`: the partitions the staged rows
        have) by the staged relation's."""
        target = quoted_table(table)
        if partition is not None:
            target.set("partition", exp.Partition(expressions=[exp.column(partition)]))
        self.execute(
            exp.Insert(this=target, expression=exp.select("*").from_(staged_name), overwrite=True)
        )

    def append(self, table: str, rows: exp.Query, columns: list[str] | None = None) -> None:
        staged_name = f"appended__{table}"
        self.create_relation(staged_name, self._ordered(table, rows))
        self.execute(exp.insert(exp.select("*").from_(staged_name), quoted_table(table)))

    def append_arrow(self, table: str, data: pa.Table) -> None:
        name = f"arrow__{table}"
        self._frame(data).createOrReplaceTempView(name)
        try:
            self.append(table, exp.select("*").from_(name))
        finally:
            self.spark.catalog.dropTempView(name)

    def stage_file(self, path: Path, wanted: list[str], into: str) -> list[str]:
        """Read on the driver (`arrow_readers`: the rules DuckDB's readers follow), then
        staged as a run relation."""
        staged, available = read_landing_file(path, wanted)
        frame = self.spark.createDataFrame(staged).localCheckpoint(eager=True)
        self._keep(into, frame)
        return available
