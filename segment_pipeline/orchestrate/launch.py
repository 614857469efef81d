"""Launch the daily job from Python exactly as the schedule does, one day after another.

A range of partitions is one run per day in date order (each snapshot depends on the
previous one), each launched as the schedule launches its day: through Dagster's public
`execute_in_process(partition_key=...)`, on a Dagster instance (`DAGSTER_HOME` when set, so
runs show in the UI) and with the same resources. Dagster has no public API that launches a
single-run backfill of a range in-process; the tables a range ends with are the same either
way (tests/e2e/test_dagster_dev_backfill.py holds a UI backfill against `run`).
"""

from __future__ import annotations

import os
import traceback
from datetime import date, timedelta
from typing import Any

import dagster as dg

from segment_pipeline.errors import ConfigError, RunFailed
from segment_pipeline.orchestrate.assets.segments import segment_key
from segment_pipeline.orchestrate.automation import DAILY_JOB
from segment_pipeline.orchestrate.definitions import build_definitions
from segment_pipeline.settings import Settings

#: Keep Dagster's per-event console logs out of a terminal user's way; runs still record them.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


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


def _sentence(error: BaseException) -> str:
    """What a failed step says: a `dg.Failure`'s description (the user's mistake), else the
    exception as Python shows it in one line."""
    if isinstance(error, dg.Failure) and error.description:
        return error.description
    return "".join(traceback.format_exception_only(error)).strip()


def _execute(settings: Settings, **options: Any) -> str:
    """Run the daily job in this process; a failed step raises its own sentence.

    The run goes on past a failed step (other segments still run, as in the UI); a failure
    hook (public `HookContext.op_exception`) keeps the first failed step's exception.
    """
    failures: list[BaseException] = []

    @dg.failure_hook(name="remember_failure")
    def remember_failure(context: dg.HookContext) -> None:
        if context.op_exception is not None:
            failures.append(context.op_exception)

    job = build_definitions(settings).resolve_job_def(DAILY_JOB).with_hooks({remember_failure})
    run_config = {**QUIET, **options.pop("run_config", {})}
    with _instance() as instance:
        result = job.execute_in_process(
            instance=instance, run_config=run_config, raise_on_error=False, **options
        )
    if result.success:
        return result.run_id
    if failures:
        raise RunFailed(_sentence(failures[0]))
    raise RunFailed(f"run {result.run_id} failed")


def run_partitions(settings: Settings, start: date, end: date) -> list[str]:
    """Materialise every partition from `start` to `end`, a run a day in date order; return
    the run ids. The first failed day stops the range (later days depend on it)."""
    _check_range(settings, start, end)
    days = (start + timedelta(days=offset) for offset in range((end - start).days + 1))
    return [_execute(settings, partition_key=day.isoformat()) for day in days]


def refresh_static(settings: Settings, segment: str, day: date) -> str:
    """Refresh a static segment's membership at `day` (the UI's launchpad does the same)."""
    _check_range(settings, day, day)
    return _execute(
        settings,
        partition_key=day.isoformat(),
        asset_selection=[segment_key(segment)],
        run_config={"ops": {"segment_snapshots": {"config": {"refresh_static": [segment]}}}},
    )
