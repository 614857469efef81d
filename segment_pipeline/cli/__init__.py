"""`segment-pipeline`: generate data, validate the project, run, refresh, preview,
explain, report.

Every user mistake ends as one sentence on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import click

from segment_pipeline.cli.options import CommonOptionsGroup, Context, group_options
from segment_pipeline.cli.reading import explain, history, preview, report
from segment_pipeline.cli.writing import demo, generate, init, refresh, run, validate


@click.group(cls=CommonOptionsGroup)
@group_options
@click.pass_context
def main(ctx: click.Context, project_dir: Path, landing_dir: Path, warehouse: Path) -> None:
    """Daily segment snapshots with exact join times, orchestrated by Dagster."""
    ctx.obj = Context(project_dir, landing_dir, warehouse)


for command in (generate, validate, run, refresh, preview, explain, history, report, demo, init):
    main.add_command(command)
