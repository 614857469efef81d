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


class _Launcher:
    """The daily job and a Dagster instance, made once for every run a command launches:
    building the definitions (the whole project compiled) and opening an instance (Dagster
    stamps its storage with every migration) cost about a second each, which a range of
    days would otherwise pay every day.

    A run goes on past a failed step (other segments still run, as in the UI); a failure
    hook (public `HookContext.op_exception`) keeps the first failed step's exception, so
    that a failed run raises its own sentence.
    """

    def __init__(self, settings: Settings, instance: dg.DagsterInstance) -> None:
        self._failures: list[BaseException] = []
        failures = self._failures

        @dg.failure_hook(name="remember_failure")
        def remember_failure(context: dg.HookContext) -> None:
            if context.op_exception is not None:
                failures.append(context.op_exception)

        definitions = build_definitions(settings)
        self._job = definitions.resolve_job_def(DAILY_JOB).with_hooks({remember_failure})
        self._instance = instance

    def execute(self, **options: Any) -> str:
        """Run the daily job in this process and return its run id; a failed step raises."""
        self._failures.clear()
        run_config = {**QUIET, **options.pop("run_config", {})}
        result = self._job.execute_in_process(
            instance=self._instance, run_config=run_config, raise_on_error=False, **options
        )
        if result.success:
            return result.run_id
        if self._failures:
            raise RunFailed(_sentence(self._failures[0]))
        raise RunFailed(f"run {result.run_id} failed")


def run_partitions(settings: Settings, start: date, end: date) -> list[str]:
    """Materialise every partition from `start` to `end`, a run a day in date order; return
    the run ids. The first failed day stops the range (later days depend on it)."""
    _check_range(settings, start, end)
    days = (start + timedelta(days=offset) for offset in range((end - start).days + 1))
    with _instance() as instance:
        launcher = _Launcher(settings, instance)
        return [launcher.execute(partition_key=day.isoformat()) for day in days]


def refresh_static(settings: Settings, segment: str, day: date) -> str:
    """Refresh a static segment's membership at `day` (the UI's launchpad does the same)."""
    _check_range(settings, day, day)
    with _instance() as instance:
        return _Launcher(settings, instance).execute(
            partition_key=day.isoformat(),
            asset_selection=[segment_key(segment)],
            run_config={"ops": {"segment_snapshots": {"config": {"refresh_static": [segment]}}}},
        )
