"""A day on the demo data, as a user runs it: `python -m benchmarks.demo_day`.

Issue 24's target "a day on the demo data <= 2 s" is about the fixed cost of a day (the
interpreter, imports, Dagster's run setup, per-segment overhead, statement building): the
demo's data is tiny, so nearly all of a day's time is that cost. This script writes the
example project and the demo's 14 days into a temporary folder (what `segment-pipeline
demo` writes), runs the 13 days before the last one, and then times the last day, as a
user types it (`segment-pipeline run --start D --end D`, the whole process) and, separately,
in-process (`run_partitions` for the day, imports already done), each repeated on a fresh
copy of the 13-day warehouse. It prints the seconds of every repeat and their median.

`segment-pipeline run` records its runs on the instance `DAGSTER_HOME` names and, when it
is not set, on an ephemeral one: the timed runs do as the user's shell does, with
`DAGSTER_HOME` unset by default, or set to the project's `dagster_home` (where `demo`
records its runs) with `--dagster-home`, which adds Dagster's SQLite run storage (a commit
per event) to the cost.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

#: The demo's data set: `segment-pipeline demo`'s defaults.
DEMO_DAYS = 14
#: The warehouse after the days before the measured one (and `.day`: the measured day).
SAVED = "before_last_day.duckdb"
#: The marker of the in-process child's result line.
RESULT_MARKER = "DEMO-DAY-RESULT "


def _cli(folder: Path) -> list[str]:
    """The `segment-pipeline` command of this interpreter, with the demo's paths."""
    return [
        str(Path(sys.executable).with_name("segment-pipeline")),
        "--project-dir",
        str(folder / "dbt_like_sql"),
        "--landing-dir",
        str(folder / "data" / "landing"),
        "--warehouse",
        str(folder / "data" / "warehouse.duckdb"),
    ]


#: The checkout this script is in: the code measured, whatever the installed package is.
CHECKOUT = Path(__file__).resolve().parents[1]


#: Whether the timed runs record on the project's `dagster_home` (`--dagster-home`).
PERSISTENT = "DEMO_DAY_DAGSTER_HOME"


def _environment(folder: Path) -> dict[str, str]:
    """This checkout first on the path, and `DAGSTER_HOME` as `--dagster-home` says."""
    path = os.pathsep.join(filter(None, [str(CHECKOUT), os.environ.get("PYTHONPATH")]))
    environment = {**os.environ, "PYTHONPATH": path}
    environment.pop("DAGSTER_HOME", None)
    if os.environ.get(PERSISTENT):
        environment["DAGSTER_HOME"] = str(folder / "dagster_home")
    return environment


