"""The benchmark's steps, each run in its own process: `python -m benchmarks.steps STEP CONFIG`.

A step does its work, times only the work (not the interpreter's start or imports), and
prints one result line for `measure.run_step`. The steps share a warehouse and run in the
order `run.py` gives them, as a daily operation would: history, a backfill, today's landing,
today's partition, then a definition change.
"""

from __future__ import annotations

import json
import shutil
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

#: The benchmark's own project: sources.yml and the 20 segments.
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

    @property
    def root(self) -> Path:
        """The scale's folder: landing zone, warehouse, member sets."""
        return Path(self.work_dir) / self.scale

    @property
    def landing(self) -> Path:
        """The generated landing zone."""
        return self.root / "landing"

    @property
    def warehouse(self) -> Path:
        """The DuckDB file every step shares."""
        return self.root / "warehouse.duckdb"

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
    """A read-only connection with the same limits the pipeline gets (for the baselines)."""
    return duckdb.connect(
        str(config.warehouse),
        read_only=True,
        config={"memory_limit": config.memory_limit, "threads": config.threads},
    )


def generate(config: StepConfig) -> dict[str, object]:
    """Generate the landing zone (kept between runs when its parameters are unchanged)."""
    from segment_pipeline.generate import generate_landing

    params = SCALES[config.scale].params(config.seed)
    marker = config.root / "landing.json"
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

    for path in (config.warehouse, config.warehouse.with_suffix(".duckdb.wal")):
        path.unlink(missing_ok=True)
    shutil.rmtree(config.warehouse.with_suffix(".duckdb.tmp"), ignore_errors=True)
    sources = load_project(PROJECT_DIR).sources
    with _warehouse(config) as warehouse:
        ensure_schema(warehouse, sources)
        kept = sum(
            ingest_landing_date(warehouse, sources, config.landing, day).rows_kept
            for day in config.days[:-1]
        )
    return {"days": len(config.days) - 1, "rows_kept": kept}


def backfill(config: StepConfig) -> dict[str, object]:
    """Backfill the partitions before the measured day through Dagster, as the UI does."""
    from benchmarks.scales import BACKFILL_DAYS
    from segment_pipeline.orchestrate.launch import run_partitions

    start, end = config.days[-1 - BACKFILL_DAYS], config.days[-2]
    run_partitions(_settings(config), start, end)
    return {"partitions": BACKFILL_DAYS, "start": str(start), "end": str(end)}


def ingest_day(config: StepConfig) -> dict[str, object]:
    """Ingest the measured day's landing."""
    from segment_pipeline.definitions.project import load_project
    from segment_pipeline.ingest.landing import ingest_landing_date

    sources = load_project(PROJECT_DIR).sources
    with _warehouse(config) as warehouse:
        summary = ingest_landing_date(warehouse, sources, config.landing, config.day)
    return {"rows_kept": summary.rows_kept, "rows_quarantined": summary.rows_quarantined}


def _materialize(config: StepConfig, project_dir: Path, names: list[str] | None) -> dict:
    """Snapshot, delta and history of segments for the measured day, as the asset does
    (history rebuilt for the entities with a delta on that day)."""
    from segment_pipeline.definitions.project import load_project
    from segment_pipeline.evaluate.daily import materialize_day
    from segment_pipeline.evaluate.history import rebuild_history

    project = load_project(project_dir)
    selected = list(project.segments) if names is None else names
    with _warehouse(config) as warehouse:
        results = materialize_day(warehouse, project, config.day, selected)
        for name in selected:
            rebuild_history(warehouse, name, since=config.day)
    return {
        "segments": len(selected),
        "members": sum(result.snapshot.members for result in results.values()),
        "added": sum(result.delta.added for result in results.values()),
        "removed": sum(result.delta.removed for result in results.values()),
    }


def daily_partition(config: StepConfig) -> dict[str, object]:
    """All 20 segments for the measured day: snapshot, delta and history."""
    return _materialize(config, PROJECT_DIR, None)


def daily_run_dagster(config: StepConfig) -> dict[str, object]:
    """The whole daily job for the measured day through Dagster: ingest, segments, checks."""
    from segment_pipeline.orchestrate.launch import run_partitions

    run_partitions(_settings(config), config.day, config.day)
    return {"partitions": 1}


def _save_members(config: StepConfig, name: str, frame: pd.DataFrame) -> dict[str, object]:
    frame[["segment", "entity_type", "entity_id"]].astype(str).to_parquet(
        config.members_file(name), index=False
    )
    return {"members": len(frame)}


def membership(config: StepConfig) -> dict[str, object]:
    """The pipeline's members and join times for the measured day, without writing them."""
    from segment_pipeline.definitions.project import load_project
    from segment_pipeline.evaluate.membership import evaluate_members

    project = load_project(PROJECT_DIR)
    with _warehouse(config) as warehouse:
        frame = evaluate_members(warehouse, project, config.day)
    return _save_members(config, "pipeline", frame)


def baseline_duckdb_sql(config: StepConfig) -> dict[str, object]:
    """Baseline (a): the plain SQL script, on the same warehouse and limits."""
    from benchmarks.baselines import duckdb_sql

    with _connection(config) as connection:
        frame = duckdb_sql.members(connection, config.day)
    return _save_members(config, "duckdb_sql", frame)


def baseline_pandas(config: StepConfig) -> dict[str, object]:
    """Baseline (b): the hand-written pandas version, loading the same tables."""
    from benchmarks.baselines import pandas_impl

    with _connection(config) as connection:
        frame = pandas_impl.members(connection, config.day)
    return _save_members(config, "pandas", frame)


def definition_change(config: StepConfig) -> dict[str, object]:
    """Edit one definition and recalculate the segments whose version changed.

    The edited project is a copy under the work folder, so the benchmark's own files never
    change; what is recalculated is what Dagster shows as stale: the edited segment and
    every segment that references it.
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
    return {"stale_segments": stale, **_materialize(config, changed_dir, stale)}


STEPS: dict[str, Callable[[StepConfig], dict[str, object]]] = {
    step.__name__: step
    for step in (
        generate,
        ingest_history,
        backfill,
        ingest_day,
        daily_partition,
        daily_run_dagster,
        membership,
        baseline_duckdb_sql,
        baseline_pandas,
        definition_change,
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
