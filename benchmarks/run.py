"""The benchmark: `python -m benchmarks.run --scale small [--engine spark]` (tiny, small,
reference, medium, large).

Generates the scale's landing zone (kept and reused while its parameters do not change),
then runs each measured step in its own process against one warehouse, checks that the
baselines' member sets equal the members the pipeline's run wrote, and that baseline (c)'s
join times equal the ones the recalculation after the definition change wrote, and prints a
table, each target of issue 24 with its measured ratio, and a JSON document (also written to
`<work-dir>/<scale>/results.json`, or `--json PATH`). It exits 1 when a baseline disagrees
with the pipeline (never on timing); `--check-only` repeats that check on what the last run
left in the work folder.

`--engine spark` runs the pipeline's steps (ingestion, backfill, daily run, definition
change, the model) on Spark (a local session, or `SEGMENT_PIPELINE_SPARK_REMOTE`) over a
warehouse directory under `<work-dir>/<scale>/spark/`, reusing the scale's landing zone. The
baselines stay DuckDB's, reading the Parquet tables Spark wrote: the floor a run is compared
with is the same whichever engine the pipeline runs on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from benchmarks.measure import Measurement, StepFailed, python_command, run_step
from benchmarks.scales import BACKFILL_DAYS, SCALES
from benchmarks.steps import StepConfig

#: The measured steps in the order they run, with the label the table shows.
STEPS = {
    "generate": "generate the landing zone (setup)",
    "ingest_history": "first load: ingest every day before the measured one (setup)",
    "baseline_load": "baseline (d): plain DuckDB load of the same files",
    "backfill": "backfill: `segment-pipeline run` over the days before",
    "daily_run": "daily partition: `segment-pipeline run` of one day",
    "baseline_duckdb_sql": "baseline (a): plain DuckDB SQL, members only",
    "baseline_pandas": "baseline (b): hand-written pandas, members only",
    "definition_change": "the same day after one definition change (run)",
    "baseline_join_times": "baseline (c): join times of the changed segments, SQL",
    "model_cost": "fit-score model for the day, in the pipeline (issue 21)",
}
#: Steps that are modules of their own (the others are functions of `benchmarks.steps`).
STEP_MODULES = {"model_cost": "benchmarks.model_cost"}
#: Member sets compared: each baseline's against the pipeline's.
BASELINES = ("duckdb_sql", "pandas")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=Path(os.environ.get("SEGMENT_PIPELINE_BENCH_DIR", "/tmp/segment-pipeline-bench")),
        help="where data and the warehouse go (default /tmp/segment-pipeline-bench, "
        "or SEGMENT_PIPELINE_BENCH_DIR)",
    )
    parser.add_argument(
        "--memory-limit",
        default=os.environ.get("SEGMENT_PIPELINE_DUCKDB_MEMORY_LIMIT", "4GB"),
        help="DuckDB memory_limit (or Spark's driver memory) for the pipeline and baseline "
        "(a) (default 4GB, or SEGMENT_PIPELINE_DUCKDB_MEMORY_LIMIT)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("SEGMENT_PIPELINE_DUCKDB_THREADS", os.cpu_count() or 1)),
        help="DuckDB threads, or Spark's local cores (default: every core, or "
        "SEGMENT_PIPELINE_DUCKDB_THREADS)",
    )
    parser.add_argument(
        "--engine",
        choices=["duckdb", "spark"],
        default="duckdb",
        help="the engine the pipeline's steps run on (the baselines run on DuckDB)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--backfill-days",
        type=int,
        default=BACKFILL_DAYS,
        help=f"partitions the backfill step covers (default {BACKFILL_DAYS})",
    )
    parser.add_argument("--json", type=Path, help="also write the JSON document here")
    parser.add_argument(
        "--check-only",
        action="store_true",
        help="only compare the member sets the last run left in the work folder",
    )
    return parser.parse_args(argv)


def _step_env(config: StepConfig) -> dict[str, str]:
    """The steps' environment: the same DuckDB limits, and Dagster's ephemeral instance so
    benchmark runs never land in a user's DAGSTER_HOME."""
    env = {key: value for key, value in os.environ.items() if key != "DAGSTER_HOME"}
    env["SEGMENT_PIPELINE_DUCKDB_MEMORY_LIMIT"] = config.memory_limit
    env["SEGMENT_PIPELINE_DUCKDB_THREADS"] = str(config.threads)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


