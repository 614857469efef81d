"""The commands that read: preview, explain, history and report (nothing is written to
the warehouse)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from segment_pipeline.cli.options import DATE, Context, day_or_none
from segment_pipeline.cli.output import console, frame_table, user_errors

if TYPE_CHECKING:
    from segment_pipeline.warehouse.engine import Warehouse


#: The day a reading command looks at.
SNAPSHOT_DATE = click.option(
    "--date",
    "day",
    type=DATE,
    default=None,
    help="Snapshot date (default: the latest materialised one, else yesterday).",
)


def _snapshot_date(warehouse: Warehouse, day: datetime | None) -> date:
    """The day given, else the latest materialised one, else yesterday (a new warehouse)."""
    from segment_pipeline.report import latest_snapshot_date

    return day_or_none(day) or latest_snapshot_date(warehouse) or (date.today() - timedelta(days=1))


@click.command()
@click.argument("segment")
@SNAPSHOT_DATE
@click.option("--limit", type=int, default=20, show_default=True)
@click.pass_obj
@user_errors
def preview(obj: Context, segment: str, day: datetime | None, limit: int) -> None:
    """Evaluate SEGMENT without writing anything: member count and first members (and for
    a company segment with personas, its first picked contacts with company and persona)."""
    from segment_pipeline.definitions.project import load_project
    from segment_pipeline.errors import ConfigError
    from segment_pipeline.evaluate.preview import preview_segment
    from segment_pipeline.warehouse.engine import Warehouse

    project = load_project(obj.project_dir)
    if segment not in project.segments:
        raise ConfigError(f"unknown segment {segment!r}: `segment-pipeline validate` lists them")
    with Warehouse.open(obj.settings().warehouse_settings, read_only=True) as warehouse:
        snapshot_date = _snapshot_date(warehouse, day)
        members, contacts = preview_segment(warehouse, project, snapshot_date, segment)
    picked = "" if contacts is None else f", {len(contacts):,} picked contacts"
    console.print(f"{segment} as of {snapshot_date}: {len(members):,} members{picked}")
    shown = members.head(limit)[["entity_type", "entity_id", "joined_at"]]
    console.print(frame_table(shown, f"first {len(shown)} members"))
    if contacts is not None:
        columns = ["company_id", "persona", "persona_rank", "entity_id", "joined_at"]
        first = contacts.head(limit)[columns].rename(columns={"entity_id": "contact_id"})
        console.print(frame_table(first, f"first {len(first)} picked contacts"))


@click.command()
@click.argument("segment")
@click.argument("entity_id")
@SNAPSHOT_DATE
@click.pass_obj
@user_errors
def explain(obj: Context, segment: str, entity_id: str, day: datetime | None) -> None:
    """Why ENTITY_ID is in SEGMENT or not: every flip, the condition that flipped it, and
    each condition's value now, under the definition on disk (nothing is written); an
    in_segment condition nests the explanation it rests on. A contact id in a company
    segment with personas: its persona, rank, the contacts ranked before it and its
    company's explanation, from the day's snapshot."""
    from segment_pipeline.definitions.project import load_project
    from segment_pipeline.explain import explanation
    from segment_pipeline.warehouse.engine import Warehouse

    project = load_project(obj.project_dir)
    with Warehouse.open(obj.settings().warehouse_settings, read_only=True) as warehouse:
        snapshot_date = _snapshot_date(warehouse, day)
        found = explanation(warehouse, project, segment, entity_id, snapshot_date)
    for line in found.lines():
        console.print(line, markup=False, highlight=False, soft_wrap=True)


@click.command()
@click.argument("segment")
@click.option("--entity", default=None, help="Only this entity id.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option(
    "--definitions",
    is_flag=True,
    help="Every definition version instead: first materialised, and a diff to the one before.",
)
@click.pass_obj
@user_errors
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
    console.print(frame_table(stretches.head(limit), "history"))


@click.command()
@click.argument("segment", required=False)
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("report.html"), show_default=True
)
@click.option("--start", type=DATE, default=None, help="First snapshot date (default: the first).")
@click.option("--end", type=DATE, default=None, help="Last snapshot date (default: the latest).")
@click.pass_obj
@user_errors
def report(
    obj: Context, segment: str | None, out: Path, start: datetime | None, end: datetime | None
) -> None:
    """Write a self-contained HTML page of how SEGMENT (default: every segment) moves."""
    from segment_pipeline.errors import ConfigError
    from segment_pipeline.report import latest_snapshot_date
    from segment_pipeline.report_html import first_snapshot_date, write_report
    from segment_pipeline.warehouse.engine import Warehouse

    with Warehouse.open(obj.settings().warehouse_settings, read_only=True) as warehouse:
        last = day_or_none(end) or latest_snapshot_date(warehouse)
        if last is None:
            raise ConfigError("the warehouse has no snapshot yet: `segment-pipeline run` first")
        first = day_or_none(start) or first_snapshot_date(warehouse) or last
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
