"""What the commands print: rich tables, and a user's mistake as one sentence on stderr
with exit status 1, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import pandas as pd
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from segment_pipeline.cli.options import COMMON_OPTIONS
from segment_pipeline.errors import ProjectInvalid, SegmentPipelineError

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


#: Cells up to this many characters are never cut, however narrow the output: a segment
#: name shortened to `big_accou…` could be any of several (piped output is 80 columns).
_UNCUT_WIDTH = 40


def frame_table(frame: pd.DataFrame, title: str) -> Table:
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


def user_errors(command: Callable[..., None]) -> Callable[..., None]:
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
