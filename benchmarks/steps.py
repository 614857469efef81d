"""The benchmark's steps, each run in its own process: `python -m benchmarks.steps STEP CONFIG`.

A step does its work, times it, and prints one result line for `measure.run_step`. The
pipeline's steps are whole `segment-pipeline run` processes, as a user runs them: their
time includes the interpreter's start, imports and Dagster's run setup, and their CPU is
the child process's. The baselines time only their queries (the floor). The steps share a
warehouse and run in the order `run.py` gives them, as a daily operation would: history, a
backfill, today's run, the baselines on today's data, then a definition change and the
baseline of its join times. Baseline (d) reads only the landing zone.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from benchmarks.measure import RESULT_MARKER
from benchmarks.scales import SCALES

#: The benchmark's own project: sources.yml and its segments.
PROJECT_DIR = Path(__file__).resolve().parent
#: The definition change: a frequency change (SPEC 5, rule 3) on a segment another uses.
CHANGED_SEGMENT = "enterprise_pricing"
CHANGE = ("count: {at_least: 2}", "count: {at_least: 3}")


@dataclass(frozen=True)
class StepConfig:
    """Everything a step needs, written as JSON by `run.py`."""

    scale: str
    seed: int
    work_dir: str
    memory_limit: str
    threads: int
    backfill_days: int
    #: The engine the pipeline's steps run on (SPEC 12); the baselines always run on DuckDB.
    engine: str = "duckdb"

    @property
    def scale_dir(self) -> Path:
        """The scale's folder: its landing zone, shared by both engines' runs."""
        return Path(self.work_dir) / self.scale

    @property
    def root(self) -> Path:
        """The run's folder: warehouse, member sets, results (DuckDB's is the scale's own,
        Spark's a `spark/` folder in it)."""
        return self.scale_dir if self.engine == "duckdb" else self.scale_dir / self.engine

    @property
    def landing(self) -> Path:
        """The generated landing zone."""
        return self.scale_dir / "landing"

    @property
    def warehouse(self) -> Path:
        """The warehouse every step shares: the DuckDB file, or Spark's directory."""
        return self.root / ("warehouse.duckdb" if self.engine == "duckdb" else "warehouse")

    @property
    def days(self) -> list[date]:
        """Every landing date of the data set."""
        params = SCALES[self.scale].params(self.seed)
        return [params.start + timedelta(days=offset) for offset in range(params.days)]

    @property
    def day(self) -> date:
        """The measured day: the last landing date."""
        return self.days[-1]

    def members_file(self, name: str) -> Path:
        """Where a step leaves the member sets it computed, for the agreement check."""
        return self.root / f"members_{name}.parquet"

    def join_times_file(self, name: str) -> Path:
        """Where a step leaves the join times of the changed segments' members, for the
        check of baseline (c)."""
        return self.root / f"join_times_{name}.parquet"

    def save(self, path: Path) -> None:
        """Write the config for a step to read."""
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> StepConfig:
        """Read the config `run.py` wrote."""
        return cls(**json.loads(path.read_text()))


def _settings(config: StepConfig, project_dir: Path = PROJECT_DIR):
    from segment_pipeline.settings import Settings

    return Settings(
        project_dir=project_dir,
        landing_dir=config.landing,
        warehouse=config.warehouse,
        engine=config.engine,
        start_date=config.days[0],
        duckdb_memory_limit=config.memory_limit,
        duckdb_threads=config.threads,
    )


@contextmanager
def _warehouse(config: StepConfig) -> Iterator:
    from segment_pipeline.warehouse import Warehouse

    with Warehouse.open(_settings(config).warehouse_settings) as warehouse:
        yield warehouse


def _connection(config: StepConfig) -> duckdb.DuckDBPyConnection:
    """A read-only DuckDB connection over the warehouse's tables, with the same limits the
    pipeline gets (for the baselines and the checks)."""
    from benchmarks.baselines.tables import connect

    return connect(config)


def generate(config: StepConfig) -> dict[str, object]:
    """Generate the landing zone (kept between runs when its parameters are unchanged)."""
    from segment_pipeline.generate import generate_landing

    params = SCALES[config.scale].params(config.seed)
    marker = config.scale_dir / "landing.json"
    if marker.is_file() and marker.read_text() == params.model_dump_json():
        return {"reused": True}
    marker.unlink(missing_ok=True)
    summary = generate_landing(config.landing, params)
    marker.write_text(params.model_dump_json())
    return {"reused": False, "events_rows": summary.events_rows}


