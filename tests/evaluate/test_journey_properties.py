"""Journey enrolments on random snapshot sequences against a brute-force reading of SPEC 9.

A scenario is a journey, a trigger segment with several definitions (each with its own
member set per day), and a random sequence of operations as a user and the schedule would
cause them: run a range of days (the trigger's snapshots recomputed with the definition in
force, then the journey's days in date order), edit the trigger's definition, or run only
the journey for a range (refused from the first day whose snapshot is stale). The reference
below knows nothing of the implementation's SQL: it replays SPEC 9 on Python sets.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from segment_pipeline.definitions.journeys import Journey
from segment_pipeline.definitions.project import load_project
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.definitions.sources import Sources
from segment_pipeline.errors import JourneyError
from segment_pipeline.evaluate.journeys import (
    ENTRANTS_VIEW,
    enroll_day,
    ensure_entrants_view,
    journey_day,
)
from segment_pipeline.sql import col, lit
from segment_pipeline.warehouse import Warehouse, WarehouseSettings
from segment_pipeline.warehouse.schema import ensure_schema

FIRST_DAY = date(2026, 3, 2)
DAYS = 8
DEFINITIONS = 3
CONTACTS = ("ct1", "ct2", "ct3", "ct4")
SOURCES = {"contacts": {"columns": {"seniority": "text"}}}
#: (entity_id, entered_on, completes_on) as day numbers.
Enrolment = tuple[str, int, int]


def day(n: int) -> date:
    return FIRST_DAY + timedelta(days=n)


@cache
def trigger_definitions() -> tuple[Segment, ...]:
    """The trigger segment `trigger` under DEFINITIONS different definitions (versions)."""
    segments = []
    for number in range(DEFINITIONS):
        root = Path(tempfile.mkdtemp(prefix="journey-defs-"))
        (root / "segments").mkdir()
        (root / "sources.yml").write_text(yaml.safe_dump(SOURCES))
        where = {"attribute": f"seniority = 'level{number}'"}
        (root / "segments" / "trigger.yml").write_text(
            yaml.safe_dump({"entity": "contact", "where": where})
        )
        segments.append(load_project(root).segments["trigger"])
    assert len({segment.version for segment in segments}) == DEFINITIONS
    return tuple(segments)


@dataclass(frozen=True)
class Run:
    """Materialise the trigger's snapshots and the journey for days first..last."""

    first: int
    last: int
    journey_only: bool = False


@dataclass(frozen=True)
class Edit:
    """Put definition `definition` in force."""

    definition: int


@dataclass(frozen=True)
class Scenario:
    starts_on: int
    duration_days: int
    allow_reentry: bool
    #: members[definition][day]: the trigger's snapshot under that definition.
    members: tuple[tuple[frozenset[str], ...], ...]
    operations: tuple[Run | Edit, ...]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    members = tuple(
        tuple(draw(st.frozensets(st.sampled_from(CONTACTS))) for _ in range(DAYS))
        for _ in range(DEFINITIONS)
    )

    @st.composite
    def run(draw_run: st.DrawFn) -> Run:
        first = draw_run(st.integers(0, DAYS - 1))
        last = draw_run(st.integers(first, min(DAYS - 1, first + 4)))
        return Run(first, last, journey_only=draw_run(st.sampled_from([False, False, True])))

    from_the_start = st.builds(Run, st.just(0), st.integers(0, DAYS - 1))
    operation = st.one_of(run(), st.builds(Edit, st.integers(0, DEFINITIONS - 1)), from_the_start)
    return Scenario(
        starts_on=draw(st.integers(0, 3)),
        duration_days=draw(st.integers(1, 4)),
        allow_reentry=draw(st.booleans()),
        members=members,
        operations=tuple(draw(st.lists(operation, min_size=1, max_size=7))),
    )


# --- the reference: SPEC 9 on Python sets ---------------------------------------------------


@dataclass
class Reference:
    """What SPEC 9 says the recorded enrolments are after each operation."""

    scenario: Scenario
    definition: int = 0
    #: The definition each day's stored snapshot was computed with.
    snapshot_of: dict[int, int] = field(default_factory=dict)
    enrolments: set[Enrolment] = field(default_factory=set)

    def blocks(self, entity: str, n: int) -> bool:
        """SPEC 9: an enrolment still running on day n, or any one without re-entry. A day
        re-run after later days were recorded must not overlap them either (README): an
        enrolment that starts before n + duration_days."""
        mine = [(start, end) for key, start, end in self.enrolments if key == entity]
        if not self.scenario.allow_reentry:
            return bool(mine)
        running = any(start <= n < end for start, end in mine)
        later_overlapping = any(n <= start < n + self.scenario.duration_days for start, _ in mine)
        return running or later_overlapping

    def journey(self, n: int) -> bool:
        """Enrol day n; False (and nothing recorded) when its snapshot is not current."""
        if n < self.scenario.starts_on:
            return True
        if self.snapshot_of.get(n) != self.definition:
            return False
        snapshot = self.scenario.members[self.definition][n]
        for entity in sorted(snapshot):
            if not self.blocks(entity, n):
                self.enrolments.add((entity, n, n + self.scenario.duration_days))
        return True

    def apply(self, operation: Run | Edit) -> bool:
        """Apply one operation; False when the journey refused a day."""
        if isinstance(operation, Edit):
            self.definition = operation.definition
            return True
        days = range(operation.first, operation.last + 1)
        if not operation.journey_only:
            self.snapshot_of.update({n: self.definition for n in days})
        return all(self.journey(n) for n in days)