def _member_sets(path: Path) -> dict[str, set[tuple[str, str]]]:
    frame = pd.read_parquet(path)
    return {
        segment: set(zip(rows["entity_type"], rows["entity_id"], strict=True))
        for segment, rows in frame.groupby("segment")
    }


def _join_times(path: Path) -> dict[tuple[str, str, str], pd.Timestamp]:
    frame = pd.read_parquet(path)
    keys = zip(frame["segment"], frame["entity_type"], frame["entity_id"], strict=True)
    return dict(zip(keys, frame["joined_at"], strict=True))


def join_time_agreement(config: StepConfig) -> dict[str, object]:
    """Whether baseline (c) finds the members of the segments the definition change made
    stale, each with the join time the recalculation wrote, segment by segment."""
    from benchmarks.baselines.join_times import SEGMENTS

    ours = _join_times(config.join_times_file("recalculation"))
    theirs = _join_times(config.join_times_file("baseline_c"))
    stale = sorted({segment for segment, _, _ in ours})
    mismatches: list[dict[str, object]] = []
    for segment in sorted(set(SEGMENTS) | set(stale)):
        mine = {key: value for key, value in ours.items() if key[0] == segment}
        other = {key: value for key, value in theirs.items() if key[0] == segment}
        shared = mine.keys() & other.keys()
        differing = sorted(key for key in shared if mine[key] != other[key])
        if mine.keys() != other.keys() or differing or segment not in SEGMENTS:
            mismatches.append(
                {
                    "baseline": "join_times",
                    "segment": segment,
                    "only_pipeline": len(mine.keys() - other.keys()),
                    "only_baseline": len(other.keys() - mine.keys()),
                    "different_join_time": len(differing),
                    "example": (
                        f"{differing[0][2]}: pipeline {mine[differing[0]]}, "
                        f"baseline {other[differing[0]]}"
                        if differing
                        else None
                    ),
                }
            )
    return {
        "join_time_segments": list(SEGMENTS),
        "join_time_members": len(ours),
        "join_times_equal_baseline_c": not mismatches,
        "join_time_mismatches": mismatches,
    }


def agreement(config: StepConfig, segments: list[str]) -> dict[str, object]:
    """Whether each baseline's member sets equal the pipeline's, segment by segment, and
    baseline (c)'s join times the recalculation's (when the run left both)."""
    pipeline = _member_sets(config.members_file("pipeline"))
    result: dict[str, object] = {"segments": len(segments)}
    mismatches: list[dict[str, object]] = []
    for baseline in BASELINES:
        theirs = _member_sets(config.members_file(baseline))
        for segment in segments:
            ours, other = pipeline.get(segment, set()), theirs.get(segment, set())
            if ours != other:
                mismatches.append(
                    {
                        "baseline": baseline,
                        "segment": segment,
                        "only_pipeline": len(ours - other),
                        "only_baseline": len(other - ours),
                    }
                )
        result[f"pipeline_equals_{baseline}"] = not any(
            mismatch["baseline"] == baseline for mismatch in mismatches
        )
    result["members"] = {segment: len(pipeline.get(segment, set())) for segment in segments}
    result["mismatches"] = mismatches
    if all(config.join_times_file(name).is_file() for name in ("recalculation", "baseline_c")):
        result.update(join_time_agreement(config))
    return result