def ingest_history(config: StepConfig) -> dict[str, object]:
    """A fresh warehouse holding every landing date before the measured day (setup)."""
    from segment_pipeline.definitions.project import load_project
    from segment_pipeline.ingest.landing import ingest_landing_date
    from segment_pipeline.warehouse.schema import ensure_schema

    if config.engine == "duckdb":
        for path in (config.warehouse, config.warehouse.with_suffix(".duckdb.wal")):
            path.unlink(missing_ok=True)
        shutil.rmtree(config.warehouse.with_suffix(".duckdb.tmp"), ignore_errors=True)
    else:
        shutil.rmtree(config.warehouse, ignore_errors=True)
    sources = load_project(PROJECT_DIR).sources
    with _warehouse(config) as warehouse:
        ensure_schema(warehouse, sources)
        kept = sum(
            ingest_landing_date(warehouse, sources, config.landing, day).rows_kept
            for day in config.days[:-1]
        )
    return {"days": len(config.days) - 1, "rows_kept": kept}


def _cli_run(config: StepConfig, start: date, end: date, project_dir: Path) -> dict[str, object]:
    """`segment-pipeline run --start --end` in its own process, as a user types it.

    Returns its wall seconds (interpreter start and imports included) and the CPU seconds
    of the process and its children, which override the step's own timing.
    """
    command = [
        str(Path(sys.executable).with_name("segment-pipeline")),
        "--project-dir",
        str(project_dir),
        "--landing-dir",
        str(config.landing),
        "--warehouse",
        str(config.warehouse),
        "run",
        "--start",
        start.isoformat(),
        "--end",
        end.isoformat(),
    ]
    env = {
        **os.environ,
        "SEGMENT_PIPELINE_START_DATE": config.days[0].isoformat(),
        "SEGMENT_PIPELINE_ENGINE": config.engine,
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{completed.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"seconds": seconds, "cpu_seconds": cpu, "start": str(start), "end": str(end)}


def backfill(config: StepConfig) -> dict[str, object]:
    """Backfill the partitions before the measured day in one `segment-pipeline run`."""
    start, end = config.days[-1 - config.backfill_days], config.days[-2]
    return {"partitions": config.backfill_days, **_cli_run(config, start, end, PROJECT_DIR)}


def _snapshot(config: StepConfig) -> pd.DataFrame:
    """The members and join times the run wrote for the measured day."""
    with _connection(config) as connection:
        return connection.execute(
            "select segment, entity_type, entity_id, joined_at from segment_snapshots "
            "where snapshot_date = $day",
            {"day": config.day},
        ).df()


def _save_snapshot(config: StepConfig, name: str) -> dict[str, object]:
    """Leave the members the run wrote for the measured day, for the check."""
    return _save_members(config, name, _snapshot(config))


def _save_join_times(config: StepConfig, name: str, frame: pd.DataFrame) -> None:
    """Leave members with their join times (microseconds, UTC wall time), for the check."""
    frame = frame[["segment", "entity_type", "entity_id", "joined_at"]].copy()
    frame[["segment", "entity_type", "entity_id"]] = frame[
        ["segment", "entity_type", "entity_id"]
    ].astype(str)
    frame["joined_at"] = pd.to_datetime(frame["joined_at"]).astype("datetime64[us]")
    frame.to_parquet(config.join_times_file(name), index=False)


def daily_run(config: StepConfig) -> dict[str, object]:
    """The measured day in one `segment-pipeline run`: ingest, all segments, checks."""
    figures = _cli_run(config, config.day, config.day, PROJECT_DIR)
    return {**figures, **_save_snapshot(config, "pipeline")}


def _save_members(config: StepConfig, name: str, frame: pd.DataFrame) -> dict[str, object]:
    frame[["segment", "entity_type", "entity_id"]].astype(str).to_parquet(
        config.members_file(name), index=False
    )
    return {"members": len(frame)}


def _baseline(
    config: StepConfig,
    name: str,
    members: Callable[[duckdb.DuckDBPyConnection, date], pd.DataFrame],
) -> dict[str, object]:
    """A baseline's members at the measured day, timed; a static segment's at its first
    snapshot instead (the backfill's first day), since it stays frozen there (SPEC 4.3).

    Only the measured day's query is timed: the static segments' one is the check's.
    """
    from segment_pipeline.definitions.project import load_project

    static = [
        name
        for name, segment in load_project(PROJECT_DIR).segments.items()
        if segment.mode == "static"
    ]
    with _connection(config) as connection:
        started, cpu_started = time.perf_counter(), time.process_time()
        frame = members(connection, config.day)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        if static:
            frozen = members(connection, config.days[-1 - config.backfill_days])
            frame = pd.concat(
                [frame[~frame["segment"].isin(static)], frozen[frozen["segment"].isin(static)]]
            )
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, **_save_members(config, name, frame)}


