"""`segment-pipeline`: generate data, validate the project, run, refresh, preview, audit.

Every user mistake ends as one sentence on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, cast

import click
import pandas as pd
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from segment_pipeline.errors import ProjectInvalid, SegmentPipelineError
from segment_pipeline.settings import Settings

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


#: Cells up to this many characters are never cut, however narrow the output: a segment
#: name shortened to `big_accou…` could be any of several (piped output is 80 columns).
_UNCUT_WIDTH = 40


def _table(frame: pd.DataFrame, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    rows = [
        ["" if pd.isna(value) else str(value) for value in row]
        for row in frame.itertuples(index=False)
    ]
    for index, column in enumerate(frame.columns):
        widest = max([len(str(column)), *(len(row[index]) for row in rows)])
        table.add_column(
            str(column),
            justify="right" if frame[column].dtype.kind in "iuf" else "left",
            min_width=min(widest, _UNCUT_WIDTH),
        )
    for row in rows:
        table.add_row(*row)
    return table


def _user_errors(command: Callable[..., None]) -> Callable[..., None]:
    """Print a user's mistake as one sentence and exit 1."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except ProjectInvalid as invalid:
            for error in invalid.errors:
                errors.print(f"[red]error:[/red] {error}", highlight=False)
            sys.exit(1)
        except SegmentPipelineError as error:
            errors.print(f"[red]error:[/red] {error}", highlight=False)
            sys.exit(1)
        except ValidationError as error:
            errors.print(f"[red]error:[/red] {_invalid_value(error)}", highlight=False)
            sys.exit(1)

    return wrapper


def _invalid_value(error: ValidationError) -> str:
    """One sentence naming the option (or environment variable), the value and the rule."""
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    if error.title == "Settings" and field not in {option[0] for option in COMMON_OPTIONS}:
        where = f"SEGMENT_PIPELINE_{field.upper()}"
    else:
        where = f"--{field.replace('_', '-')}"
    message = str(first["msg"])
    rule = message[:1].lower() + message[1:]
    return f"{where} {first.get('input')}: {rule}"


class Context:
    """The common options, resolved."""

    def __init__(self, project_dir: Path, landing_dir: Path, warehouse: Path) -> None:
        self.project_dir = project_dir
        self.landing_dir = landing_dir
        self.warehouse = warehouse

    def settings(self, **overrides: Any) -> Settings:
        """Settings from the environment with the command line's paths on top."""
        return Settings(
            project_dir=self.project_dir,
            landing_dir=self.landing_dir,
            warehouse=self.warehouse,
            **overrides,
        )

    def writing_settings(self, **overrides: Any) -> Settings:
        """Settings for a command that writes the warehouse: its folder is created first,
        so a place that cannot hold it is one sentence here, not a failed Dagster run."""
        from segment_pipeline.warehouse.engine import create_folder

        settings = self.settings(**overrides)
        create_folder(settings.warehouse)
        return settings


DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


#: The common options: (name, environment variable, default, help).
COMMON_OPTIONS = (
    ("project_dir", "SEGMENT_PIPELINE_PROJECT_DIR", "dbt_like_sql", "The analytics project."),
    ("landing_dir", "SEGMENT_PIPELINE_LANDING_DIR", "data/landing", "Daily landing folders."),
    (
        "warehouse",
        "SEGMENT_PIPELINE_WAREHOUSE",
        "data/warehouse.duckdb",
        "The DuckDB file (on Spark: the warehouse directory).",
    ),
)


def _common_option(name: str, envvar: str, default: str, help: str) -> click.Option:
    """The option as a subcommand takes it: given there, it overrides the group's value."""

    def override(ctx: click.Context, _: click.Parameter, value: Path | None) -> None:
        context = ctx.find_object(Context)
        if value is not None and context is not None:
            setattr(context, name, value)

    return click.Option(
        [f"--{name.replace('_', '-')}"],
        type=click.Path(path_type=Path),
        default=None,
        expose_value=False,
        callback=override,
        help=f"{help} [env var: {envvar}; default: {default}]",
    )


