"""Resources the assets receive by parameter name, chosen from settings in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from segment_pipeline.definitions.project import Project, load_project
from segment_pipeline.definitions.sources import Sources, load_sources
from segment_pipeline.errors import SegmentPipelineError
from segment_pipeline.orchestrate.consumers import SegmentTables
from segment_pipeline.settings import Settings
from segment_pipeline.warehouse.engine import Warehouse
from segment_pipeline.warehouse.schema import ensure_schema

#: Every asset that writes the warehouse runs in this pool (limit 1 in dagster.yaml), so two
#: runs never write the DuckDB file at once.
WAREHOUSE_POOL = "duckdb_warehouse"


class ProjectResource(dg.ConfigurableResource):
    """The user's analytics project and landing zone."""

    project_dir: str
    landing_dir: str

    def load(self) -> Project:
        """The validated project (a mistake fails the asset with one clear sentence)."""
        with user_errors():
            return load_project(Path(self.project_dir))

    def sources(self) -> Sources:
        """Only `sources.yml`: ingestion must not depend on segment files being valid."""
        with user_errors():
            return load_sources(Path(self.project_dir))

    @property
    def landing(self) -> Path:
        """The landing root."""
        return Path(self.landing_dir)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a user's mistake into a Dagster failure showing its sentence, not a traceback."""
    try:
        yield
    except SegmentPipelineError as error:
        raise dg.Failure(description=str(error), allow_retries=False) from None


@contextmanager
def open_warehouse(duckdb: DuckDBResource, sources: Sources) -> Iterator[Warehouse]:
    """A warehouse on the resource's connection, with every table in place.

    The connection is closed however the block ends: `DuckDBResource` closes it only after
    a clean exit, and a failed step that kept it open would keep the file locked against
    every other process until the run's process ends.
    """
    with duckdb.get_connection() as connection, closing(connection):
        warehouse = Warehouse(connection)
        ensure_schema(warehouse, sources)
        yield warehouse


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """The resources for these settings; `segment_tables` is for users' own assets."""
    config: dict[str, str | int] = {}
    if settings.duckdb_memory_limit:
        config["memory_limit"] = settings.duckdb_memory_limit
    if settings.duckdb_threads:
        config["threads"] = settings.duckdb_threads
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    duckdb = DuckDBResource(database=str(settings.warehouse), connection_config=config)
    return {
        "project": ProjectResource(
            project_dir=str(settings.project_dir), landing_dir=str(settings.landing_dir)
        ),
        "duckdb": duckdb,
        "segment_tables": SegmentTables(duckdb=duckdb),
    }