def ratios(figures: dict[str, dict[str, object]]) -> dict[str, float]:
    """Ratios of steps of the same run (wall seconds): issue 24's targets, the daily
    partition's CPU ratio (it varies less on a shared machine) and the model's."""

    def seconds(step: str, figure: str = "seconds") -> float:
        return float(figures[step][figure])  # type: ignore[arg-type]

    def ratio(numerator: float, denominator: float) -> float:
        return round(numerator / denominator, 2) if denominator else float("inf")

    partitions = seconds("backfill", "partitions")
    return {
        "daily_run_over_baseline_a": ratio(seconds("daily_run"), seconds("baseline_duckdb_sql")),
        "daily_run_over_baseline_a_cpu": ratio(
            seconds("daily_run", "cpu_seconds"), seconds("baseline_duckdb_sql", "cpu_seconds")
        ),
        "recalculation_over_baseline_a_plus_c": ratio(
            seconds("definition_change"),
            seconds("baseline_duckdb_sql") + seconds("baseline_join_times"),
        ),
        "first_load_over_baseline_d": ratio(seconds("ingest_history"), seconds("baseline_load")),
        "backfill_over_daily_run": ratio(seconds("backfill"), seconds("daily_run")),
        "backfill_over_days_times_daily_run": ratio(
            seconds("backfill"), partitions * seconds("daily_run")
        ),
        "baseline_b_over_daily_run": ratio(seconds("baseline_pandas"), seconds("daily_run")),
        "model_over_select_alone": figures["model_cost"]["over_select_alone"],  # type: ignore[dict-item]
        "model_over_tables_and_select": figures["model_cost"]["over_tables_and_select"],  # type: ignore[dict-item]
    }


def targets(
    figures: dict[str, dict[str, object]], measured: dict[str, float]
) -> list[dict[str, object]]:
    """Issue 24's targets that one run measures, each with its measured ratio and limit.

    The backfill's limit is 30x one daily partition for 30 days: for the run's number of
    days, that many daily partitions (one per day).
    """
    partitions = int(figures["backfill"]["partitions"])  # type: ignore[call-overload]
    rows = [
        ("daily partition / (a)", "daily_run_over_baseline_a", 1.5),
        (
            "recalculation after one definition change / ((a) + (c))",
            "recalculation_over_baseline_a_plus_c",
            1.5,
        ),
        ("first load / (d)", "first_load_over_baseline_d", 3.0),
        (
            f"{partitions}-day backfill / one daily partition",
            "backfill_over_daily_run",
            float(partitions),
        ),
    ]
    return [
        {
            "target": label,
            "ratio": name,
            "measured": measured[name],
            "limit": limit,
            "met": measured[name] <= limit,
        }
        for label, name, limit in rows
    ]


