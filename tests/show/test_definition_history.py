"""Definition history through real runs with an edit between days: versions, first
snapshot dates, a readable diff on the command line and in the asset's metadata."""

from __future__ import annotations

from click.testing import CliRunner

from segment_pipeline.cli import main
from segment_pipeline.definition_history import definition_history
from segment_pipeline.warehouse import Warehouse

from .conftest import BIG_ACCOUNTS, DAYS, Runner


def test_versions_and_diffs(runner: Runner, project_dir) -> None:
    runner.materialize([DAYS[0]])
    edited = {**BIG_ACCOUNTS, "where": {"attribute": "employee_count >= 1000"}}
    project_dir.segment("big_accounts", edited)
    runner.materialize([DAYS[1]])
    runner.materialize([DAYS[2]])

    with Warehouse.open(runner.settings.warehouse_settings, read_only=True) as warehouse:
        versions = definition_history(warehouse, "big_accounts")
    assert list(versions["first_snapshot_date"]) == [d.isoformat() for d in DAYS[:2]]
    first, second = versions["version"]
    diff = versions["diff"].iloc[1]
    assert f"--- version {first}" in diff and f"+++ version {second}" in diff
    assert "-  attribute: employee_count >= 500" in diff
    assert "+  attribute: employee_count >= 1000" in diff
    assert versions["diff"].iloc[0] == "(first version)"

    metadata = runner.metadata("big_accounts")
    changed = metadata[DAYS[1].isoformat()]
    assert changed["previous_definition_version"] == first
    assert "+  attribute: employee_count >= 1000" in str(changed["definition_diff"])
    assert "definition_diff" not in metadata[DAYS[2].isoformat()]
    assert "definition_diff" not in metadata[DAYS[0].isoformat()]
    # The referencing segment's version changed too: its diff shows the referenced version.
    referencing = runner.metadata("big_account_contacts")[DAYS[1].isoformat()]
    assert "+    big_accounts: " in str(referencing["definition_diff"])

    result = CliRunner().invoke(
        main,
        [
            "history",
            "big_accounts",
            "--definitions",
            "--warehouse",
            str(runner.settings.warehouse),
            "--project-dir",
            str(project_dir.root),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2 definition versions" in result.output
    assert f"version {second}: first materialised" in result.output
    assert f"first snapshot date {DAYS[1].isoformat()}" in result.output
    assert "+  attribute: employee_count >= 1000" in result.output

    unknown = CliRunner().invoke(
        main, ["history", "nope", "--definitions", "--warehouse", str(runner.settings.warehouse)]
    )
    assert unknown.exit_code == 1
    assert "no materialised definition" in unknown.output
