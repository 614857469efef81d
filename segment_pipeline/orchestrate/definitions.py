"""Assemble the Dagster definitions from settings and the user's project."""

from __future__ import annotations

import dagster as dg

from segment_pipeline.definitions.project import load_usable_project
from segment_pipeline.errors import ProjectInvalid
from segment_pipeline.orchestrate.assets.destinations import build_destination_assets
from segment_pipeline.orchestrate.assets.ingest import build_ingest_assets
from segment_pipeline.orchestrate.assets.journeys import build_journey_assets
from segment_pipeline.orchestrate.assets.models import build_model_assets
from segment_pipeline.orchestrate.assets.problems import build_problem_assets, build_project_problem
from segment_pipeline.orchestrate.assets.segments import build_segment_assets
from segment_pipeline.orchestrate.automation import automation_sensor, daily_job, daily_schedule
from segment_pipeline.orchestrate.partitions import daily_partitions
from segment_pipeline.orchestrate.resources import build_resources
from segment_pipeline.settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    """Everything `dagster dev`, the schedule and the CLI run.

    A definition with a mistake is an asset that fails with it (`assets/problems.py`),
    so the code location loads and the rest of the project runs.
    """
    partitions = daily_partitions(settings.start_date)
    job = daily_job()
    ingest = build_ingest_assets(partitions, settings.quarantine_warn_share)
    try:
        project, broken = load_usable_project(settings.project_dir)
    except ProjectInvalid as invalid:
        # sources.yml is broken: ingestion fails with its sentence, nothing else can load.
        assets = [ingest, build_project_problem(invalid.errors, partitions)]
    else:
        assets = [
            ingest,
            *build_model_assets(project, partitions),
            *([build_segment_assets(project, partitions)] if project.segments else []),
            *build_journey_assets(project, partitions),
            *build_destination_assets(project, partitions),
            *build_problem_assets(broken, partitions),
        ]
    return dg.Definitions(
        assets=assets,
        jobs=[job],
        schedules=[daily_schedule(job)],
        sensors=[automation_sensor()],
        resources=build_resources(settings),
        executor=dg.in_process_executor,
    )
