"""The commands that make data: generate, validate, run, refresh, demo and init, and the
summary a run prints."""

from __future__ import annotations

import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import click

from segment_pipeline.cli.options import DATE, Context
from segment_pipeline.cli.output import console, errors, frame_table, user_errors


@click.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Landing folder to write (default: --landing-dir).",
)
@click.option("--companies", type=int, default=200, show_default=True)
@click.option("--contacts", type=int, default=1000, show_default=True)
@click.option("--events", type=int, default=20000, show_default=True)
@click.option("--days", type=int, default=14, show_default=True)
@click.option("--start", type=DATE, default="2026-01-01", show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.pass_obj
@user_errors
def generate(
    obj: Context,
    out: Path | None,
    start: datetime,
    companies: int,
    contacts: int,
    events: int,
    days: int,
    seed: int,
) -> None:
    """Write a deterministic synthetic landing zone."""
    from segment_pipeline.generate import GenerateParams, generate_landing

    target = out or obj.landing_dir
    params = GenerateParams(
        start=start.date(),
        companies=companies,
        contacts=contacts,
        events=events,
        days=days,
        seed=seed,
    )
    began = time.perf_counter()
    summary = generate_landing(target, params, progress=sys.stderr.isatty())
    console.print(
        f"wrote {summary.days} days to {target}: {summary.companies_rows:,} company rows, "
        f"{summary.contacts_rows:,} contact rows, {summary.events_rows:,} events "
        f"({summary.malformed_rows:,} malformed, {summary.duplicate_events:,} re-sent) "
        f"in {time.perf_counter() - began:.1f}s"
    )


@click.command()
@click.pass_obj
def validate(obj: Context) -> None:
    """Check every definition; print each problem, or a line per segment."""
    from segment_pipeline.definitions.validate import validate_project

    project, lines = validate_project(obj.project_dir)
    for line in lines:
        (console if project else errors).print(line, highlight=False)
    if project is None:
        sys.exit(1)


def print_summary(obj: Context, start: date, end: date) -> None:
    """The tables `run` and `demo` end with: ingestion, models, the first and last day's
    segments, the range's changes and journey entrants."""
    from segment_pipeline.report import (
        ingestion_by_day,
        journey_entrants_by_day,
        models_on,
        segments_by_day,
    )
    from segment_pipeline.warehouse.engine import Warehouse

    with Warehouse.open(obj.settings().warehouse_settings, read_only=True) as warehouse:
        console.print(
            frame_table(ingestion_by_day(warehouse, start, end), "Ingested per landing date")
        )
        models = models_on(warehouse, end)
        segments = segments_by_day(warehouse, start, end)
        entrants = journey_entrants_by_day(warehouse, start, end)
    if len(models):
        console.print(frame_table(models, f"Models on {end}"))
    for day, frame in segments.groupby("snapshot_date"):
        if day == segments["snapshot_date"].iloc[0] or day == segments["snapshot_date"].iloc[-1]:
            console.print(frame_table(frame.drop(columns="snapshot_date"), f"Segments on {day!s}"))
    changes = ["added", "removed", "contacts_added", "contacts_removed"]
    totals = segments.groupby("segment")[changes].sum(min_count=1).reset_index()
    console.print(frame_table(totals, f"Changes {start} .. {end}"))
    if len(entrants):
        console.print(frame_table(entrants, f"Journey entrants {start} .. {end}"))


@click.command()
@click.option("--start", type=DATE, required=True)
@click.option("--end", type=DATE, required=True)
@click.pass_obj
@user_errors
def run(obj: Context, start: datetime, end: datetime) -> None:
    """Materialise the partitions from START to END through Dagster, in date order."""
    from segment_pipeline.orchestrate.launch import run_partitions

    began = time.perf_counter()
    run_ids = run_partitions(obj.writing_settings(), start.date(), end.date())
    console.print(
        f"{len(run_ids)} runs (one a day, the last {run_ids[-1]}) finished in "
        f"{time.perf_counter() - began:.1f}s"
    )
    print_summary(obj, start.date(), end.date())


@click.command()
@click.argument("segment")
@click.option("--date", "day", type=DATE, required=True)
@click.pass_obj
@user_errors
def refresh(obj: Context, segment: str, day: datetime) -> None:
    """Refresh a static segment's membership as of DATE."""
    from segment_pipeline.definitions.project import load_project
    from segment_pipeline.errors import ConfigError
    from segment_pipeline.orchestrate.launch import refresh_static

    project = load_project(obj.project_dir)
    if segment not in project.segments:
        raise ConfigError(f"unknown segment {segment!r}: `segment-pipeline validate` lists them")
    refresh_static(obj.writing_settings(), segment, day.date())
    console.print(f"refreshed {segment} for {day.date()}")


@click.command()
@click.option("--days", type=int, default=14, show_default=True)
@click.pass_obj
@user_errors
def demo(obj: Context, days: int) -> None:
    """Generate a small data set and run every day of it through Dagster.

    In a folder without a project, the example project is written first; the runs are
    recorded in `DAGSTER_HOME` (default `./dagster_home`), so `dagster dev` shows them.
    """
    import os

    from segment_pipeline.generate import GenerateParams, generate_landing
    from segment_pipeline.orchestrate.launch import run_partitions
    from segment_pipeline.scaffold import DAGSTER_HOME, ensure_dagster_home, scaffold

    for path in scaffold(Path.cwd(), obj.project_dir, keep_existing=True):
        console.print(f"created {path} (the example project)")
    if not os.environ.get("DAGSTER_HOME"):
        os.environ["DAGSTER_HOME"] = str(ensure_dagster_home(Path.cwd() / DAGSTER_HOME))
    params = GenerateParams(days=days)
    settings = obj.writing_settings(start_date=params.start)
    generate_landing(obj.landing_dir, params)
    console.print(f"generated {days} days of sample data in {obj.landing_dir}")
    start, end = params.start, params.start + timedelta(days=days - 1)
    began = time.perf_counter()
    run_partitions(settings, start, end)
    console.print(f"materialised {start} .. {end} in {time.perf_counter() - began:.1f}s")
    print_summary(obj, start, end)
    console.print(
        f"runs recorded in {os.environ['DAGSTER_HOME']}: "
        f"DAGSTER_HOME={os.environ['DAGSTER_HOME']} dagster dev shows them"
    )


@click.command()
@click.argument("directory", type=click.Path(path_type=Path))
@user_errors
def init(directory: Path) -> None:
    """Create a new project in DIRECTORY from the example (like `dbt init`)."""
    from segment_pipeline.scaffold import scaffold

    for path in scaffold(directory):
        console.print(f"created {path}")
    console.print(
        f"next: cd {directory} && segment-pipeline demo, then "
        "DAGSTER_HOME=$PWD/dagster_home dagster dev"
    )
