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

import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema
from sqlglot import exp

from segment_pipeline.errors import ConfigError, IngestError
from segment_pipeline.warehouse.engine import Warehouse, WarehouseSettings

#: Small local sessions: the machine is small, and the data of one run is too.
_LOCAL_CONFIG = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "2",
    "spark.ui.enabled": "false",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.ansi.enabled": "false",
}


def spark_session(settings: WarehouseSettings) -> SparkSession:
    """The session for these settings: Spark Connect when remote, else local (reused)."""
    builder = SparkSession.builder
    if settings.spark_remote:
        builder = builder.remote(settings.spark_remote)
    else:
        threads = settings.threads or 2
        builder = builder.master(f"local[{threads}]").config(
            "spark.sql.warehouse.dir", str(settings.path.resolve())
        )
        if settings.memory_limit:
            builder = builder.config("spark.driver.memory", settings.memory_limit)
    for key, value in _LOCAL_CONFIG.items():
        builder = builder.config(key, value)
    return builder.appName("segment-pipeline").getOrCreate()


def _spark_type(kind: str) -> str:
    """A schema type for Spark: JSON is kept as its text."""
    data_type = exp.DataType.build(kind)
    if data_type.is_type(exp.DataType.Type.JSON):
        data_type = exp.DataType.build("STRING")
    return data_type.sql(dialect="spark")


def _portable(node: exp.Expression) -> exp.Expression:
    """Rewrite what Spark has no type for: JSON values are their text."""
    if isinstance(node, exp.DataType) and node.is_type(exp.DataType.Type.JSON):
        return exp.DataType.build("STRING")
    return node


class SparkWarehouse(Warehouse):
    """Runs sqlglot expressions on a Spark session over one warehouse directory."""

    dialect = "spark"

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
    def open(  # type: ignore[override]
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
        try:
            yield warehouse
        finally:
            warehouse.close()

    def close(self) -> None:
        """Drop the run relations (the session itself is shared and stays up)."""
        for name, frame in self._relations.items():
            self.spark.catalog.dropTempView(name)
            frame.unpersist()
        self._relations.clear()

    def render(self, statement: exp.Expression) -> str:
        return statement.transform(_portable, copy=False).sql(dialect=self.dialect, copy=False)

    def _sql(self, statement: exp.Expression) -> DataFrame:
        return self.spark.sql(self.render(statement))

    def execute(self, statement: exp.Expression) -> None:
        self._sql(statement).collect()

    def arrow(self, statement: exp.Expression) -> pa.Table:
        return self._sql(statement).toArrow()

    def query(self, statement: exp.Expression) -> pd.DataFrame:
        return self.arrow(statement).to_pandas()

    def rows(self, statement: exp.Expression) -> list[tuple[object, ...]]:
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
            definitions = ", ".join(f"`{c}` {_spark_type(kind)}" for c, kind in columns.items())
            partitioning = f" PARTITIONED BY (`{partitioned_by}`)" if partitioned_by else ""
            self.spark.sql(
                f"CREATE TABLE IF NOT EXISTS `{name}` ({definitions}) USING PARQUET"
                f"{partitioning} LOCATION '{self._location(name)}'"
            )
            if partitioned_by:
                self.spark.sql(f"ALTER TABLE `{name}` RECOVER PARTITIONS")
        existing = set(self.columns(name))
        added = [f"`{c}` {_spark_type(kind)}" for c, kind in columns.items() if c not in existing]
        if added:
            self.spark.sql(f"ALTER TABLE `{name}` ADD COLUMNS ({', '.join(added)})")

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
            self.spark.sql(f"DROP TABLE IF EXISTS `{name}`")

    def create_relation(self, name: str, query: exp.Query) -> None:
        frame = self._sql(query).localCheckpoint(eager=True)
        previous = self._relations.pop(name, None)
        frame.createOrReplaceTempView(name)
        self._relations[name] = frame
        if previous is not None:
            previous.unpersist()

    def _ordered(self, table: str, rows: exp.Query) -> exp.Select:
        """The rows in the table's column order (partition column last, as Spark keeps it)."""
        return exp.select(*(exp.column(c, quoted=True) for c in self.columns(table))).from_(
            rows.subquery("rows", copy=False)
        )

    def replace_rows(self, table: str, where: exp.Expression, rows: exp.Query) -> None:
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
            in_dates = exp.column(partition).isin(*(exp.Literal.string(str(d)) for d in dates))
            kept = kept.where(in_dates)
            stacked = exp.union(
                self._ordered(table, kept),
                exp.select("*").from_(staged_name),
                distinct=False,
            )
            self.create_relation(staged_name, stacked)
            self.spark.sql(
                f"INSERT OVERWRITE TABLE `{table}` PARTITION (`{partition}`) "
                f"SELECT * FROM `{staged_name}`"
            )
            emptied = dates - {
                row[0] for row in self.rows(exp.select(partition).from_(staged_name).distinct())
            }
            for day in emptied:
                self.spark.sql(
                    f"ALTER TABLE `{table}` DROP IF EXISTS PARTITION (`{partition}` = '{day}')"
                )
            return
        stacked = exp.union(self._ordered(table, kept), self._ordered(table, rows), distinct=False)
        staged_name = f"staged__{table}"
        self.create_relation(staged_name, stacked)
        self.spark.sql(f"INSERT OVERWRITE TABLE `{table}` SELECT * FROM `{staged_name}`")

    def append(self, table: str, rows: exp.Query, columns: list[str] | None = None) -> None:
        staged_name = f"appended__{table}"
        self.create_relation(staged_name, self._ordered(table, rows))
        self.spark.sql(f"INSERT INTO `{table}` SELECT * FROM `{staged_name}`")

    def append_arrow(self, table: str, data: pa.Table) -> None:
        name = f"arrow__{table}"
        self._frame(data).createOrReplaceTempView(name)
        try:
            self.append(table, exp.select("*").from_(name))
        finally:
            self.spark.catalog.dropTempView(name)

    def stage_file(self, path: Path, wanted: list[str], into: str) -> list[str]:
        raise IngestError(
            f"cannot read {path}: landing files are ingested on the duckdb engine for now "
            "(set SEGMENT_PIPELINE_ENGINE=duckdb for ingestion)"
        )
