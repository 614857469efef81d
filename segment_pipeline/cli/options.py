"""The options every command shares (before or after the subcommand, SPEC 11), and the
paths and settings they resolve to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from segment_pipeline.settings import Settings


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


def day_or_none(value: datetime | None) -> date | None:
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


def group_options(command: Callable[..., None]) -> Callable[..., None]:
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
