"""The evaluation code cannot change without a record of its semantics version.

`semantics_versions.txt` lists a fingerprint of `compile/` and `evaluate/` (their syntax
trees without docstrings, so comments, docstrings and formatting do not count) with the
`SEMANTICS_VERSION` it belongs to. After a change there: if it can change a member set or a
join time, bump `SEMANTICS_VERSION` (upgraded warehouses then recompute their states);
either way, add the line this test prints. A state computed by other semantics is never
reused: the incremental test below shows it on a real warehouse.
"""

from __future__ import annotations

import ast
import hashlib
from datetime import date
from pathlib import Path

from sqlglot import exp

import segment_pipeline
from segment_pipeline.evaluate.semantics import SEMANTICS_VERSION
from segment_pipeline.evaluate.states import (
    STATE_RUNS,
    STATE_TABLES,
    create_state_tables,
    kept_states,
)
from segment_pipeline.sql import lit

PACKAGE = Path(segment_pipeline.__file__).parent
RECORD = Path(__file__).with_name("semantics_versions.txt")


def _without_docstrings(tree: ast.Module) -> ast.Module:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            body[0] = ast.Pass()
    return tree


def evaluation_fingerprint() -> str:
    digest = hashlib.sha256()
    for folder in ("compile", "evaluate"):
        for path in sorted((PACKAGE / folder).glob("*.py")):
            tree = _without_docstrings(ast.parse(path.read_text()))
            digest.update(f"{folder}/{path.name}\n{ast.dump(tree)}\n".encode())
    return digest.hexdigest()[:16]


def _recorded() -> dict[str, int]:
    lines = [line.split() for line in RECORD.read_text().splitlines() if line.strip()]
    return {
        fingerprint: int(version)
        for fingerprint, version in (line for line in lines if not line[0].startswith("#"))
    }


def test_the_evaluation_code_is_recorded_with_its_semantics_version():
    fingerprint = evaluation_fingerprint()
    recorded = _recorded()
    assert fingerprint in recorded, (
        f"compile/ or evaluate/ changed (fingerprint {fingerprint}): if the change can change "
        "members or join times, bump SEMANTICS_VERSION in "
        "segment_pipeline/evaluate/semantics.py; then add the line "
        f"'{fingerprint} <SEMANTICS_VERSION>' to {RECORD.name}"
    )
    assert recorded[fingerprint] == SEMANTICS_VERSION, (
        f"{RECORD.name} records fingerprint {fingerprint} under semantics version "
        f"{recorded[fingerprint]}, but SEMANTICS_VERSION is {SEMANTICS_VERSION}"
    )


def test_states_of_an_older_pipeline_are_not_reused(warehouse):
    """A warehouse from before the semantics version: its states key lacks the column."""
    old_columns = {k: v for k, v in STATE_TABLES[STATE_RUNS].items() if k != "semantics_version"}
    warehouse.ensure_table(STATE_RUNS, old_columns)
    day = date(2026, 1, 1)
    warehouse.execute(
        exp.insert(exp.select(lit("old"), lit("v"), lit(day), exp.null()), STATE_RUNS)
    )
    create_state_tables(warehouse)
    for version in (SEMANTICS_VERSION - 1, SEMANTICS_VERSION):
        row = exp.select(lit(f"s{version}"), lit("v"), lit(day), exp.null(), lit(version))
        warehouse.execute(exp.insert(row, STATE_RUNS))
    assert kept_states(warehouse, day) == {(f"s{SEMANTICS_VERSION}", "v")}
