"""The one place the semantics tests call the real pipeline.

The model never imports the pipeline; the tests reach it only through `run_pipeline`, so a
renamed entry point is fixed here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import pandas as pd

from .model import MemberRow


@dataclass(frozen=True)
class Ingest:
    """Ingest one landing date."""

    day: date


@dataclass(frozen=True)
class Evaluate:
    """Compute the project's models for `day`, then evaluate the snapshot for `day` with the
    project (definitions) in `project_dir`."""

    day: date
    project_dir: Path


def _joined_at(value: object) -> datetime:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_pydatetime()


def run_pipeline(
    warehouse_path: Path,
    landing_dir: Path,
    steps: list[Ingest | Evaluate],
    engine: Literal["duckdb", "spark"] = "duckdb",
) -> list[set[MemberRow]]:
    """Run the steps on a fresh warehouse of `engine`; one member set per `Evaluate`, in
    order.

    The sources (and schema) are those of the first `Evaluate` step's project.
    """
    from segment_pipeline.definitions.project import load_project
    from segment_pipeline.evaluate.models import materialize_models
    from segment_pipeline.evaluate.preview import evaluate_members
    from segment_pipeline.ingest.landing import ingest_landing_date
    from segment_pipeline.warehouse import Warehouse, WarehouseSettings
    from segment_pipeline.warehouse.schema import ensure_schema

    project_dirs = [step.project_dir for step in steps if isinstance(step, Evaluate)]
    projects = {path: load_project(path) for path in dict.fromkeys(project_dirs)}
    sources = projects[project_dirs[0]].sources
    results: list[set[MemberRow]] = []
    with Warehouse.open(WarehouseSettings(path=warehouse_path, engine=engine)) as warehouse:
        ensure_schema(warehouse, sources)
        for step in steps:
            if isinstance(step, Ingest):
                ingest_landing_date(warehouse, sources, landing_dir, step.day)
                continue
            project = projects[step.project_dir]
            # The score model's partition first, as the segment asset's upstream asset does.
            materialize_models(warehouse, project, list(project.models), [step.day])
            frame = evaluate_members(warehouse, project, step.day)
            results.append(
                {
                    (str(r.segment), str(r.entity_type), str(r.entity_id), _joined_at(r.joined_at))
                    for r in frame.itertuples(index=False)
                }
            )
    return results


def run_explain(
    warehouse_path: Path,
    landing_dir: Path,
    days: list[date],
    project_dir: Path,
    entity_ids: dict[str, list[str]],
) -> dict[tuple[str, str], pd.DataFrame]:
    """Ingest every day and compute the models for every day on a fresh DuckDB file, then
    explain every entity (ids by entity type) in every segment at the last day: by
    (segment, entity_id)."""
    from segment_pipeline.definitions.project import load_project
    from segment_pipeline.evaluate.models import materialize_models
    from segment_pipeline.explain import explain
    from segment_pipeline.ingest.landing import ingest_landing_date
    from segment_pipeline.warehouse import Warehouse, WarehouseSettings
    from segment_pipeline.warehouse.schema import ensure_schema

    project = load_project(project_dir)
    explained: dict[tuple[str, str], pd.DataFrame] = {}
    with Warehouse.open(WarehouseSettings(path=warehouse_path)) as warehouse:
        ensure_schema(warehouse, project.sources)
        for day in days:
            ingest_landing_date(warehouse, project.sources, landing_dir, day)
        materialize_models(warehouse, project, list(project.models), days)
        for name, segment in project.segments.items():
            for entity_id in entity_ids.get(segment.entity, []):
                explained[name, entity_id] = explain(warehouse, project, name, entity_id, days[-1])
    return explained