def baseline_duckdb_sql(config: StepConfig) -> dict[str, object]:
    """Baseline (a): the plain SQL script, on the same warehouse and limits."""
    from benchmarks.baselines import duckdb_sql

    return _baseline(config, "duckdb_sql", duckdb_sql.members)


def baseline_pandas(config: StepConfig) -> dict[str, object]:
    """Baseline (b): the hand-written pandas version, loading the same tables."""
    from benchmarks.baselines import pandas_impl

    return _baseline(config, "pandas", pandas_impl.members)


def baseline_load(config: StepConfig) -> dict[str, object]:
    """Baseline (d): a plain load of the files the first load ingests (every landing date
    before the measured day) into a fresh DuckDB file, with the same limits; the load and
    the file's final checkpoint are timed."""
    from benchmarks.baselines import plain_load
    from segment_pipeline.definitions.project import load_project

    sources = load_project(PROJECT_DIR).sources
    target = config.root / "baseline_load.duckdb"
    target.unlink(missing_ok=True)
    limits = {"memory_limit": config.memory_limit, "threads": config.threads}
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        connection = duckdb.connect(str(target), config=limits)
        rows = plain_load.load(connection, sources, config.landing, config.days[:-1])
        connection.close()
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        target.unlink(missing_ok=True)
        target.with_suffix(".duckdb.wal").unlink(missing_ok=True)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "days": len(config.days) - 1,
        "rows": rows,
    }


def definition_change(config: StepConfig) -> dict[str, object]:
    """Edit one definition and run the measured day again with `segment-pipeline run`.

    The edited project is a copy under the work folder, so the benchmark's own files never
    change. The run recalculates what the edit made stale (the edited segment and every
    segment that references it); the others are evaluated as on any re-run of the day.
    """
    from segment_pipeline.definitions.project import load_project

    changed_dir = config.root / "changed_project"
    shutil.rmtree(changed_dir, ignore_errors=True)
    shutil.copytree(PROJECT_DIR / "segments", changed_dir / "segments")
    shutil.copy(PROJECT_DIR / "sources.yml", changed_dir / "sources.yml")
    segment_file = changed_dir / "segments" / f"{CHANGED_SEGMENT}.yml"
    text = segment_file.read_text()
    if CHANGE[0] not in text:
        raise SystemExit(f"{segment_file} no longer contains {CHANGE[0]!r}")
    segment_file.write_text(text.replace(*CHANGE))
    before = load_project(PROJECT_DIR).segments
    after = load_project(changed_dir).segments
    stale = [name for name, segment in after.items() if segment.version != before[name].version]
    figures = _cli_run(config, config.day, config.day, changed_dir)
    snapshot = _snapshot(config)
    _save_join_times(config, "recalculation", snapshot[snapshot["segment"].isin(stale)])
    return {"stale_segments": stale, **figures}


def baseline_join_times(config: StepConfig) -> dict[str, object]:
    """Baseline (c): the join times of the changed segments' members (the SQL script), on
    the same warehouse and limits, timed; left for the check against the recalculation."""
    from benchmarks.baselines import join_times

    with _connection(config) as connection:
        started, cpu_started = time.perf_counter(), time.process_time()
        frame = join_times.join_times(connection, config.day)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    _save_join_times(config, "baseline_c", frame)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "segments": list(join_times.SEGMENTS),
        "members": len(frame),
    }


STEPS: dict[str, Callable[[StepConfig], dict[str, object]]] = {
    step.__name__: step
    for step in (
        generate,
        ingest_history,
        baseline_load,
        backfill,
        daily_run,
        baseline_duckdb_sql,
        baseline_pandas,
        definition_change,
        baseline_join_times,
    )
}


def main(argv: list[str]) -> None:
    """Run one step and print its result line."""
    step, config_path = argv
    config = StepConfig.load(Path(config_path))
    started, cpu_started = time.perf_counter(), time.process_time()
    details = STEPS[step](config)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    result = {"seconds": seconds, "cpu_seconds": cpu_seconds, **details}
    print(RESULT_MARKER + json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
