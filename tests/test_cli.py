"""The command line on real files: a generated landing zone, the example project, DuckDB."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from segment_pipeline.cli import main

EXAMPLE_PROJECT = Path(__file__).resolve().parents[1] / "dbt_like_sql"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(EXAMPLE_PROJECT, tmp_path / "dbt_like_sql")
    monkeypatch.chdir(tmp_path)
    for name in ("PROJECT_DIR", "LANDING_DIR", "WAREHOUSE", "START_DATE"):
        monkeypatch.delenv(f"SEGMENT_PIPELINE_{name}", raising=False)
    return tmp_path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def segment_pipeline(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from segment_pipeline.cli import main; main()", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def test_validate_lists_every_example_segment(workdir):
    code, output = invoke("validate")
    assert code == 0
    names = sorted(path.stem for path in (workdir / "dbt_like_sql" / "segments").glob("*.yml"))
    listed = sorted(line.split()[0] for line in output.splitlines())
    assert listed == names
    assert all("version=" in line for line in output.splitlines())


def test_validate_prints_every_problem_without_a_traceback(workdir):
    segments = workdir / "dbt_like_sql" / "segments"
    (segments / "broken.yml").write_text("entity: planet\nwhere: {attribute: 'x >'}\n")
    (segments / "loop_a.yml").write_text("entity: company\nwhere: {in_segment: loop_b}\n")
    (segments / "loop_b.yml").write_text("entity: company\nwhere: {in_segment: loop_a}\n")
    result = segment_pipeline("validate", cwd=workdir)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    problems = result.stderr.splitlines()
    assert any("broken.yml: entity" in line for line in problems)
    assert any(
        "loop_a -> loop_b -> loop_a" in line or "loop_b -> loop_a -> loop_b" in line
        for line in problems
    )


def test_user_mistakes_are_one_sentence_and_exit_1(workdir):
    result = segment_pipeline("run", "--start", "2026-01-01", "--end", "2026-01-02", cwd=workdir)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "landing directory data/landing does not exist" in result.stderr
    result = segment_pipeline("run", "--start", "2026-01-03", "--end", "2026-01-02", cwd=workdir)
    assert result.returncode == 1 and "is after --end" in result.stderr
    result = segment_pipeline("preview", "engaged_enterprise", cwd=workdir)
    assert result.returncode == 1 and "does not exist yet" in result.stderr


@pytest.mark.slow
def test_generate_run_preview_history_refresh(workdir):
    code, output = invoke(
        "generate", "--companies", "40", "--contacts", "150", "--events", "1500", "--days", "3"
    )
    assert code == 0, output
    assert sorted(path.name for path in (workdir / "data" / "landing").iterdir()) == [
        "2026-01-01",
        "2026-01-02",
        "2026-01-03",
    ]
    code, output = invoke("run", "--start", "2026-01-01", "--end", "2026-01-03")
    assert code == 0, output
    assert "Ingested per landing date" in output and "Segments on 2026-01-03" in output
    code, output = invoke("preview", "engaged_trials", "--date", "2026-01-03")
    assert code == 0, output
    assert "engaged_trials as of 2026-01-03:" in output
    code, output = invoke("history", "engaged_trials")
    assert code == 0 and "stretches" in output
    code, output = invoke("refresh", "january_trials", "--date", "2026-01-03")
    assert code == 0 and "refreshed january_trials for 2026-01-03" in output
    code, output = invoke("refresh", "no_such_segment", "--date", "2026-01-03")
    assert code == 1 and "unknown segment 'no_such_segment'" in output


def test_a_bad_option_value_names_the_option_and_the_value(workdir):
    result = segment_pipeline("generate", "--events", "-5", "--out", "x", cwd=workdir)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == "error: --events -5: input should be greater than or equal to 0"


def test_a_misspelt_type_names_the_value_and_the_near_miss(workdir):
    sources = workdir / "dbt_like_sql" / "sources.yml"
    sources.write_text(
        sources.read_text().replace("employee_count: integer", "employee_count: integr")
    )
    result = segment_pipeline("validate", cwd=workdir)
    assert result.returncode == 1
    assert "companies.columns.employee_count: must be 'text', 'integer'" in result.stderr
    assert "got 'integr' (did you mean integer?)" in result.stderr


def test_a_warehouse_folder_that_cannot_be_created_is_one_sentence(workdir):
    (workdir / "not_a_folder").write_text("")
    result = segment_pipeline(
        "run",
        "--start",
        "2026-01-01",
        "--end",
        "2026-01-01",
        "--warehouse",
        "not_a_folder/w.duckdb",
        cwd=workdir,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "cannot create the folder not_a_folder for the warehouse" in result.stderr


def test_common_options_are_accepted_after_the_subcommand(workdir):
    (workdir / "dbt_like_sql").rename(workdir / "moved")
    code, output = invoke("validate", "--project-dir", "moved")
    assert code == 0, output
    code, output = invoke("--project-dir", "elsewhere", "validate", "--project-dir", "moved")
    assert code == 0, output
    result = segment_pipeline("history", "x", "--warehouse", "missing.duckdb", cwd=workdir)
    assert "warehouse missing.duckdb does not exist yet" in result.stderr


def test_a_misspelt_command_suggests_the_right_one(workdir):
    result = segment_pipeline("valdate", cwd=workdir)
    assert result.returncode == 2
    assert "Did you mean 'validate'?" in result.stderr