def _run(folder: Path, start: date, end: date) -> tuple[float, float]:
    """`segment-pipeline run` of a range in its own process; its wall and CPU seconds (on a
    busy machine the CPU seconds vary less)."""
    command = [*_cli(folder), "run", "--start", start.isoformat(), "--end", end.isoformat()]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    completed = subprocess.run(
        command, env=_environment(folder), cwd=folder, capture_output=True, text=True
    )
    seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{completed.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def prepare(folder: Path) -> tuple[date, Path]:
    """The demo project and data in `folder`, every day but the last run; return the last
    day and the saved copy of the warehouse each timed run starts from."""
    from segment_pipeline.generate import GenerateParams, generate_landing
    from segment_pipeline.scaffold import scaffold

    scaffold(folder)
    params = GenerateParams(days=DEMO_DAYS)
    generate_landing(folder / "data" / "landing", params)
    last = params.start + timedelta(days=DEMO_DAYS - 1)
    _run(folder, params.start, last - timedelta(days=1))
    saved = folder / SAVED
    shutil.copy2(folder / "data" / "warehouse.duckdb", saved)
    saved.with_suffix(".day").write_text(last.isoformat())
    return last, saved


def _restore(folder: Path, saved: Path) -> None:
    """The warehouse as it was before the measured day (its write-ahead log removed)."""
    warehouse = folder / "data" / "warehouse.duckdb"
    warehouse.with_name(warehouse.name + ".wal").unlink(missing_ok=True)
    shutil.copy2(saved, warehouse)


def whole_process(folder: Path, day: date, saved: Path, repeat: int) -> list[tuple[float, float]]:
    """Wall and CPU seconds of `segment-pipeline run --start day --end day`, `repeat` times."""
    times = []
    for _ in range(repeat):
        _restore(folder, saved)
        times.append(_run(folder, day, day))
    return times


def in_process(folder: Path, day: date, saved: Path, repeat: int) -> dict[str, Any]:
    """Import seconds and the seconds of each `run_partitions(day, day)` in one process,
    the child this script starts with `--child` (so its imports are its own)."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.demo_day",
        "--child",
        str(folder),
        day.isoformat(),
        str(saved),
        str(repeat),
    ]
    completed = subprocess.run(
        command, env=_environment(folder), cwd=folder, capture_output=True, text=True
    )
    if completed.returncode != 0:
        raise SystemExit(f"in-process child failed:\n{completed.stderr[-3000:]}")
    line = next(line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARKER))
    result: dict[str, Any] = json.loads(line.removeprefix(RESULT_MARKER))
    return result


def _child(folder: Path, day: date, saved: Path, repeat: int) -> None:
    """The in-process measurement: what `run` imports, then the day `repeat` times."""
    began = time.perf_counter()
    from segment_pipeline.orchestrate.launch import run_partitions
    from segment_pipeline.settings import Settings

    imports = time.perf_counter() - began
    settings = Settings(
        project_dir=folder / "dbt_like_sql",
        landing_dir=folder / "data" / "landing",
        warehouse=folder / "data" / "warehouse.duckdb",
    )
    runs = []
    for _ in range(repeat):
        _restore(folder, saved)
        began = time.perf_counter()
        run_partitions(settings, day, day)
        runs.append(time.perf_counter() - began)
    print(RESULT_MARKER + json.dumps({"imports": imports, "runs": runs}))


def _line(label: str, times: list[float]) -> str:
    listed = " ".join(f"{seconds:.2f}" for seconds in times)
    return f"{label}: median {statistics.median(times):.2f} s  ({listed})"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of the day")
    parser.add_argument(
        "--work-dir", type=Path, help="keep the demo here, or reuse the one prepared here"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--dagster-home", action="store_true", help="record the runs in the project's dagster_home"
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.dagster_home:
        os.environ[PERSISTENT] = "1"
    if args.child:
        folder, day, saved, repeat = args.child
        _child(Path(folder), date.fromisoformat(day), Path(saved), int(repeat))
        return
    with tempfile.TemporaryDirectory(prefix="demo_day_") as temporary:
        folder = args.work_dir or Path(temporary)
        saved = folder / SAVED
        if saved.exists():
            day = date.fromisoformat(saved.with_suffix(".day").read_text().strip())
            print(f"reusing the demo prepared in {folder}")
        else:
            folder.mkdir(parents=True, exist_ok=True)
            began = time.perf_counter()
            day, saved = prepare(folder)
            print(f"prepared {folder}: 13 days run in {time.perf_counter() - began:.1f} s")
        processes = whole_process(folder, day, saved, args.repeat)
        inside = in_process(folder, day, saved, args.repeat)
    runs = [float(seconds) for seconds in inside["runs"]]
    command = f"segment-pipeline run --start {day} --end {day}"
    print(_line(f"{command} (whole process), wall", [wall for wall, _ in processes]))
    print(_line(f"{command} (whole process), CPU", [cpu for _, cpu in processes]))
    print(_line("in-process run_partitions (imports done)", runs))
    print(f"imports of segment_pipeline.orchestrate.launch: {inside['imports']:.2f} s")
    print(f"instance: {'the project dagster_home' if args.dagster_home else 'ephemeral'}")
    print(f"load average: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    if args.json:
        figures = {"day": str(day), "whole_process": processes, "in_process": inside}
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
