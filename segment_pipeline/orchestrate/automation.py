"""The daily schedule and the automation sensor."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

from segment_pipeline.orchestrate.assets.destinations import WEBHOOKS

if TYPE_CHECKING:
    # What `build_schedule_from_partitioned_job` returns for an asset job; dagster does not
    # export the name, so it is imported for the annotation only.
    from dagster._core.definitions.partitions.partitioned_schedule import (
        UnresolvedPartitionedAssetScheduleDefinition,
    )

DAILY_JOB = "daily_segments"


def daily_job() -> dg.UnresolvedAssetJobDefinition:
    """Ingest, models, segments, journeys and CSV exports for a day (or a range, in one run).

    Webhooks are not in it: the automation sensor delivers them in a run of their own, so a
    receiver that is down fails the delivery, never the day's data (see assets/destinations).
    """
    return dg.define_asset_job(
        DAILY_JOB,
        selection=dg.AssetSelection.groups(
            "ingest", "models", "segments", "journeys", "destinations"
        )
        - WEBHOOKS,
        executor_def=dg.in_process_executor,
        description=(
            "Materialise the day's landing, models, segments, journey entrants and CSV exports."
        ),
    )


def daily_schedule(
    job: dg.UnresolvedAssetJobDefinition,
) -> UnresolvedPartitionedAssetScheduleDefinition | dg.ScheduleDefinition:
    """Every day at 01:00 UTC, yesterday's partition (the last complete day)."""
    return dg.build_schedule_from_partitioned_job(
        job,
        hour_of_day=1,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            "Yesterday's landing, segments, journey entrants and CSV exports, every day at "
            "01:00 UTC."
        ),
    )


def automation_sensor() -> dg.AutomationConditionSensorDefinition:
    """Evaluates the models', segments', journeys' and destinations' automation conditions;
    running from the start.

    Dagster's default automation sensor starts stopped on a fresh instance, so a changed
    definition would wait for someone to switch it on, and no webhook would be delivered.
    """
    return dg.AutomationConditionSensorDefinition(
        "segment_definition_changes",
        target=dg.AssetSelection.groups("models", "segments", "journeys", "destinations"),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description=(
            "Recalculates the latest partition of models and segments whose definition "
            "changed, enrols the latest day again for journeys whose trigger or definition "
            "changed, and hands the latest day's changes to the destinations (webhooks are "
            "delivered only here)."
        ),
    )
