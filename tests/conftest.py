"""Shared fixtures: a real DuckDB file under tmp_path and small hand-written landing zones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from segment_pipeline.definitions.sources import Sources
from segment_pipeline.warehouse import Warehouse, WarehouseSettings
from segment_pipeline.warehouse.schema import ensure_schema
from tests.webhook_receiver import Receiver, running_receiver

SOURCES = {
    "companies": {"columns": {"employee_count": "integer", "country": "text"}},
    "contacts": {
        "columns": {"company_id": "text", "seniority": "text", "is_former_employee": "boolean"}
    },
}


@pytest.fixture
def sources() -> Sources:
    return Sources.model_validate(SOURCES)


@pytest.fixture
def warehouse(tmp_path: Path, sources: Sources) -> Iterator[Warehouse]:
    with Warehouse.open(WarehouseSettings(path=tmp_path / "warehouse.duckdb")) as opened:
        ensure_schema(opened, sources)
        yield opened


class Landing:
    """Writes landing files the way a CRM export or event stream would drop them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def jsonl(self, day: str, source: str, rows: list[dict[str, object]]) -> Path:
        path = self.root / day / f"{source}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
        return path

    def text(self, day: str, name: str, content: str) -> Path:
        path = self.root / day / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        return path


@pytest.fixture
def landing(tmp_path: Path) -> Landing:
    return Landing(tmp_path / "landing")


class ProjectDir:
    """A throwaway analytics project: sources.yml plus segment files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "segments").mkdir(parents=True, exist_ok=True)
        (root / "sources.yml").write_text(yaml.safe_dump(SOURCES))

    def segment(self, name: str, definition: dict[str, object]) -> Path:
        path = self.root / "segments" / f"{name}.yml"
        path.write_text(yaml.safe_dump(definition, sort_keys=False))
        return path

    def model(self, name: str, sql: str) -> Path:
        path = self.root / "models" / f"{name}.sql"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql)
        return path


@pytest.fixture
def project_dir(tmp_path: Path) -> ProjectDir:
    return ProjectDir(tmp_path / "project")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A live webhook receiver on 127.0.0.1 (tests/webhook_receiver.py)."""
    with running_receiver() as state:
        yield state
