"""Property test: picked contacts, their join times, deltas, removal reasons and history
equal the brute-force persona model's (`persona_model.py`), day by day and across a
definition change, on the incremental path (each day evaluated as it lands, from the
previous day's state) and on the full-history path (all days landed, no state kept).

Histories are tiny and dense: contacts change titles and seniority, move between
companies, become former employees, are deleted and re-created, and arrive late.
`PERSONA_EXAMPLES=200` runs more examples than the suite's few.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from .model import (
    Attribute,
    Compare,
    History,
    In,
    IsNull,
    NotP,
    Or,
    Predicate,
    Segment,
    Version,
)
from .persona_model import Persona, PersonaModel, Personas, Pick, Removal, removals
from .strategies import FIRST_DAY, instants, landing_day, write_landing
from .test_membership_properties import PIPELINE_SETTINGS

SEGMENT = "accounts"
SOURCES_YML = {
    "companies": {"columns": {"employee_count": "integer"}},
    "contacts": {
        "columns": {
            "company_id": "text",
            "title": "text",
            "seniority": "text",
            "is_former_employee": "boolean",
        }
    },
}
COMPANY_PREDICATES: list[Predicate] = [
    Compare("employee_count", ">=", 500),
    Compare("employee_count", ">=", 500),
    Compare("employee_count", ">=", 1000),
    IsNull("employee_count", negated=True),
]
PERSONA_PREDICATES: list[Predicate] = [
    Compare("seniority", "=", "vp"),
    In("seniority", ("vp", "cxo")),
    Compare("title", "=", "growth"),
    Or(Compare("title", "=", "growth"), Compare("seniority", "=", "cxo")),
    IsNull("title", negated=True),
    Compare("seniority", "<>", "ic"),
    NotP(Compare("title", "=", "office")),
]


@dataclass(frozen=True)
class Definition:
    segment: Segment
    personas: Personas


@dataclass(frozen=True)
class PersonaScenario:
    days: tuple[date, ...]
    history: History
    #: The definition in force from each day on: `before` until `changed_on`, then `after`.
    before: Definition
    after: Definition
    changed_on: date

    def definition(self, day: date) -> Definition:
        return self.after if day >= self.changed_on else self.before


@st.composite
def definitions(draw: st.DrawFn) -> Definition:
    where = draw(st.sampled_from(COMPANY_PREDICATES))
    chosen = draw(st.lists(st.sampled_from(PERSONA_PREDICATES), min_size=1, max_size=3))
    personas = tuple(
        Persona(f"p{rank}", predicate, draw(st.sampled_from([None, None, 1, 2])))
        for rank, predicate in enumerate(chosen, start=1)
    )
    limit = draw(st.sampled_from([None, 1, 2, 3]))
    return Definition(Segment(SEGMENT, "company", Attribute(where)), Personas(personas, limit))


CONTACT_CHANGES = ("title", "seniority", "move", "former", "delete", "recreate", "no_company")


@st.composite
def records(
    draw: st.DrawFn, days: tuple[date, ...], key: str, first: dict[str, object], changes: object
) -> list[Version]:
    """A record from early on (or arriving later), then a few changes at random instants;
    some rows land late, some share an instant."""
    moments = instants(days)
    start = draw(st.sampled_from(moments[: len(moments) // 2]))
    late = draw(st.booleans()) and draw(st.booleans())
    landed = draw(landing_day(days, start)) if late else max(start.date(), days[0])
    rows = [Version(key, start, landed, attributes=first)]
    attributes = dict(first)
    for _ in range(draw(st.integers(0, 3))):
        updated_at = draw(st.sampled_from([m for m in moments if m >= start]))
        deleted, attributes = draw(changes(attributes))  # type: ignore[operator]
        landed_on = draw(landing_day(days, updated_at))
        rows.append(Version(key, updated_at, landed_on, deleted, dict(attributes)))
    return rows


@st.composite
def persona_scenarios(draw: st.DrawFn) -> PersonaScenario:
    days = tuple(FIRST_DAY + timedelta(days=n) for n in range(draw(st.integers(2, 4))))
    companies = [f"co{n}" for n in range(1, draw(st.integers(2, 3)) + 1)]
    sizes = st.sampled_from([None, 50, 500, 1000, 1000])

    @st.composite
    def company_change(draw: st.DrawFn, now: dict[str, object]) -> tuple[bool, dict]:
        return draw(st.booleans()) and draw(st.booleans()), {"employee_count": draw(sizes)}

    @st.composite
    def contact_change(draw: st.DrawFn, now: dict[str, object]) -> tuple[bool, dict]:
        change = draw(st.sampled_from(CONTACT_CHANGES))
        new = dict(now)
        if change == "title":
            new["title"] = draw(st.sampled_from([None, "growth", "office"]))
        elif change == "seniority":
            new["seniority"] = draw(st.sampled_from([None, "vp", "cxo", "ic"]))
        elif change == "move":
            new["company_id"] = draw(st.sampled_from(companies))
        elif change == "former":
            new["is_former_employee"] = draw(st.sampled_from([True, False, None]))
        elif change == "no_company":
            new["company_id"] = None
        return change == "delete", new

    rows: list[Version] = []
    for company in companies:
        first = {"employee_count": draw(st.sampled_from([500, 1000, 1000, 50]))}
        rows += draw(records(days, company, first, company_change))
    company_rows = rows
    rows = []
    for n in range(1, draw(st.integers(3, 8)) + 1):
        first = {
            "company_id": draw(st.sampled_from(companies)),
            "title": draw(st.sampled_from([None, "growth", "growth", "office"])),
            "seniority": draw(st.sampled_from([None, "vp", "cxo", "ic"])),
            "is_former_employee": draw(st.sampled_from([None, False])),
        }
        rows += draw(records(days, f"ct{n}", first, contact_change))
    history = History(
        companies=tuple(draw(st.permutations(company_rows))),
        contacts=tuple(draw(st.permutations(rows))),
    )
    before = draw(definitions())
    after = draw(definitions())
    changed_on = draw(st.sampled_from(days[1:]))
    return PersonaScenario(days, history, before, after, changed_on)


def definition_yaml(definition: Definition) -> dict[str, object]:
    personas: dict[str, object] = {
        "list": [
            {
                "name": persona.name,
                "where": persona.where.sql(),
                **({"max_contacts": persona.max_contacts} if persona.max_contacts else {}),
            }
            for persona in definition.personas.personas
        ]
    }
    if definition.personas.max_contacts_per_company is not None:
        personas["max_contacts_per_company"] = definition.personas.max_contacts_per_company
    assert isinstance(definition.segment.condition, Attribute)
    return {
        "name": SEGMENT,
        "entity": "company",
        "where": {"attribute": definition.segment.condition.predicate.sql()},
        "personas": personas,
    }


def write_project(root: Path, definition: Definition) -> Path:
    (root / "segments").mkdir(parents=True)
    (root / "sources.yml").write_text(yaml.safe_dump(SOURCES_YML, sort_keys=False))
    (root / "segments" / f"{SEGMENT}.yml").write_text(
        yaml.safe_dump(definition_yaml(definition), sort_keys=False)
    )
    return root


def describe(scenario: PersonaScenario) -> None:
    for label, definition in (("before", scenario.before), ("after", scenario.after)):
        note(f"{label}:\n{yaml.safe_dump(definition_yaml(definition), sort_keys=False)}")
    note(f"definition changed on {scenario.changed_on}")


# -- running the pipeline --------------------------------------------------------------


@dataclass
class DayResult:
    companies: dict[str, datetime]
    picks: dict[tuple[str, str], Pick]
    added: dict[tuple[str, str], Pick]
    removed: dict[tuple[str, str], tuple[str, str, str, datetime]]


def _instant(value: object) -> datetime:
    assert isinstance(value, datetime)
    return value


def day_result(connection: object, day: date) -> DayResult:
    snapshot = connection.execute(  # type: ignore[attr-defined]
        "select entity_type, entity_id, company_id, persona, persona_rank, joined_at "
        "from segment_snapshots where snapshot_date = ?",
        [day],
    ).fetchall()
    deltas = connection.execute(  # type: ignore[attr-defined]
        "select entity_id, company_id, change, persona, persona_rank, joined_at, reason, "
        "reason_detail from segment_deltas where snapshot_date = ? and entity_type = 'contact'",
        [day],
    ).fetchall()
    return DayResult(
        companies={row[1]: _instant(row[5]) for row in snapshot if row[0] == "company"},
        picks={
            (row[1], row[2]): Pick(row[1], row[2], row[3], row[4], _instant(row[5]))
            for row in snapshot
            if row[0] == "contact"
        },
        added={
            (row[0], row[1]): Pick(row[0], row[1], row[3], row[4], _instant(row[5]))
            for row in deltas
            if row[2] == "added"
        },
        removed={
            (row[0], row[1]): (row[3], row[6], row[7], _instant(row[5]))
            for row in deltas
            if row[2] == "removed"
        },
    )


HISTORY = (
    "select entity_id, added_on, removed_on, removal_reason, joined_at from segment_history "
    "where entity_type = 'contact' order by all"
)


def run(scenario: PersonaScenario, incremental: bool) -> tuple[list[DayResult], list[tuple]]:
    """Materialise every day in order with the definition in force; day results and the
    contacts' history at the end.

    Incremental: each day is ingested, then evaluated from the previous day's state. Full
    history: every day is ingested first, and no state is kept between days.
    """
    from segment_pipeline.definitions.project import load_project
    from segment_pipeline.evaluate.daily import materialize_day
    from segment_pipeline.evaluate.history import rebuild_history
    from segment_pipeline.evaluate.states import STATE_RUNS
    from segment_pipeline.ingest.landing import ingest_landing_date
    from segment_pipeline.warehouse import Warehouse, WarehouseSettings
    from segment_pipeline.warehouse.schema import ensure_schema

    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        landing = root / "landing"
        write_landing(landing, scenario.days, scenario.history)
        projects = {
            "before": load_project(write_project(root / "before", scenario.before)),
            "after": load_project(write_project(root / "after", scenario.after)),
        }
        sources = projects["before"].sources
        results = []
        with Warehouse.open(WarehouseSettings(path=root / "w.duckdb")) as warehouse:
            ensure_schema(warehouse, sources)
            if not incremental:
                for day in scenario.days:
                    ingest_landing_date(warehouse, sources, landing, day)
            for day in scenario.days:
                if incremental:
                    ingest_landing_date(warehouse, sources, landing, day)
                elif warehouse.table_exists(STATE_RUNS):
                    warehouse.connection.execute(f"delete from {STATE_RUNS}")
                project = projects["after" if day >= scenario.changed_on else "before"]
                coverage = materialize_day(warehouse, project, day, [SEGMENT])[SEGMENT].coverage
                assert coverage is not None
                kept = coverage.companies - coverage.repicked
                event(f"{'incremental' if incremental else 'full'}: companies kept picks: {kept}")
                if not incremental:
                    assert kept == 0, "the full-history path picks at every company"
                rebuild_history(warehouse, SEGMENT, since=day)
                results.append(day_result(warehouse.connection, day))
            day_by_day = warehouse.connection.sql(HISTORY).fetchall()
            rebuild_history(warehouse, SEGMENT)
            assert warehouse.connection.sql(HISTORY).fetchall() == day_by_day
    return results, day_by_day


# -- checking against the model --------------------------------------------------------

_DISPLACED = re.compile(r"displaced by contact (\S+) \((\S+)\) at company (\S+): ")


def detail_fits(removal: Removal, detail: str) -> bool:
    """Whether the pipeline's reason_detail says what the model's removal is about."""
    company = removal.company
    if removal.reason == "company_removed":
        return detail == f"company {company} left the segment ({removal.why})"
    if removal.reason == "left_company":
        assert isinstance(removal.why, str)
        expected = {
            "deleted": "the contact was deleted",
            "no_company": f"the contact left company {company} and has no company now",
            "former": f"the contact is a former employee of company {company}",
        }.get(removal.why)
        if expected is None:
            moved_to = removal.why.removeprefix("moved:")
            expected = f"the contact moved from company {company} to company {moved_to}"
        return detail == expected
    if removal.reason == "persona_mismatch":
        return detail.startswith(f"no persona matches any more (was {removal.why}): ")
    found = _DISPLACED.match(detail)
    assert isinstance(removal.why, frozenset)
    return found is not None and found[1] in removal.why and found[3] == company


def check(scenario: PersonaScenario, results: list[DayResult], history: list[tuple]) -> None:
    earlier: dict[tuple[str, str], Pick] = {}
    stretches: list[list[object]] = []
    open_stretch: dict[str, list[object]] = {}
    for day, actual in zip(scenario.days, results, strict=True):
        definition = scenario.definition(day)
        model = PersonaModel(scenario.history, definition.segment, definition.personas, day)
        where = f"snapshot {day}"
        assert actual.companies == model.companies, where
        picks = model.picks()
        assert actual.picks == picks, f"{where}: picks"
        assert actual.added == {key: picks[key] for key in set(picks) - set(earlier)}, (
            f"{where}: added contacts"
        )
        # Drawn alike, the two definitions are one version: no change of definition.
        same = definition_yaml(scenario.before) == definition_yaml(scenario.after)
        changed = day == scenario.changed_on and not same
        expected = removals(model, earlier, version_changed=changed)
        assert set(actual.removed) == set(expected), f"{where}: removed contacts"
        for key, removal in expected.items():
            event(f"removed: {removal.reason}")
            persona, reason, detail, joined_at = actual.removed[key]
            assert (persona, joined_at) == (earlier[key].persona, earlier[key].joined_at), key
            assert reason == removal.reason, f"{where}: {removal} got {reason}: {detail}"
            assert detail_fits(removal, detail), f"{where}: {removal} got {detail!r}"
        for contact, company in sorted(expected):
            stretch = open_stretch.pop(contact)
            stretch[2:4] = [day, expected[(contact, company)].reason]
        for contact, company in sorted(set(picks) - set(earlier)):
            stretch = [contact, day, None, None, picks[(contact, company)].joined_at]
            stretches.append(stretch)
            open_stretch[contact] = stretch
        event(f"picked contacts on a day: {min(len(picks), 3)}+")
        earlier = picks
    assert set(history) == {tuple(stretch) for stretch in stretches}
    assert len(history) == len(stretches)


@settings(PIPELINE_SETTINGS, max_examples=int(os.environ.get("PERSONA_EXAMPLES", "12")))
@given(scenario=persona_scenarios())
def test_picked_contacts_match_the_model_on_both_paths(scenario: PersonaScenario) -> None:
    describe(scenario)
    incremental = run(scenario, incremental=True)
    check(scenario, *incremental)
    full = run(scenario, incremental=False)
    check(scenario, *full)
