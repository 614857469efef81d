"""`segment-pipeline demo` after a plain (non-editable) install: the wheel alone must carry
the example project, so the demo works with no repository checkout in sight."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_demo_runs_from_the_built_wheel_in_an_empty_folder(tmp_path: Path) -> None:
    wheels, installed, empty = tmp_path / "wheels", tmp_path / "site", tmp_path / "empty"
    empty.mkdir()
    # Built from a copy: setuptools leaves a build/ folder beside the sources it builds.
    source = tmp_path / "source"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "data", "dagster_home", "*.egg-info", "__pycache__"
        ),
    )
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(wheels), str(source)],
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("segment_pipeline-*.whl")
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(installed), str(wheel)],
        check=True,
        timeout=300,
    )
    # The wheel's package comes first on the path; the dependencies are the test venv's.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "SEGMENT_"))}
    env["PYTHONPATH"] = str(installed)
    code = (
        "import segment_pipeline, sys; from segment_pipeline.cli import main; "
        "print(segment_pipeline.__file__, file=sys.stderr); main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "demo", "--days", "2"],
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.splitlines()[0].startswith(str(installed)), "ran the installed package"
    assert "engaged_enterprise" in done.stdout, done.stdout
    for name in ("dbt_like_sql/sources.yml", "definitions.py", "workspace.yaml"):
        assert (empty / name).is_file(), name
