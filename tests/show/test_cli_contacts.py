"""The terminal summary and `preview` show a persona segment's picked contacts apart from
its companies (the accounts of `conftest.py`, run through the real CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from segment_pipeline.cli import main

from .conftest import DAYS


def _invoke(paths: list[str], *args: str) -> str:
    result = CliRunner().invoke(main, [*args, *paths], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def _rows(output: str, title: str) -> dict[str, list[str]]:
    """The rows of the table printed under `title`, by their first cell."""
    lines = output.split(title, 1)[1].splitlines()
    rows: dict[str, list[str]] = {}
    for line in lines[1:]:
        if line.startswith("└"):
            return rows
        if line.startswith("│"):
            cells = [cell.strip() for cell in line.strip("│").split("│")]
            rows[cells[0]] = cells[1:]
    raise AssertionError(f"no end to the table {title!r}")


@pytest.fixture
def paths(accounts, project_dir, landing, tmp_path: Path) -> list[str]:
    return [
        "--project-dir",
        str(project_dir.root),
        "--landing-dir",
        str(landing.root),
        "--warehouse",
        str(tmp_path / "warehouse.duckdb"),
    ]


def test_summary_counts_companies_and_picked_contacts_apart(paths: list[str]) -> None:
    first, last = DAYS[0].isoformat(), DAYS[-1].isoformat()
    output = _invoke(paths, "run", "--start", first, "--end", last)
    # members, added, removed | contacts, contacts_added, contacts_removed
    day_one = _rows(output, f"Segments on {first}")
    assert day_one["big_accounts"] == ["3", "3", "0", "3", "3", "0"]
    # A contact segment's members are its own rows: no picked-contact columns.
    assert day_one["big_account_contacts"] == ["3", "3", "0", "", "", ""]
    assert _rows(output, f"Segments on {last}")["big_accounts"] == ["2", "0", "0", "1", "0", "0"]
    totals = _rows(output, f"Changes {first} .. {last}")
    assert totals["big_accounts"] == ["4", "2", "3", "2"]
    assert totals["big_account_contacts"] == ["3", "2", "", ""]


def test_preview_lists_picked_contacts_with_company_and_persona(paths: list[str]) -> None:
    first = DAYS[0].isoformat()
    _invoke(paths, "run", "--start", first, "--end", first)
    output = _invoke(paths, "preview", "big_accounts", "--date", first)
    assert f"big_accounts as of {first}: 3 members, 3 picked contacts" in output
    contacts = _rows(output, "first 3 picked contacts")
    assert {company: cells[:3] for company, cells in contacts.items()} == {
        name: ["leader", "1", f"c_{name}"] for name in ("gone", "keep", "shrink")
    }
    plain = _invoke(paths, "preview", "big_account_contacts", "--date", first)
    assert "3 members\n" in plain and "picked contacts" not in plain
