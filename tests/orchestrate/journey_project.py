"""A tiny hand-written project and landing zone for journeys, run through real Dagster.

Each test writes a few contacts and events, one contact segment and one journey, then
materialises ranges of days exactly as `segment-pipeline run` (the daily job) or a UI
backfill does, editing the YAML between runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import dagster as dg
import yaml
from sqlglot import exp

from segment_pipeline.orchestrate.definitions import build_definitions
from segment_pipeline.orchestrate.launch import run_partitions
from segment_pipeline.settings import Settings
from segment_pipeline.sql import col
from segment_pipeline.warehouse import Warehouse

from .conftest import materialize_range

FIRST_DAY = date(2026, 3, 2)
SOURCES = {
    "companies": {"columns": {"country": "text"}},
    "contacts": {"columns": {"company_id": "text", "seniority": "text"}},
}
#: (entity_id, entered_on, completes_on) as day numbers.
Enrolment = tuple[str, int, int]


def day(n: int) -> date:
    """Day n of the test (0 = the first partition)."""
    return FIRST_DAY + timedelta(days=n)


def at(n: int, hour: int = 12) -> str:
    """Day n at `hour`:00 UTC, as a landing file spells it."""
    return datetime.combine(day(n), time(hour)).isoformat() + "Z"


@dataclass(frozen=True)
class JourneyProject:
    """A project directory, a landing zone and a warehouse under one tmp folder."""

    root: Path

    @property
    def project(self) -> Path:
        return self.root / "project"

    @property
    def settings(self) -> Settings:
        return Settings(
            project_dir=self.project,
            landing_dir=self.root / "landing",
            warehouse=self.root / "warehouse.duckdb",
            start_date=FIRST_DAY,
        )

    def write(self, relative: str, document: object) -> None:
        path = self.project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(document, sort_keys=False))

    def segment(self, where: dict[str, object], name: str = "trigger") -> None:
        """A contact segment (written again to edit it)."""
        self.write("sources.yml", SOURCES)
        self.write(f"segments/{name}.yml", {"entity": "contact", "where": where})

    def journey(
        self,
        starts_on: int,
        duration_days: int,
        allow_reentry: bool = False,
        trigger: str = "trigger",
        name: str = "welcome",
    ) -> None:
        """The journey (written again to edit it)."""
        self.write(
            f"journeys/{name}.yml",
            {
                "trigger_segment": trigger,
                "starts_on": day(starts_on),
                "duration_days": duration_days,
                "allow_reentry": allow_reentry,
            },
        )

    def land(self, n: int, source: str, rows: list[dict[str, object]]) -> None:
        """Rows landed on day n (`contacts` or `events`)."""
        folder = self.root / "landing" / day(n).isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"{source}.jsonl").open("a") as file:
            file.writelines(json.dumps(row) + "\n" for row in rows)

    def contact(self, n: int, contact_id: str, seniority: str, hour: int = 12) -> None:
        """A contact version from day n at `hour`, landed that day."""
        row = {"contact_id": contact_id, "updated_at": at(n, hour), "seniority": seniority}
        self.land(n, "contacts", [row])

    def event(self, n: int, contact_id: str, name: str, hour: int = 12) -> None:
        """An event of a contact on day n at `hour`, landed that day."""
        event_id = f"{contact_id}-{name}-{n}-{hour}"
        row = {
            "event_id": event_id,
            "contact_id": contact_id,
            "event_name": name,
            "occurred_at": at(n, hour),
            "properties": {},
        }
        self.land(n, "events", [row])

    def definitions(self) -> dg.Definitions:
        return build_definitions(self.settings)

    def run(self, first: int, last: int) -> None:
        """`segment-pipeline run` of days first..last (the daily job, one run)."""
        run_partitions(self.settings, day(first), day(last))

    def backfill(
        self, first: int, last: int, keys: list[dg.AssetKey] | None = None
    ) -> dg.ExecuteInProcessResult:
        """A single-run UI backfill of `keys` (default: every asset) for days first..last."""
        defs = self.definitions()
        selected = keys or list(defs.resolve_asset_graph().get_all_asset_keys())
        return materialize_range(defs, selected, day(first), day(last))

    def enrolments(self, journey: str = "welcome") -> set[Enrolment]:
        """The journey's recorded enrolments as day numbers."""
        return {(entity, entered, ends) for entity, entered, ends, _ in self.rows(journey)}

    def rows(self, journey: str = "welcome") -> list[tuple[str, int, int, str]]:
        """Every enrolment row of the journey, ordered: entity, entered, completes, version."""
        query = (
            exp.select("entity_id", "entered_on", "completes_on", "definition_version")
            .from_("journey_enrollments")
            .where(col("journey").eq(exp.Literal.string(journey)))
            .order_by("entity_id", "entered_on")
        )
        with Warehouse.open(self.settings.warehouse_settings, read_only=True) as warehouse:
            found = warehouse.rows(query)
        return [
            (str(entity), (entered - FIRST_DAY).days, (completes - FIRST_DAY).days, str(version))
            for entity, entered, completes, version in found
        ]
