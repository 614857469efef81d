"""The one Dagster resource every asset reaches the warehouse through, whatever the engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from segment_pipeline.definitions.sources import Sources
from segment_pipeline.warehouse import Warehouse, WarehouseSettings
from segment_pipeline.warehouse.engine import EngineName
from segment_pipeline.warehouse.schema import ensure_schema

#: Every asset that writes the warehouse runs in this pool (limit 1 in dagster.yaml), so two
#: runs never write the warehouse at once (DuckDB allows one writing process; on Spark two
#: runs overwriting the same partitions would race).
WAREHOUSE_POOL = "duckdb_warehouse"


# ConfigurableResource is generic in its value, which for it is the resource itself:
# subscripting it would make a new pydantic class, so it stays bare.
class WarehouseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Which engine runs the statements (`duckdb` or `spark`) and where the warehouse is.

    `path` is the DuckDB file or Spark's warehouse directory; `spark_remote` a Spark
    Connect URL (unset: a local Spark session).
    """

    engine: EngineName = "duckdb"
    path: str
    memory_limit: str | None = None
    threads: int | None = None
    spark_remote: str | None = None

    @property
    def settings(self) -> WarehouseSettings:
        """The engine settings of this resource."""
        return WarehouseSettings(
            path=Path(self.path),
            engine=self.engine,
            memory_limit=self.memory_limit,
            threads=self.threads,
            spark_remote=self.spark_remote,
        )

    @contextmanager
    def open(self, sources: Sources | None = None) -> Iterator[Warehouse]:
        """The warehouse, closed however the block ends (a failed step that kept a DuckDB
        file open would lock it against every other process); with `sources`, every
        table is put in place first."""
        with Warehouse.open(self.settings) as warehouse:
            if sources is not None:
                ensure_schema(warehouse, sources)
            yield warehouse


def engine_limits(warehouse: Warehouse) -> dict[str, str]:
    """A run's metadata entries for the memory limit and threads the engine reports."""
    return {f"engine_{name}": value for name, value in warehouse.limits().items()}
