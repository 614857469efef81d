"""The seed rules of SPEC 5 and other hand-made time cases, against the model and the pipeline.

Each case is a small history plus a list of steps; a step is a definition (set of segments)
in force, a snapshot date and the members expected with their join times. Steps of one case
run in order on the same warehouse, so a later step is a definition change.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from .model import (
    All,
    Attribute,
    Compare,
    Count,
    DateWindow,
    Event,
    EventCondition,
    History,
    InSegment,
    LastDays,
    MemberRow,
    Not,
    Segment,
    Version,
    model_members,
)
from .pipeline_adapter import Evaluate, Ingest, run_pipeline
from .strategies import write_landing, write_project

DAYS = tuple(date(2026, 3, 2) + timedelta(days=n) for n in range(5))


def day(n: int) -> date:
    return DAYS[0] + timedelta(days=n)


def at(n: int, hour: int = 0, minute: int = 0) -> datetime:
    """Day n (0 = the first landing day) at hour:minute UTC."""
    return datetime.combine(day(n), time(hour, minute))


def company(key: str, updated_at: datetime, landed: int | None = None, **attributes) -> Version:
    deleted = attributes.pop("deleted", False)
    landed_on = updated_at.date() if landed is None else day(landed)
    return Version(key, updated_at, landed_on, deleted, attributes)


contact = company


def event(
    event_id: str, name: str, occurred_at: datetime, contact_id: str = "ct1", **extra
) -> Event:
    landed = extra.pop("landed", None)
    landed_on = occurred_at.date() if landed is None else day(landed)
    return Event(event_id, contact_id, name, occurred_at, landed_on, **extra)


@dataclass(frozen=True)
class Step:
    segments: tuple[Segment, ...]
    snapshot: date
    expected: dict[tuple[str, str], datetime]  # (segment, entity_id) -> joined_at

    def rows(self) -> set[MemberRow]:
        entity = {segment.name: segment.entity for segment in self.segments}
        return {(name, entity[name], key, joined) for (name, key), joined in self.expected.items()}


@dataclass(frozen=True)
class Case:
    name: str
    history: History
    steps: tuple[Step, ...]


def on_event(name: str, **options) -> Segment:
    return Segment("s0", "company", EventCondition(name, **options))


CO1 = (company("co1", at(-1, 12), landed=0, country="GB"),)
CT1 = (contact("ct1", at(-1, 12), landed=0, company_id="co1"),)

CASES = [
    # Rule 1: A1 at T1, A2 at T2; on A1 the join time is T1, changed to A2 it is T2.
    Case(
        "seed_1_event_change",
        History(CO1, CT1, (event("e1", "viewed", at(1, 9)), event("e2", "clicked", at(2, 12)))),
        (
            Step((on_event("viewed"),), day(3), {("s0", "co1"): at(1, 9)}),
            Step((on_event("clicked"),), day(3), {("s0", "co1"): at(2, 12)}),
        ),
    ),
    # Rule 2: A1 at T2 and T4; "A1 within [T1, T2]" joins at T2, changed to [T3, T4] at T4.
    Case(
        "seed_2_window_change",
        History(CO1, CT1, (event("e1", "viewed", at(1, 12)), event("e2", "viewed", at(3, 12)))),
        (
            Step(
                (on_event("viewed", within=DateWindow(day(0), day(1))),),
                day(3),
                {("s0", "co1"): at(1, 12)},
            ),
            Step(
                (on_event("viewed", within=DateWindow(day(2), day(3))),),
                day(3),
                {("s0", "co1"): at(3, 12)},
            ),
        ),
    ),
    # Rule 3: done twice qualifies for "at least 2"; changed to "at least 3", nobody is in.
    Case(
        "seed_3_frequency_change",
        History(CO1, CT1, (event("e1", "viewed", at(0, 9)), event("e2", "viewed", at(1, 9)))),
        (
            Step(
                (on_event("viewed", count=Count("at_least", 2)),), day(2), {("s0", "co1"): at(1, 9)}
            ),
            Step((on_event("viewed", count=Count("at_least", 3)),), day(2), {}),
        ),
    ),
    # Rule 4: country GB from T1, US from T2; a segment on country = 'US' joins at T2.
    Case(
        "seed_4_attribute_change",
        History(
            (company("co1", at(0, 9), country="GB"), company("co1", at(1, 12), country="US")),
        ),
        (
            Step(
                (Segment("s0", "company", Attribute(Compare("country", "=", "US"))),),
                day(3),
                {("s0", "co1"): at(1, 12)},
            ),
        ),
    ),
    # An event ages out of a last_days window: "not viewed in the last day" and "at most 0"
    # join exactly when the event stops counting (occurred_at + 1 day).
    Case(
        "ageing_out",
        History(CO1, CT1, (event("e1", "viewed", at(1, 12)),)),
        (
            Step(
                (
                    Segment("s0", "company", Not(EventCondition("viewed", within=LastDays(1)))),
                    Segment(
                        "s1",
                        "company",
                        EventCondition("viewed", within=LastDays(1), count=Count("at_most", 0)),
                    ),
                ),
                day(3),
                {("s0", "co1"): at(2, 12), ("s1", "co1"): at(2, 12)},
            ),
        ),
    ),
    # An event exactly N days before as_of still counts (the window is inclusive).
    Case(
        "window_edge_at_as_of",
        History(CO1, CT1, (event("e1", "viewed", at(1)),)),
        (
            Step((on_event("viewed", within=LastDays(2)),), day(2), {("s0", "co1"): at(1)}),
            Step((on_event("viewed", within=LastDays(2)),), day(3), {}),
        ),
    ),
    # A date window is [from 00:00, to + 1 day 00:00): an event at its opening midnight
    # counts, one at the midnight after its last day does not.
    Case(
        "date_window_edges",
        History(
            CO1,
            CT1,
            (
                event("e1", "viewed", at(1)),
                event("e2", "clicked", at(3)),
                event("e3", "viewed", at(3)),
            ),
        ),
        (
            Step(
                (
                    on_event("viewed", within=DateWindow(day(1), day(2))),
                    Segment(
                        "s1",
                        "company",
                        EventCondition("clicked", within=DateWindow(day(1), day(2))),
                    ),
                    Segment(
                        "s2",
                        "company",
                        EventCondition(
                            "viewed", within=DateWindow(day(1), day(3)), count=Count("exactly", 2)
                        ),
                    ),
                ),
                day(3),
                {("s0", "co1"): at(1), ("s2", "co1"): at(3)},
            ),
        ),
    ),
    # Deleted, then re-created: the stretch starts again at the re-creation.
    Case(
        "deletion_and_recreation",
        History(
            (
                company("co1", at(0, 9), country="GB", employee_count=1000),
                company("co1", at(1, 12), deleted=True),
                company("co1", at(2, 9), country="GB", employee_count=1000),
            ),
        ),
        (
            Step(
                (
                    Segment("s0", "company", All(())),
                    Segment("s1", "company", Attribute(Compare("employee_count", ">=", 500))),
                ),
                day(3),
                {("s0", "co1"): at(2, 9), ("s1", "co1"): at(2, 9)},
            ),
            Step((Segment("s0", "company", All(())),), day(0), {("s0", "co1"): at(0, 9)}),
        ),
    ),
    # A late row (landed two days after its updated_at) rewrites the past from its landing on.
    Case(
        "late_row",
        History(
            (
                company("co1", at(0, 9), country="GB"),
                company("co1", at(1, 9), landed=3, country="US"),
            ),
        ),
        (
            Step(
                (Segment("s0", "company", Attribute(Compare("country", "=", "GB"))),),
                day(2),
                {("s0", "co1"): at(0, 9)},
            ),
            Step((Segment("s0", "company", Attribute(Compare("country", "=", "GB"))),), day(3), {}),
            Step(
                (Segment("s0", "company", Attribute(Compare("country", "=", "US"))),),
                day(3),
                {("s0", "co1"): at(1, 9)},
            ),
        ),
    ),
    # A future-dated row is invisible until as_of passes its updated_at.
    Case(
        "future_dated_row",
        History(
            (
                company("co1", at(0, 9), country="GB"),
                company("co1", at(3, 12), landed=1, country="US"),
            ),
        ),
        (
            Step(
                (Segment("s0", "company", Attribute(Compare("country", "=", "GB"))),),
                day(2),
                {("s0", "co1"): at(0, 9)},
            ),
            Step(
                (Segment("s0", "company", Attribute(Compare("country", "=", "US"))),),
                day(3),
                {("s0", "co1"): at(3, 12)},
            ),
        ),
    ),
    # Equal updated_at: the later landing date wins, then the later row of the file.
    Case(
        "equal_updated_at",
        History(
            (
                company("co1", at(0, 9), landed=1, country="US"),
                company("co1", at(0, 9), landed=0, country="GB"),
                company("co2", at(0, 9), country="GB"),
                company("co2", at(0, 9), country="US"),
            ),
        ),
        (
            Step(
                (Segment("s0", "company", Attribute(Compare("country", "=", "US"))),),
                day(2),
                {("s0", "co1"): at(0, 9), ("s0", "co2"): at(0, 9)},
            ),
            Step(
                (Segment("s0", "company", Attribute(Compare("country", "=", "GB"))),),
                day(0),
                {("s0", "co1"): at(0, 9)},
            ),
        ),
    ),
    # An event without company_id belongs to the contact's company as of occurred_at; a
    # contact segment on a company segment follows the contact's company at each instant.
    Case(
        "attribution_and_contact_on_company",
        History(
            (company("co1", at(0), country="GB"), company("co2", at(0), country="US")),
            (contact("ct1", at(0), company_id="co1"), contact("ct1", at(1, 12), company_id="co2")),
            (event("e1", "viewed", at(1, 9)), event("e2", "viewed", at(2, 9))),
        ),
        (
            Step(
                (
                    on_event("viewed"),
                    Segment("s1", "contact", InSegment("s0")),
                ),
                day(3),
                {("s0", "co1"): at(1, 9), ("s0", "co2"): at(2, 9), ("s1", "ct1"): at(2, 9)},
            ),
        ),
    ),
    # A late contact row moves the contact's later events to another company: the day after
    # (evaluated from the previous day's state), the old company loses the event.
    Case(
        "late_contact_move_takes_events_away",
        History(
            (company("co1", at(-1, 12), landed=0), company("co2", at(-1, 12), landed=0)),
            (
                contact("ct1", at(-1, 12), landed=0, company_id="co1"),
                contact("ct1", at(1, 12), landed=2, company_id="co2"),
            ),
            (event("e1", "viewed", at(1, 15)),),
        ),
        (
            Step((on_event("viewed"),), day(1), {("s0", "co1"): at(1, 15)}),
            Step((on_event("viewed"),), day(2), {("s0", "co2"): at(1, 15)}),
        ),
    ),
    # A repeated event_id is the same event: the first landed copy wins.
    Case(
        "first_landed_copy_wins",
        History(
            CO1,
            CT1,
            (
                event("e1", "viewed", at(0, 9), landed=1, properties={"plan": "pro"}),
                event("e1", "viewed", at(0, 9), landed=0, properties={"plan": "free"}),
            ),
        ),
        (
            Step(
                (on_event("viewed", where=Compare("properties.plan", "=", "free")),),
                day(2),
                {("s0", "co1"): at(0, 9)},
            ),
            Step((on_event("viewed", where=Compare("properties.plan", "=", "pro")),), day(2), {}),
            Step(
                (on_event("viewed", count=Count("exactly", 1)),), day(2), {("s0", "co1"): at(0, 9)}
            ),
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_model_on_hand_made_cases(case: Case) -> None:
    for step in case.steps:
        assert model_members(case.history, step.segments, step.snapshot) == step.rows()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_pipeline_on_hand_made_cases(case: Case) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        write_landing(root / "landing", DAYS, case.history)
        steps: list[Ingest | Evaluate] = [Ingest(d) for d in DAYS]
        for number, step in enumerate(case.steps):
            steps.append(
                Evaluate(step.snapshot, write_project(root / f"project{number}", step.segments))
            )
        results = run_pipeline(root / "warehouse.duckdb", root / "landing", steps)
    for step, actual in zip(case.steps, results, strict=True):
        assert actual == step.rows(), f"snapshot {step.snapshot}, segments {step.segments}"
