"""Settings shared by the CLI and the Dagster definitions, each with an environment variable."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from segment_pipeline.warehouse.engine import EngineName, WarehouseSettings


class Settings(BaseSettings):
    """Where things are and how much of the machine to use (`SEGMENT_PIPELINE_<NAME>`)."""

    model_config = SettingsConfigDict(env_prefix="SEGMENT_PIPELINE_", frozen=True)

    project_dir: Path = Path("dbt_like_sql")
    landing_dir: Path = Path("data/landing")
    warehouse: Path = Path("data/warehouse.duckdb")
    engine: EngineName = "duckdb"
    spark_remote: str | None = None
    start_date: date = date(2026, 1, 1)
    duckdb_memory_limit: str | None = None
    duckdb_threads: int | None = Field(default=None, ge=1)
    quarantine_warn_share: float = Field(default=0.01, ge=0, le=1)

    @property
    def warehouse_settings(self) -> WarehouseSettings:
        """The engine, the warehouse (DuckDB file or Spark directory) and its limits."""
        return WarehouseSettings(
            path=self.warehouse,
            engine=self.engine,
            spark_remote=self.spark_remote,
            memory_limit=self.duckdb_memory_limit,
            threads=self.duckdb_threads,
        )
