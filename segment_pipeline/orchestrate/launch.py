"""Launch the daily job from Python exactly as the schedule and a UI backfill do.

A range of partitions is one run tagged with the range (what a single-run backfill
launches), so its assets walk the days in date order; the run goes through a Dagster
instance (`DAGSTER_HOME` when set, so runs show in the UI) and the same resources.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any

import dagster as dg

from segment_pipeline.errors import ConfigError, SegmentPipelineError
from segment_pipeline.orchestrate.assets.segments import segment_key
from segment_pipeline.orchestrate.automation import DAILY_JOB
from segment_pipeline.orchestrate.definitions import build_definitions
from segment_pipeline.settings import Settings

#: Keep Dagster's per-event console logs out of a terminal user's way; runs still record them.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


class RunFailed(SegmentPipelineError):
    """A Dagster run failed; the message is the failing step's own sentence."""


def _instance() -> dg.DagsterInstance:
    return (
        dg.DagsterInstance.get()
        if os.environ.get("DAGSTER_HOME")
        else dg.DagsterInstance.ephemeral()
    )


def _check_range(settings: Settings, start: date, end: date) -> None:
    if start > end:
        raise ConfigError(f"--start {start} is after --end {end}")
    if start < settings.start_date:
        raise ConfigError(
            f"--start {start} is before the first partition {settings.start_date} "
            "(set SEGMENT_PIPELINE_START_DATE to an earlier date)"
        )


def _execute(settings: Settings, **options: Any) -> str:
    """Run the daily job in this process; a failed step raises its own sentence."""
    job = build_definitions(settings).resolve_job_def(DAILY_JOB)
    run_config = {**QUIET, **options.pop("run_config", {})}
    with _instance() as instance:
        result = job.execute_in_process(
            instance=instance, run_config=run_config, raise_on_error=False, **options
        )
    if result.success:
        return result.run_id
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data:
            failure = event.step_failure_data
            if failure.user_failure_data and failure.user_failure_data.description:
                raise RunFailed(failure.user_failure_data.description)
            raise RunFailed(failure.error.message.strip() if failure.error else "a step failed")
    raise RunFailed(f"run {result.run_id} failed")


def run_partitions(settings: Settings, start: date, end: date) -> str:
    """Materialise every partition from `start` to `end` in one run; return its id."""
    _check_range(settings, start, end)
    return _execute(settings, tags={RANGE_START: start.isoformat(), RANGE_END: end.isoformat()})


def refresh_static(settings: Settings, segment: str, day: date) -> str:
    """Refresh a static segment's membership at `day` (the UI's launchpad does the same)."""
    _check_range(settings, day, day)
    return _execute(
        settings,
        partition_key=day.isoformat(),
        asset_selection=[segment_key(segment)],
        run_config={"ops": {"segment_snapshots": {"config": {"refresh_static": [segment]}}}},
    )
