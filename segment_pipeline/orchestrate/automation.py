"""The daily schedule and the automation sensor."""

from __future__ import annotations

import dagster as dg

DAILY_JOB = "daily_segments"


def daily_job(partitions: dg.PartitionsDefinition) -> dg.UnresolvedAssetJobDefinition:
    """Ingest, segments and destinations for a day (or a range, in one run)."""
    return dg.define_asset_job(
        DAILY_JOB,
        selection=dg.AssetSelection.groups("ingest", "segments", "destinations"),
        partitions_def=partitions,
        executor_def=dg.in_process_executor,
        description="Materialise the day's landing, segments and deliveries.",
    )


def daily_schedule(job: dg.UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    """Every day at 01:00 UTC, yesterday's partition (the last complete day)."""
    return dg.build_schedule_from_partitioned_job(
        job,
        hour_of_day=1,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Yesterday's landing, segments and deliveries, every day at 01:00 UTC.",
    )


def automation_sensor() -> dg.AutomationConditionSensorDefinition:
    """Evaluates the segments' automation conditions; running from the first start.

    Dagster's default automation sensor starts stopped on a fresh instance, so a changed
    definition would wait for someone to switch it on.
    """
    return dg.AutomationConditionSensorDefinition(
        "segment_definition_changes",
        target=dg.AssetSelection.groups("segments"),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="Recalculates the latest partition of segments whose definition changed.",
    )
