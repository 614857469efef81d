"""Assemble the Dagster definitions from settings and the user's project."""

from __future__ import annotations

import dagster as dg

from segment_pipeline.definitions.project import load_project
from segment_pipeline.orchestrate.assets.destinations import build_destination_assets
from segment_pipeline.orchestrate.assets.ingest import build_ingest_assets
from segment_pipeline.orchestrate.assets.journeys import build_journey_assets
from segment_pipeline.orchestrate.assets.models import build_model_assets
from segment_pipeline.orchestrate.assets.segments import build_segment_assets
from segment_pipeline.orchestrate.automation import automation_sensor, daily_job, daily_schedule
from segment_pipeline.orchestrate.partitions import daily_partitions
from segment_pipeline.orchestrate.resources import build_resources
from segment_pipeline.settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    """Everything `dagster dev`, the schedule and the CLI run."""
    project = load_project(settings.project_dir)
    partitions = daily_partitions(settings.start_date)
    job = daily_job()
    return dg.Definitions(
        assets=[
            build_ingest_assets(partitions, settings.quarantine_warn_share),
            *build_model_assets(project, partitions),
            build_segment_assets(project, partitions),
            *build_journey_assets(project, partitions),
            *build_destination_assets(project, partitions),
        ],
        jobs=[job],
        schedules=[daily_schedule(job)],
        sensors=[automation_sensor()],
        resources=build_resources(settings),
        executor=dg.in_process_executor,
    )
