"""A throwaway project under tmp_path, addressed by a relative path so messages read
`project/segments/x.yml: where...` exactly as a person would see them."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

EXAMPLE_PROJECT = Path(__file__).resolve().parents[2] / "dbt_like_sql"

Write = Callable[[str, str], Path]


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project (the example sources.yml only), as the relative path `project`."""
    monkeypatch.chdir(tmp_path)
    root = Path("project")
    (root / "segments").mkdir(parents=True)
    (root / "journeys").mkdir()
    shutil.copy(EXAMPLE_PROJECT / "sources.yml", root / "sources.yml")
    return root


@pytest.fixture
def write(project_dir: Path) -> Write:
    """Write a (dedented) file inside the project and return its path."""

    def _write(relative: str, text: str) -> Path:
        path = project_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return _write


@pytest.fixture
def example_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example project, as the relative path `project`, free to edit."""
    monkeypatch.chdir(tmp_path)
    root = Path("project")
    shutil.copytree(EXAMPLE_PROJECT, root)
    return root