class CommonOptionsGroup(click.Group):
    """A group whose common options are accepted before or after the subcommand (SPEC 11)."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        cmd.params.extend(_common_option(*option) for option in COMMON_OPTIONS)
        super().add_command(cmd, name)


def _group_options(command: Callable[..., None]) -> Callable[..., None]:
    """The common options as the group takes them, before the subcommand."""
    for name, envvar, default, help in reversed(COMMON_OPTIONS):
        command = click.option(
            f"--{name.replace('_', '-')}",
            envvar=envvar,
            default=default,
            show_default=True,
            type=click.Path(path_type=Path),
            help=help,
        )(command)
    return command


@click.group(cls=CommonOptionsGroup)
@_group_options
@click.pass_context
def main(ctx: click.Context, project_dir: Path, landing_dir: Path, warehouse: Path) -> None:
    """Daily segment snapshots with exact join times, orchestrated by Dagster."""
    ctx.obj = Context(project_dir, landing_dir, warehouse)


@main.command()
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
@_user_errors
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


@main.command()
@click.pass_obj
def validate(obj: Context) -> None:
    """Check every definition; print each problem, or a line per segment."""
    from segment_pipeline.definitions.validate import validate_project

    project, lines = validate_project(obj.project_dir)
    for line in lines:
        (console if project else errors).print(line, highlight=False)
    if project is None:
        sys.exit(1)


def _summary(obj: Context, start: date, end: date) -> None:
    from segment_pipeline.report import (
        ingestion_by_day,
        journey_entrants_by_day,
        models_on,
        segments_by_day,
    )
    from segment_pipeline.warehouse.engine import Warehouse

    with Warehouse.open(obj.settings().warehouse_settings, read_only=True) as warehouse:
        console.print(_table(ingestion_by_day(warehouse, start, end), "Ingested per landing date"))
        models = models_on(warehouse, end)
        segments = segments_by_day(warehouse, start, end)
        entrants = journey_entrants_by_day(warehouse, start, end)
    if len(models):
        console.print(_table(models, f"Models on {end}"))
    for day, frame in segments.groupby("snapshot_date"):
        if day == segments["snapshot_date"].iloc[0] or day == segments["snapshot_date"].iloc[-1]:
            console.print(_table(frame.drop(columns="snapshot_date"), f"Segments on {day!s}"))
    changes = ["added", "removed", "contacts_added", "contacts_removed"]
    totals = segments.groupby("segment")[changes].sum(min_count=1).reset_index()
    console.print(_table(totals, f"Changes {start} .. {end}"))
    if len(entrants):
        console.print(_table(entrants, f"Journey entrants {start} .. {end}"))


@main.command()
@click.option("--start", type=DATE, required=True)
@click.option("--end", type=DATE, required=True)
@click.pass_obj
@_user_errors
def run(obj: Context, start: datetime, end: datetime) -> None:
    """Materialise the partitions from START to END through Dagster, in date order."""
    from segment_pipeline.orchestrate.launch import run_partitions

    began = time.perf_counter()
    run_ids = run_partitions(obj.writing_settings(), start.date(), end.date())
    console.print(
        f"{len(run_ids)} runs (one a day, the last {run_ids[-1]}) finished in "
        f"{time.perf_counter() - began:.1f}s"
    )
    _summary(obj, start.date(), end.date())


@main.command()
@click.argument("segment")
@click.option("--date", "day", type=DATE, required=True)
@click.pass_obj
@_user_errors
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


@main.command()
@click.argument("segment")
@click.option(
    "--date",
    "day",
    type=DATE,
    default=None,
    help="Snapshot date (default: the latest materialised one, else yesterday).",
)
@click.option("--limit", type=int, default=20, show_default=True)
@click.pass_obj
@_user_errors
def preview(obj: Context, segment: str, day: datetime | None, limit: int) -> None:
    """Evaluate SEGMENT without writing anything: member count and first members (and for
    a company segment with personas, its first picked contacts with company and persona)."""
    from segment_pipeline.definitions.project import load_project
    from segment_pipeline.errors import ConfigError
    from segment_pipeline.evaluate.preview import preview_segment
    from segment_pipeline.report import latest_snapshot_date
    from segment_pipeline.warehouse.engine import Warehouse

    project = load_project(obj.project_dir)
    if segment not in project.segments:
        raise ConfigError(f"unknown segment {segment!r}: `segment-pipeline validate` lists them")
    with Warehouse.open(obj.settings().warehouse_settings, read_only=True) as warehouse:
        snapshot_date = (
            _day(day) or latest_snapshot_date(warehouse) or (date.today() - timedelta(days=1))
        )
        members, contacts = preview_segment(warehouse, project, snapshot_date, segment)
    picked = "" if contacts is None else f", {len(contacts):,} picked contacts"
    console.print(f"{segment} as of {snapshot_date}: {len(members):,} members{picked}")
    shown = members.head(limit)[["entity_type", "entity_id", "joined_at"]]
    console.print(_table(shown, f"first {len(shown)} members"))
    if contacts is not None:
        columns = ["company_id", "persona", "persona_rank", "entity_id", "joined_at"]
        first = contacts.head(limit)[columns].rename(columns={"entity_id": "contact_id"})
        console.print(_table(first, f"first {len(first)} picked contacts"))


@main.command()
@click.argument("segment")
@click.argument("entity_id")
@click.option(
    "--date",
    "day",
    type=DATE,
    default=None,
    help="Snapshot date (default: the latest materialised one, else yesterday).",
)
@click.pass_obj
@_user_errors
def explain(obj: Context, segment: str, entity_id: str, day: datetime | None) -> None:
    """Why ENTITY_ID is in SEGMENT or not: every flip, the condition that flipped it, and
    each condition's value now, under the definition on disk (nothing is written); an
    in_segment condition nests the explanation it rests on. A contact id in a company
    segment with personas: its persona, rank, the contacts ranked before it and its
    company's explanation, from the day's snapshot."""
    from segment_pipeline.definitions.project import load_project
    from segment_pipeline.explain import explanation
    from segment_pipeline.report import latest_snapshot_date
    from segment_pipeline.warehouse.engine import Warehouse

    project = load_project(obj.project_dir)
    with Warehouse.open(obj.settings().warehouse_settings, read_only=True) as warehouse:
        snapshot_date = (
            _day(day) or latest_snapshot_date(warehouse) or (date.today() - timedelta(days=1))
        )
        found = explanation(warehouse, project, segment, entity_id, snapshot_date)
    for line in found.lines():
        console.print(line, markup=False, highlight=False, soft_wrap=True)


@main.command()
@click.argument("segment")
@click.option("--entity", default=None, help="Only this entity id.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option(
    "--definitions",
    is_flag=True,
    help="Every definition version instead: first materialised, and a diff to the one before.",
)
@click.pass_obj
@_user_errors
def history(obj: Context, segment: str, entity: str | None, limit: int, definitions: bool) -> None:
    """Stretches of membership of SEGMENT, with removal reasons (or its definition versions)."""
    from segment_pipeline.report import segment_history
    from segment_pipeline.warehouse.engine import Warehouse

    if definitions:
        _definition_versions(obj, segment)
        return
    with Warehouse.open(obj.settings().warehouse_settings, read_only=True) as warehouse:
        stretches = segment_history(warehouse, segment, entity)
    console.print(f"{segment}: {len(stretches):,} stretches")
    console.print(_table(stretches.head(limit), "history"))


@main.command()
@click.argument("segment", required=False)
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("report.html"), show_default=True
)
@click.option("--start", type=DATE, default=None, help="First snapshot date (default: the first).")
@click.option("--end", type=DATE, default=None, help="Last snapshot date (default: the latest).")
@click.pass_obj
@_user_errors
def report(
    obj: Context, segment: str | None, out: Path, start: datetime | None, end: datetime | None
) -> None:
    """Write a self-contained HTML page of how SEGMENT (default: every segment) moves."""
    from segment_pipeline.errors import ConfigError
    from segment_pipeline.report import latest_snapshot_date
    from segment_pipeline.report_html import first_snapshot_date, write_report
    from segment_pipeline.warehouse.engine import Warehouse

    with Warehouse.open(obj.settings().warehouse_settings, read_only=True) as warehouse:
        last = _day(end) or latest_snapshot_date(warehouse)
        if last is None:
            raise ConfigError("the warehouse has no snapshot yet: `segment-pipeline run` first")
        first = _day(start) or first_snapshot_date(warehouse) or last
        charts = write_report(warehouse, out, first, last, segment)
    console.print(f"wrote {out}: {len(charts)} charts ({', '.join(charts)})", highlight=False)


def _definition_versions(obj: Context, segment: str) -> None:
    from segment_pipeline.definition_history import definition_history
    from segment_pipeline.errors import ConfigError
    from segment_pipeline.warehouse.engine import Warehouse

    with Warehouse.open(obj.settings().warehouse_settings, read_only=True) as warehouse:
        versions = definition_history(warehouse, segment)
    if versions.empty:
        raise ConfigError(f"segment {segment!r} has no materialised definition in the warehouse")
    console.print(f"{segment}: {len(versions)} definition versions", highlight=False)
    for row in versions.itertuples(index=False):
        console.print(
            f"\nversion {row.version}: first materialised {str(row.first_materialized_at)[:19]}, "
            f"first snapshot date {row.first_snapshot_date}",
            highlight=False,
        )
        # pandas-stubs cannot know the column's type: the diff is text.
        console.print(cast(str, row.diff).rstrip("\n"), highlight=False, markup=False)


@main.command()
@click.option("--days", type=int, default=14, show_default=True)
@click.pass_obj
@_user_errors
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
    _summary(obj, start, end)
    console.print(
        f"runs recorded in {os.environ['DAGSTER_HOME']}: "
        f"DAGSTER_HOME={os.environ['DAGSTER_HOME']} dagster dev shows them"
    )


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
@_user_errors
def init(directory: Path) -> None:
    """Create a new project in DIRECTORY from the example (like `dbt init`)."""
    from segment_pipeline.scaffold import scaffold

    for path in scaffold(directory):
        console.print(f"created {path}")
    console.print(
        f"next: cd {directory} && segment-pipeline demo, then "
        "DAGSTER_HOME=$PWD/dagster_home dagster dev"
    )
