"""Helpers for the `explain` tests: the real command through click's runner, its output
read back as flips, and the warehouse's own answers to compare them with.

The pipelines are the other suites' own: `tests/show`'s `Runner` (a hand-written project
materialised through the real Dagster assets, used by the modules that write their own
project) and `tests/orchestrate`'s session pipeline (the example project over generated
data, three days through the daily job): its fixtures are imported here, so in this folder
`landing` is that pipeline's generated landing zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
from click.testing import CliRunner, Result

from segment_pipeline.cli import main
from segment_pipeline.settings import Settings
from tests.orchestrate.conftest import landing, materialized  # noqa: F401  (fixtures)

#: A flip line of the entity asked about (depth 0): `  <instant> joined|left: <words>`.
FLIP = re.compile(r"^  (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) (joined|left): (.*)$")


@dataclass(frozen=True)
class Flip:
    """One flip as the command printed it."""

    at: datetime
    change: str
    words: str


def run_explain(settings: Settings, *args: str) -> Result:
    """`segment-pipeline explain ARGS` on the settings' project, landing and warehouse."""
    paths = [
        "--project-dir",
        str(settings.project_dir),
        "--landing-dir",
        str(settings.landing_dir),
        "--warehouse",
        str(settings.warehouse),
    ]
    # Wide enough that no sentence is wrapped.
    return CliRunner().invoke(main, ["explain", *args, *paths], env={"COLUMNS": "1000"})


def explained(settings: Settings, segment: str, entity_id: str, day: date) -> str:
    """The command's output for a known entity (it must succeed)."""
    result = run_explain(settings, segment, entity_id, "--date", day.isoformat())
    assert result.exit_code == 0, result.output
    return result.stdout


def flips(output: str) -> list[Flip]:
    """The flips of the entity asked about, oldest first (nested explanations left out)."""
    found = [FLIP.match(line) for line in output.splitlines()]
    return [Flip(datetime.fromisoformat(match[1]), match[2], match[3]) for match in found if match]


def snapshot_joined_at(warehouse: Path, segment: str, entity_id: str, day: date) -> datetime:
    """The member's `joined_at` in the segment's snapshot of `day`."""
    with duckdb.connect(str(warehouse), read_only=True) as db:
        rows = db.execute(
            "select joined_at from segment_snapshots "
            "where segment = ? and entity_id = ? and snapshot_date = ?",
            [segment, entity_id, day],
        ).fetchall()
    assert len(rows) == 1, (segment, entity_id, day, rows)
    joined_at: datetime = rows[0][0]
    return joined_at


def is_member(warehouse: Path, segment: str, entity_id: str, day: date) -> bool:
    """Whether the entity has a row in the segment's snapshot of `day`."""
    with duckdb.connect(str(warehouse), read_only=True) as db:
        row = db.execute(
            "select count(*) from segment_snapshots "
            "where segment = ? and entity_id = ? and snapshot_date = ?",
            [segment, entity_id, day],
        ).fetchone()
    return bool(row and row[0])