def _machine(config: StepConfig) -> dict[str, object]:
    memory_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    machine: dict[str, object] = {
        "engine": config.engine,
        "cpus": os.cpu_count(),
        "memory_gb": round(memory_kib / 2**20, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pd.__version__,
        "duckdb_memory_limit": config.memory_limit,
        "duckdb_threads": config.threads,
        "load_average": [round(load, 2) for load in os.getloadavg()],
    }
    if config.engine == "spark":
        from importlib.metadata import version

        machine["pyspark"] = version("pyspark")
        machine["spark_remote"] = os.environ.get("SEGMENT_PIPELINE_SPARK_REMOTE")
    return machine


def table(document: dict[str, object]) -> str:
    """The figures as a fixed-width table a person reads."""
    figures: dict[str, dict[str, object]] = document["figures"]  # type: ignore[assignment]
    machine: dict[str, object] = document["machine"]  # type: ignore[assignment]
    measured: dict[str, float] = document["ratios"]  # type: ignore[assignment]
    agreed: dict[str, object] = document["agreement"]  # type: ignore[assignment]
    width = max(len(label) for label in STEPS.values())
    lines = [
        f"segment-pipeline benchmark, scale {document['scale']}, engine "
        f"{machine.get('engine', 'duckdb')} ({machine['cpus']} cores, DuckDB memory_limit "
        f"{machine['duckdb_memory_limit']})",
        f"{'step':<{width}}  {'seconds':>9}  {'CPU s':>9}  {'peak RSS MB':>11}",
        "-" * (width + 35),
    ]
    for step, label in STEPS.items():
        figure = figures[step]
        lines.append(
            f"{label:<{width}}  {figure['seconds']:>9.2f}  {figure['cpu_seconds']:>9.2f}  "
            f"{figure['peak_rss_mb']:>11.0f}"
        )
    rows: list[dict[str, object]] = document["targets"]  # type: ignore[assignment]
    wide = max(len(str(row["target"])) for row in rows)
    lines += [
        "",
        f"{'target (issue 24)':<{wide}}  {'measured':>9}  {'limit':>7}  met",
        "-" * (wide + 27),
    ]
    for row in rows:
        lines.append(
            f"{row['target']:<{wide}}  {row['measured']:>8.2f}x  {row['limit']:>6.1f}x  "
            f"{'yes' if row['met'] else 'no'}"
        )
    lines.append("")
    for name, value in measured.items():
        lines.append(f"{name:<40} {value:>7.2f}x")
    lines.append(
        f"members agree with baseline (a): {agreed['pipeline_equals_duckdb_sql']}, "
        f"with baseline (b): {agreed['pipeline_equals_pandas']}; join times agree with "
        f"baseline (c): {agreed.get('join_times_equal_baseline_c')}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run every step of the benchmark at one scale; non-zero exit if members disagree."""
    arguments = _arguments(argv)
    config = StepConfig(
        scale=arguments.scale,
        seed=arguments.seed,
        work_dir=str(arguments.work_dir.resolve()),
        memory_limit=arguments.memory_limit,
        threads=arguments.threads,
        backfill_days=arguments.backfill_days,
        engine=arguments.engine,
    )
    if arguments.check_only:
        return _report_agreement(agreement(config, _segments()))
    config.root.mkdir(parents=True, exist_ok=True)
    config_path = config.root / "config.json"
    config.save(config_path)
    env = _step_env(config)
    figures: dict[str, dict[str, object]] = {}
    for step in STEPS:
        print(f"... {STEPS[step]}", file=sys.stderr, flush=True)
        try:
            command = (
                python_command(STEP_MODULES[step], str(config_path))
                if step in STEP_MODULES
                else python_command("benchmarks.steps", step, str(config_path))
            )
            measured: Measurement = run_step(step, command, env=env)
        except StepFailed as error:
            print(error, file=sys.stderr)
            return 2
        figures[step] = measured.as_json()
    ratio_values = ratios(figures)
    document = {
        "scale": config.scale,
        "params": json.loads(SCALES[config.scale].params(config.seed).model_dump_json()),
        "measured_day": str(config.day),
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(config),
        "figures": figures,
        "ratios": ratio_values,
        "targets": targets(figures, ratio_values),
        "agreement": {
            **agreement(config, _segments()),
            "model_scores_agree": figures["model_cost"]["scores_agree"],
        },
    }
    text = json.dumps(document, indent=2, default=str)
    (config.root / "results.json").write_text(text)
    if arguments.json:
        arguments.json.write_text(text)
    print(table(document))
    print(text)
    return _report_agreement(document["agreement"])  # type: ignore[arg-type]


def _segments() -> list[str]:
    from benchmarks.steps import PROJECT_DIR
    from segment_pipeline.definitions.project import load_project

    return list(load_project(PROJECT_DIR).segments)


def _report_agreement(agreed: dict[str, object]) -> int:
    """Exit status of the check: 1, with a line per differing segment, when a baseline's
    members differ from the pipeline's."""
    members: list[dict[str, object]] = agreed["mismatches"]  # type: ignore[assignment]
    join_times: list[dict[str, object]] = agreed.get("join_time_mismatches", [])  # type: ignore[assignment]
    mismatches = members + join_times
    if agreed.get("model_scores_agree") is False:
        print("the fit-score model's SELECT alone disagrees with the pipeline", file=sys.stderr)
        return 1
    for mismatch in mismatches:
        different = (
            f", {mismatch['different_join_time']} with another join time "
            f"(e.g. {mismatch['example']})"
            if mismatch.get("different_join_time")
            else ""
        )
        print(
            f"baseline {mismatch['baseline']} disagrees on {mismatch['segment']}: "
            f"{mismatch['only_pipeline']} members only in the pipeline, "
            f"{mismatch['only_baseline']} only in the baseline{different}",
            file=sys.stderr,
        )
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
