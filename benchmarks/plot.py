"""The cost of a day from the smallest scale measured to the largest, against its baselines:
`python -m benchmarks.plot [--work-dir DIR] [--out PNG]`.

Reads the `results.json` every scale's run left in the work folder, so each point is the
daily run and the baselines of one and the same run, and draws their wall seconds against
the scale's event count on log axes (a flat ratio is a parallel line).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from matplotlib.figure import Figure  # a Figure alone needs no display nor pyplot state

from benchmarks.scales import SCALES

#: The lines drawn: the step's key in results.json and its legend.
LINES = {
    "daily_run": "daily partition (`segment-pipeline run`, whole process)",
    "baseline_duckdb_sql": "baseline (a): plain DuckDB SQL, members only",
    "baseline_pandas": "baseline (b): pandas, members only",
}


def documents(work_dir: Path) -> list[dict[str, object]]:
    """Every scale's last results, smallest data first."""
    found = [
        json.loads(path.read_text())
        for name in SCALES
        if (path := work_dir / name / "results.json").is_file()
    ]
    return sorted(found, key=lambda document: document["params"]["events"])  # type: ignore[index]


def plot(work_dir: Path, out: Path) -> Path:
    """Draw the cost of a day at every measured scale; return the PNG's path."""
    measured = documents(work_dir)
    if not measured:
        raise SystemExit(f"no results.json under {work_dir}: run `python -m benchmarks.run`")
    events = [document["params"]["events"] for document in measured]  # type: ignore[index]
    figure = Figure(figsize=(8, 5))
    axes = figure.subplots()
    for step, label in LINES.items():
        seconds = [document["figures"][step]["seconds"] for document in measured]  # type: ignore[index]
        axes.plot(events, seconds, marker="o", label=label)
    for document, count in zip(measured, events, strict=True):
        axes.annotate(
            f"{document['scale']}: {document['ratios']['daily_run_over_baseline_a']}x (a)",  # type: ignore[index]
            (count, document["figures"]["daily_run"]["seconds"]),  # type: ignore[index]
            textcoords="offset points",
            xytext=(4, 6),
            fontsize=8,
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("events in the data set")
    axes.set_ylabel("wall seconds")
    axes.set_title("The cost of a day, against baselines measured in the same run")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)
    return out


def main(argv: list[str] | None = None) -> None:
    """Write the plot."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.plot", description=__doc__)
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=Path(os.environ.get("SEGMENT_PIPELINE_BENCH_DIR", "/tmp/segment-pipeline-bench")),
    )
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).with_name("day_cost_by_scale.png")
    )
    arguments = parser.parse_args(argv)
    print(plot(arguments.work_dir, arguments.out))


if __name__ == "__main__":
    main()