# --- the pipeline ----------------------------------------------------------------------------


def write_snapshot(warehouse: Warehouse, trigger: Segment, n: int, members: frozenset[str]) -> None:
    """The trigger's snapshot rows and run row for day n, as the segment asset writes them."""
    joined_at = datetime.combine(day(0), time())
    rows = [
        exp.select(
            lit(day(n)).as_("snapshot_date"),
            lit(trigger.name).as_("segment"),
            lit("contact").as_("entity_type"),
            lit(member).as_("entity_id"),
            lit(joined_at).as_("joined_at"),
            lit(trigger.version).as_("definition_version"),
            exp.cast(exp.null(), "VARCHAR").as_("company_id"),
            exp.cast(exp.null(), "VARCHAR").as_("persona"),
            exp.cast(exp.null(), "INTEGER").as_("persona_rank"),
        )
        for member in sorted(members)
    ]
    this_day = exp.and_(col("segment").eq(lit(trigger.name)), col("snapshot_date").eq(lit(day(n))))
    empty = exp.select(
        exp.cast(exp.null(), "DATE").as_("snapshot_date"),
        *(exp.cast(exp.null(), "VARCHAR").as_(c) for c in ("segment", "entity_type", "entity_id")),
        exp.cast(exp.null(), "TIMESTAMP").as_("joined_at"),
        *(
            exp.cast(exp.null(), "VARCHAR").as_(c)
            for c in ("definition_version", "company_id", "persona")
        ),
        exp.cast(exp.null(), "INTEGER").as_("persona_rank"),
    ).where(exp.false())
    snapshot = rows[0] if rows else empty
    for row in rows[1:]:
        snapshot = exp.union(snapshot, row, distinct=False)
    warehouse.replace_rows("segment_snapshots", this_day, snapshot)
    run_row = exp.select(
        lit(day(n)).as_("snapshot_date"),
        lit(trigger.name).as_("segment"),
        lit(trigger.version).as_("definition_version"),
        lit(True).as_("refreshed"),
        lit(len(members)).as_("members"),
        lit(datetime(2026, 1, 1)).as_("materialized_at"),
    )
    warehouse.replace_rows("segment_snapshot_runs", this_day, run_row)


def recorded(warehouse: Warehouse, journey: Journey, table: str) -> list[tuple[object, ...]]:
    query = (
        exp.select("entity_id", "entered_on", "completes_on", "definition_version")
        .from_(table)
        .where(col("journey").eq(lit(journey.name)))
        .order_by("entity_id", "entered_on")
    )
    return warehouse.rows(query)


def as_days(rows: list[tuple[object, ...]]) -> set[Enrolment]:
    return {
        (str(entity), (entered - FIRST_DAY).days, (ends - FIRST_DAY).days)  # type: ignore[operator]
        for entity, entered, ends, _ in rows
    }


def run_pipeline(
    warehouse: Warehouse, scenario: Scenario, journey: Journey, definition: int, operation: Run
) -> bool:
    """Run the operation as the daily job does: snapshots first, then the journey's days."""
    trigger = trigger_definitions()[definition]
    days = range(operation.first, operation.last + 1)
    if not operation.journey_only:
        for n in days:
            write_snapshot(warehouse, trigger, n, scenario.members[definition][n])
    try:
        for n in days:
            enroll_day(warehouse, journey, trigger, day(n))
    except JourneyError:
        return False
    return True


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenarios())
def test_enrolments_match_spec_9_on_random_snapshot_sequences(scenario: Scenario) -> None:
    journey = Journey(
        name="welcome",
        trigger_segment="trigger",
        starts_on=day(scenario.starts_on),
        duration_days=scenario.duration_days,
        allow_reentry=scenario.allow_reentry,
        file=Path("journeys/welcome.yml"),
    )
    reference = Reference(scenario)
    definition = 0
    with tempfile.TemporaryDirectory() as folder:
        settings_ = WarehouseSettings(path=Path(folder) / "warehouse.duckdb")
        with Warehouse.open(settings_) as warehouse:
            ensure_schema(warehouse, Sources.model_validate(SOURCES))
            ensure_entrants_view(warehouse)
            before: list[tuple[object, ...]] = []
            for operation in scenario.operations:
                expected_ok = reference.apply(operation)
                if isinstance(operation, Edit):
                    definition = operation.definition
                    continue
                ok = run_pipeline(warehouse, scenario, journey, definition, operation)
                assert ok == expected_ok, operation
                rows = recorded(warehouse, journey, "journey_enrollments")
                assert as_days(rows) == reference.enrolments, operation
                # Facts: every row recorded before is still there, unchanged.
                assert set(before) <= set(rows), operation
                assert len(rows) == len(set(rows)), "an enrolment recorded twice"
                assert recorded(warehouse, journey, ENTRANTS_VIEW) == rows
                before = rows
            for n in range(DAYS):
                counts = journey_day(warehouse, journey, day(n))
                entered = reference.enrolments
                assert counts.entrants == sum(1 for _, s, _ in entered if s == n)
                assert counts.active == sum(1 for _, s, e in entered if s <= n < e)
                assert counts.completed == sum(1 for _, _, e in entered if e == n)
