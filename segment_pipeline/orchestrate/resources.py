"""Resources the assets receive by parameter name, chosen from settings in one place."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg

from segment_pipeline.definitions.project import Project, load_usable_project
from segment_pipeline.definitions.sources import Sources, load_sources
from segment_pipeline.errors import ConfigError, SegmentPipelineError
from segment_pipeline.orchestrate.consumers import SegmentTables
from segment_pipeline.orchestrate.warehouse_resource import WarehouseResource
from segment_pipeline.settings import Settings


# ConfigurableResource is generic in its value, which for it is the resource itself:
# subscripting it would make a new pydantic class, so it stays bare.
class ProjectResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The user's analytics project and landing zone."""

    project_dir: str
    landing_dir: str

    def load(self, kind: str = "", names: Iterable[str] = ()) -> Project:
        """The part of the project that loads; fails the asset with one clear sentence when
        one of `names` (of `kind`: segments, journeys, models, destinations) does not."""
        with user_errors():
            project, broken = load_usable_project(Path(self.project_dir))
            reasons = [reason for name in names if (reason := broken.reason(kind, name))]
            if reasons:
                raise ConfigError("; ".join(reasons))
            return project

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


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource[Any]]:
    """The resources for these settings; `segment_tables` is for users' own assets."""
    engine = settings.warehouse_settings
    warehouse = WarehouseResource(
        engine=engine.engine,
        path=str(engine.path),
        memory_limit=engine.memory_limit,
        threads=engine.threads,
        spark_remote=engine.spark_remote,
    )
    return {
        "project": ProjectResource(
            project_dir=str(settings.project_dir), landing_dir=str(settings.landing_dir)
        ),
        "engine": warehouse,
        "segment_tables": SegmentTables(warehouse=warehouse),
    }
