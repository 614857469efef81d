"""Hypothesis strategies for random histories and segment definitions, and their writers.

Universes are tiny (1-3 companies, 1-5 contacts, 0-15 events, 3-6 landing days) and every
timestamp comes from a small set of instants around the landing days, so collisions,
midnights, late rows, future-dated rows and window edges happen all the time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import yaml
from hypothesis import strategies as st

from .model import (
    SCORE,
    SCORE_MODEL,
    SCORE_SQL,
    Aggregate,
    All,
    And,
    AnyOf,
    Attribute,
    AttributeAge,
    Between,
    CompanyAttribute,
    Compare,
    Condition,
    Count,
    DateWindow,
    Event,
    EventCondition,
    EventSequence,
    FirstEvent,
    History,
    In,
    InSegment,
    IsNull,
    LastDays,
    LastEvent,
    Like,
    ListContains,
    Not,
    NotP,
    Or,
    Predicate,
    Range,
    Regularly,
    Restarted,
    Segment,
    Split,
    Version,
    uses_score,
)

FIRST_DAY = date(2026, 3, 2)
EVENT_NAMES = ("viewed", "clicked")
#: Times of day the data uses: midnights, the day, and the last second of a day.
TIMES_OF_DAY = (time(0, 0), time(9, 0), time(12, 0), time(23, 59, 59))
#: Times of day for window-edge scenarios: mostly the edges of days.
EDGE_TIMES_OF_DAY = (time(0, 0), time(23, 59, 59), time(0, 0), time(12, 0))
#: How a timestamp is spelled in a landing file; all mean the same UTC instant.
SPELLINGS = ("Z", "+00:00", "", "+02:00")
#: How an empty event company_id is spelled.
EMPTY_COMPANY = ("", "absent", "null")

SOURCES_YML = {
    "companies": {
        "columns": {"employee_count": "integer", "country": "text", "tech_stack": "list<text>"}
    },
    "contacts": {
        "columns": {
            "company_id": "text",
            "seniority": "text",
            "signed_up_at": "timestamp",
            "interests": "list<text>",
        }
    },
}
#: List attribute values: missing, empty, one or more texts, a repeated text.
TECH_STACKS = (None, (), ("stripe",), ("hubspot", "stripe"), ("hubspot",), ("segment", "segment"))
INTERESTS = (None, (), ("ai",), ("ai", "data"), ("data",))


@dataclass(frozen=True)
class Scenario:
    """Landing days, what lands on them, and the segments evaluated."""

    days: tuple[date, ...]
    history: History
    segments: tuple[Segment, ...]


# --------------------------------------------------------------------------------------
# Histories
# --------------------------------------------------------------------------------------


def instants(days: Sequence[date], times_of_day: Sequence[time] = TIMES_OF_DAY) -> list[datetime]:
    """Candidate data times: from the day before the first landing day to the day after."""
    first = days[0] - timedelta(days=1)
    return [
        datetime.combine(first + timedelta(days=offset), moment)
        for offset in range(len(days) + 2)
        for moment in times_of_day
    ]


@st.composite
def landing_day(draw: st.DrawFn, days: Sequence[date], instant: datetime) -> date:
    """Mostly the instant's own day (clamped), else any day: late and future-dated rows."""
    natural = min(max(instant.date(), days[0]), days[-1])
    return draw(st.one_of(st.just(natural), st.sampled_from(days)))


@st.composite
def versions(
    draw: st.DrawFn,
    days: Sequence[date],
    keys: Sequence[str],
    attributes: dict[str, st.SearchStrategy[object]],
) -> list[Version]:
    """1-3 versions per key, some sharing updated_at, some deletions; file order shuffled."""
    moments = instants(days)
    rows: list[Version] = []
    for key in keys:
        previous: datetime | None = None
        for _ in range(draw(st.integers(1, 3))):
            collide = previous is not None and draw(st.booleans())
            updated_at = previous if collide and previous else draw(st.sampled_from(moments))
            previous = updated_at
            rows.append(
                Version(
                    key=key,
                    updated_at=updated_at,
                    landed_on=draw(landing_day(days, updated_at)),
                    is_deleted=draw(st.sampled_from([False, False, False, True])),
                    attributes={name: draw(values) for name, values in attributes.items()},
                    spelling=draw(st.sampled_from(SPELLINGS)),
                )
            )
    return draw(st.permutations(rows))


@st.composite
def properties(draw: st.DrawFn) -> dict[str, object]:
    found: dict[str, object] = {}
    plan = draw(st.sampled_from([None, "pro", "free"]))
    # A number, a number as text, or text that is no number (a comparison with a number
    # then reads it as missing: the failed cast is NULL).
    seats = draw(st.sampled_from([None, 3, 1, 5, "3", "many", "n/a"]))
    if plan is not None:
        found["plan"] = plan
    if seats is not None:
        found["seats"] = seats
    # What aggregates read: numbers, a number as text, text that fails to cast.
    amount = draw(st.sampled_from([None, 10, 25, "7", 7, "n/a", -5]))
    if amount is not None:
        found["amount"] = amount
    # A nested object (or a plain value where a path expects one) for nested paths.
    account = draw(
        st.sampled_from(
            [None, {"tier": "pro"}, {"tier": "free", "seats": 3}, {"seats": "lots"}, "pro"]
        )
    )
    if account is not None:
        found["account"] = account
    return found


@st.composite
def events(
    draw: st.DrawFn,
    days: Sequence[date],
    companies: Sequence[str],
    contacts: Sequence[str],
    moments: Sequence[datetime] = (),
) -> list[Event]:
    """0-15 events; some are later copies of an earlier event_id (same event, maybe other
    properties: the first landed copy must win)."""
    moments = moments or instants(days)
    rows: list[Event] = []
    for number in range(draw(st.integers(0, 15))):
        if rows and draw(st.booleans()):
            original = draw(st.sampled_from(rows))
            rows.append(
                Event(
                    event_id=original.event_id,
                    contact_id=original.contact_id,
                    event_name=original.event_name,
                    occurred_at=original.occurred_at,
                    landed_on=draw(st.sampled_from(days)),
                    company_id=original.company_id,
                    properties=draw(st.one_of(st.just(original.properties), properties())),
                    spelling=draw(st.sampled_from(SPELLINGS)),
                    empty_company=original.empty_company,
                )
            )
            continue
        occurred_at = draw(st.sampled_from(moments))
        rows.append(
            Event(
                event_id=f"ev{number}",
                contact_id=draw(st.sampled_from(contacts)),
                event_name=draw(st.sampled_from(EVENT_NAMES)),
                occurred_at=occurred_at,
                landed_on=draw(landing_day(days, occurred_at)),
                company_id=draw(st.sampled_from([None, *companies])),
                properties=draw(properties()),
                spelling=draw(st.sampled_from(SPELLINGS)),
                empty_company=draw(st.sampled_from(EMPTY_COMPANY)),
            )
        )
    return rows


@st.composite
def histories(draw: st.DrawFn) -> tuple[tuple[date, ...], History]:
    days = tuple(FIRST_DAY + timedelta(days=n) for n in range(draw(st.integers(3, 6))))
    companies = [f"co{n}" for n in range(1, draw(st.integers(1, 3)) + 1)]
    contacts = [f"ct{n}" for n in range(1, draw(st.integers(1, 5)) + 1)]
    company_attributes: dict[str, st.SearchStrategy[object]] = {
        "employee_count": st.sampled_from([None, 50, 500, 1000]),
        "country": st.sampled_from([None, "GB", "US", "FR"]),
        "tech_stack": st.sampled_from(TECH_STACKS),
    }
    contact_attributes: dict[str, st.SearchStrategy[object]] = {
        "company_id": st.sampled_from([*companies, None]),
        "seniority": st.sampled_from([None, "vp", "cxo", "ic"]),
        "signed_up_at": st.one_of(st.none(), st.sampled_from(instants(days))),
        "interests": st.sampled_from(INTERESTS),
    }
    history = History(
        companies=tuple(draw(versions(days, companies, company_attributes))),
        contacts=tuple(draw(versions(days, contacts, contact_attributes))),
        events=tuple(draw(events(days, companies, contacts))),
    )
    return days, history


# --------------------------------------------------------------------------------------
# Definitions
# --------------------------------------------------------------------------------------

_COMPANY_PREDICATES: list[Predicate] = [
    Compare("employee_count", ">=", 500),
    Compare("country", "=", "GB"),
    In("country", ("GB", "US")),
    IsNull("country"),
    IsNull("employee_count", negated=True),
    Compare("employee_count", "<", 500),
    Compare("country", "<>", "GB"),
    Between("employee_count", 100, 500),
    NotP(Compare("country", "=", "US")),
    And(Compare("employee_count", ">=", 500), In("country", ("GB", "US"))),
    Or(Compare("employee_count", "=", 50), Compare("country", "=", "FR")),
    ListContains("tech_stack", ("stripe",)),
    NotP(ListContains("tech_stack", ("stripe",))),
    ListContains("tech_stack", ("hubspot", "segment")),
    IsNull("tech_stack"),
    And(ListContains("tech_stack", ("hubspot",)), Compare("country", "=", "GB")),
    Or(NotP(ListContains("tech_stack", ("segment",))), Compare("employee_count", ">=", 500)),
]
_CONTACT_PREDICATES: list[Predicate] = [
    Compare("seniority", "=", "vp"),
    In("seniority", ("vp", "cxo")),
    IsNull("seniority"),
    Compare("company_id", "=", "co1"),
    IsNull("company_id"),
    Compare("seniority", "<>", "ic"),
    NotP(In("seniority", ("vp", "cxo"))),
    Or(Compare("seniority", "=", "cxo"), Compare("company_id", "=", "co2")),
    ListContains("interests", ("ai",)),
    NotP(ListContains("interests", ("ai", "data"))),
    IsNull("interests", negated=True),
]
_EVENT_PREDICATES: list[Predicate] = [
    Compare("properties.plan", "=", "pro"),
    Compare("properties.seats", ">=", 3),
    IsNull("properties.plan"),
    Compare("properties.plan", "<>", "pro"),
    Compare("properties.seats", "<", 3),
    Compare("properties.seats", "=", 3),
    In("properties.plan", ("pro", "free")),
    NotP(Compare("properties.plan", "=", "free")),
    And(Compare("properties.plan", "=", "pro"), Compare("properties.seats", ">=", 3)),
    Or(IsNull("properties.plan"), Compare("properties.seats", "<=", 1)),
    Compare("properties.account.tier", "=", "pro"),
    IsNull("properties.account.tier"),
    Compare("properties.account.seats", ">=", 3),
    In("properties.seats", (3, 5)),
    Between("properties.seats", 2, 4),
    NotP(Compare("properties.seats", ">=", 3)),
]

#: Which events a condition reads: mostly one name, else several or a LIKE pattern.
_NAMES = (*EVENT_NAMES, *EVENT_NAMES, EVENT_NAMES, Like("%ed"), Like("v%"), Like("_licked"))


#: Predicates on the score model's value (NULL before its first computed partition).
_SCORE_PREDICATES: list[Predicate] = [
    Compare(SCORE, ">=", 2),
    Compare(SCORE, "<", 3),
    Between(SCORE, 1, 4),
    IsNull(SCORE),
    NotP(Compare(SCORE, "=", 0)),
]


def counts() -> st.SearchStrategy[Count]:
    return st.one_of(
        st.builds(Count, st.just("at_least"), st.integers(1, 3)),
        st.builds(Count, st.just("at_most"), st.integers(0, 2)),
        st.builds(Count, st.just("exactly"), st.integers(0, 2)),
        st.tuples(st.integers(0, 2), st.integers(0, 2)).map(
            lambda pair: Count("between", pair[0], pair[0] + pair[1])
        ),
    )


def windows(days: Sequence[date]) -> st.SearchStrategy[LastDays | DateWindow | None]:
    around = [days[0] - timedelta(days=1), *days]
    date_windows = st.tuples(st.sampled_from(around), st.integers(0, 2)).map(
        lambda pair: DateWindow(pair[0], pair[0] + timedelta(days=pair[1]))
    )
    return st.one_of(st.none(), st.builds(LastDays, st.integers(1, 3)), date_windows)


def event_conditions(
    days: Sequence[date], windowed: bool = False
) -> st.SearchStrategy[EventCondition]:
    within = windows(days).filter(lambda w: w is not None) if windowed else windows(days)
    return st.builds(
        EventCondition,
        name=st.sampled_from(_NAMES),
        where=st.one_of(st.none(), st.sampled_from(_EVENT_PREDICATES)),
        within=within,
        count=st.one_of(st.just(Count("at_least", 1)), counts()),
    )


AGGREGATE_FUNCTIONS = ("sum", "avg", "min", "max", "count_distinct")
#: Ends of aggregate ranges around the sums and averages the amounts give.
AGGREGATE_ENDS = (-5, 0, 1, 2, 7, 10, 17, 25, 35)


def ranges() -> st.SearchStrategy[Range]:
    ends = st.sampled_from(AGGREGATE_ENDS)
    return st.one_of(
        st.builds(Range, low=ends),
        st.builds(Range, high=ends),
        ends.map(lambda end: Range(end, end)),
        st.tuples(ends, ends).map(lambda pair: Range(min(pair), max(pair))),
    )


def aggregates(days: Sequence[date], windowed: bool = False) -> st.SearchStrategy[Aggregate]:
    """An aggregate of `amount` (mostly) or `plan` (never a number) over an event filter."""
    return st.builds(
        Aggregate,
        function=st.sampled_from(AGGREGATE_FUNCTIONS),
        key=st.sampled_from(["amount", "amount", "plan"]),
        events=event_conditions(days, windowed).map(
            lambda c: EventCondition(c.name, c.where, c.within)
        ),
        range=ranges(),
    )


def first_events(days: Sequence[date]) -> st.SearchStrategy[FirstEvent]:
    """The first event of a name (maybe matching a `where`), in a window or ever."""
    return event_conditions(days).map(
        lambda c: FirstEvent(EventCondition(c.name, c.where, c.within))
    )


def last_events(days: Sequence[date]) -> st.SearchStrategy[LastEvent]:
    """The latest event of a name: maybe a predicate on it, maybe older than N days."""
    return st.builds(
        LastEvent,
        events=event_conditions(days).map(lambda c: EventCondition(c.name, c.where)),
        matches=st.one_of(st.none(), st.sampled_from(_EVENT_PREDICATES)),
        older_than_days=st.one_of(st.none(), st.integers(1, 2)),
    )


def sequences(days: Sequence[date], windowed: bool = False) -> st.SearchStrategy[EventSequence]:
    """Two or three steps over the few event names (one event often matches several steps,
    several events share an instant), each maybe with a `where`, a gap of 1 or 2 days (the
    data's instants are often exactly that far apart), in a window or over all time."""
    step = event_conditions(days).map(lambda c: EventCondition(c.name, c.where))
    within = windows(days).filter(lambda w: w is not None) if windowed else windows(days)
    return st.builds(
        EventSequence,
        steps=st.lists(step, min_size=2, max_size=3).map(tuple),
        within_days=st.integers(1, 2),
        within=within,
    )


def restarts(days: Sequence[date]) -> st.SearchStrategy[Restarted]:
    """A restart of a name (maybe matching a `where`) after 1 or 2 days without it, in a
    window or ever: gaps of whole days between the data's instants hit the edge often."""
    return st.builds(
        Restarted,
        events=event_conditions(days).map(lambda c: EventCondition(c.name, c.where, c.within)),
        gap_days=st.integers(1, 2),
    )


@st.composite
def regulars(draw: st.DrawFn, days: Sequence[date]) -> Regularly:
    """Events of a name (maybe matching a `where`) in at least K of the last M periods of
    1 or 2 days (M up to 3, K up to M): the periods reach before the first day."""
    events = draw(event_conditions(days))
    periods = draw(st.integers(1, 3))
    return Regularly(
        EventCondition(events.name, events.where),
        period_days=draw(st.integers(1, 2)),
        periods=periods,
        at_least=draw(st.integers(1, periods)),
    )


@st.composite
def conditions(
    draw: st.DrawFn,
    entity: str,
    earlier: Sequence[Segment],
    days: Sequence[date],
    depth: int = 2,
    scores: bool = False,
) -> Condition:
    """A random condition tree for a segment on `entity` that may reference `earlier`
    (with `scores`, leaves may read the score model: own or company)."""
    references = [s.name for s in earlier if s.entity in (entity, "company")]
    # Event conditions and references are listed twice: that is where time is subtle.
    kinds = ["attribute", "event", "event", "aggregate", "first_event", "last_event", "split"]
    kinds += ["sequence", "restarted", "regularly"]
    kinds += ["company", "attribute_age"] if entity == "contact" else []
    kinds += ["in_segment", "in_segment"] if references else []
    kinds += ["all", "any", "not"] if depth > 0 else []
    kinds += ["score", "score"] if scores else []
    kind = draw(st.sampled_from(kinds))
    if kind == "score":
        predicate = draw(st.sampled_from(_SCORE_PREDICATES))
        return Attribute(predicate) if entity == "company" else CompanyAttribute(predicate)
    if kind == "attribute":
        return Attribute(
            draw(
                st.sampled_from(_COMPANY_PREDICATES if entity == "company" else _CONTACT_PREDICATES)
            )
        )
    if kind == "event":
        return draw(event_conditions(days))
    if kind == "aggregate":
        return draw(aggregates(days))
    if kind == "attribute_age":
        low = draw(st.sampled_from([None, 0, 1, 2]))
        high = draw(st.sampled_from([None, 1, 3] if low is not None else [1, 3]))
        if low is not None and high is not None and low > high:
            low, high = high, low
        return AttributeAge("signed_up_at", low, high)
    if kind == "split":
        salt = draw(st.sampled_from(["a", "spring_test"]))
        return Split(salt, draw(st.sampled_from([0, 50, 100])))
    if kind == "first_event":
        return draw(first_events(days))
    if kind == "last_event":
        return draw(last_events(days))
    if kind == "sequence":
        return draw(sequences(days))
    if kind == "restarted":
        return draw(restarts(days))
    if kind == "regularly":
        return draw(regulars(days))
    if kind == "company":
        return CompanyAttribute(draw(st.sampled_from(_COMPANY_PREDICATES)))
    if kind == "in_segment":
        return InSegment(draw(st.sampled_from(references)))
    child = conditions(entity, earlier, days, depth - 1, scores)
    if kind == "not":
        return Not(draw(child))
    children = tuple(draw(st.lists(child, min_size=0 if kind == "all" else 1, max_size=3)))
    return All(children) if kind == "all" else AnyOf(children)


@st.composite
def segment_lists(
    draw: st.DrawFn, days: Sequence[date], scores: bool = False
) -> tuple[Segment, ...]:
    """1-3 dynamic segments; segment i only references segments j < i (no cycles)."""
    segments: list[Segment] = []
    for number in range(draw(st.integers(1, 3))):
        entity = draw(st.sampled_from(["company", "contact"]))
        condition = draw(conditions(entity, segments, days, scores=scores))
        segments.append(Segment(f"s{number}", entity, condition))
    return tuple(segments)


@st.composite
def scenarios(draw: st.DrawFn, scores: bool = False) -> Scenario:
    """A random history and segments; with `scores`, leaves may read the score model."""
    days, history = draw(histories())
    return Scenario(days=days, history=history, segments=draw(segment_lists(days, scores)))


@st.composite
def window_scenarios(draw: st.DrawFn) -> Scenario:
    """Two companies that never change, two contacts that may move between them, many
    events mostly at the edges of days, and only windowed event conditions (maybe negated):
    window edges (an event exactly N days before as_of, an event at a window's midnight),
    ageing out, first landed copies and attribution are hit far more often than in
    `scenarios`."""
    days = tuple(FIRST_DAY + timedelta(days=n) for n in range(draw(st.integers(3, 6))))
    moments = instants(days, EDGE_TIMES_OF_DAY)
    since = moments[0]
    contacts = [
        Version("ct1", since, days[0], attributes={"company_id": "co1", "seniority": "vp"}),
        Version("ct2", since, days[0], attributes={"company_id": "co2", "seniority": None}),
    ]
    for key in draw(st.lists(st.sampled_from(["ct1", "ct2"]), max_size=2)):
        updated_at = draw(st.sampled_from(moments))
        contacts.append(
            Version(
                key,
                updated_at,
                draw(landing_day(days, updated_at)),
                attributes={"company_id": draw(st.sampled_from(["co2", "co1", None]))},
            )
        )
    history = History(
        companies=(
            Version("co1", since, days[0], attributes={"employee_count": 500, "country": "GB"}),
            Version("co2", since, days[0], attributes={"employee_count": 50, "country": "US"}),
        ),
        contacts=tuple(contacts),
        events=tuple(draw(events(days, ["co1", "co2"], ["ct1", "ct2"], moments))),
    )
    segments = []
    for number in range(draw(st.integers(1, 4))):
        condition: Condition = draw(
            st.one_of(
                event_conditions(days, windowed=True),
                aggregates(days, windowed=True),
                first_events(days),
                last_events(days),
                sequences(days, windowed=True),
                restarts(days),
                regulars(days),
            )
        )
        if draw(st.booleans()):
            condition = Not(condition)
        entity = draw(st.sampled_from(["company", "contact"]))
        segments.append(Segment(f"s{number}", entity, condition))
    return Scenario(days=days, history=history, segments=tuple(segments))


# --------------------------------------------------------------------------------------
# Writers: landing files and the project (sources.yml, segments/*.yml)
# --------------------------------------------------------------------------------------


def spell(instant: datetime, spelling: str) -> str:
    """ISO 8601 text for a UTC instant, with the given offset spelling."""
    if spelling == "+02:00":
        return (instant + timedelta(hours=2)).isoformat() + "+02:00"
    return instant.isoformat() + spelling


def _version_row(entity: str, version: Version) -> dict[str, object]:
    row: dict[str, object] = {
        f"{entity}_id": version.key,
        "updated_at": spell(version.updated_at, version.spelling),
    }
    if version.is_deleted:
        row["is_deleted"] = True
    row.update({name: _json_value(value) for name, value in version.attributes.items()})
    return row


def _json_value(value: object) -> object:
    """An attribute as a JSON lines file carries it: a timestamp as text, a list as an array."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def _event_row(event: Event) -> dict[str, object]:
    row: dict[str, object] = {
        "event_id": event.event_id,
        "contact_id": event.contact_id,
        "event_name": event.event_name,
        "occurred_at": spell(event.occurred_at, event.spelling),
        "properties": dict(event.properties),
    }
    if event.company_id is not None:
        row["company_id"] = event.company_id
    elif event.empty_company != "absent":
        row["company_id"] = None if event.empty_company == "null" else ""
    return row


def write_landing(root: Path, days: Sequence[date], history: History) -> None:
    """`<root>/<YYYY-MM-DD>/{companies,contacts,events}.jsonl`, absent when empty."""
    root.mkdir(parents=True, exist_ok=True)
    for day in days:
        files = {
            "companies.jsonl": [
                _version_row("company", v) for v in history.companies if v.landed_on == day
            ],
            "contacts.jsonl": [
                _version_row("contact", v) for v in history.contacts if v.landed_on == day
            ],
            "events.jsonl": [_event_row(e) for e in history.events if e.landed_on == day],
        }
        for name, rows in files.items():
            if rows:
                folder = root / day.isoformat()
                folder.mkdir(exist_ok=True)
                (folder / name).write_text("".join(json.dumps(row) + "\n" for row in rows))


def condition_yaml(condition: Condition) -> object:
    """A condition in SPEC 4.1 syntax."""
    if isinstance(condition, All):
        return {"all": [condition_yaml(c) for c in condition.conditions]}
    if isinstance(condition, AnyOf):
        return {"any": [condition_yaml(c) for c in condition.conditions]}
    if isinstance(condition, Not):
        return {"not": condition_yaml(condition.condition)}
    if isinstance(condition, Attribute):
        return {"attribute": condition.predicate.sql()}
    if isinstance(condition, CompanyAttribute):
        return {"company": condition.predicate.sql()}
    if isinstance(condition, InSegment):
        return {"in_segment": condition.segment}
    if isinstance(condition, Aggregate):
        return {"aggregate": aggregate_yaml(condition)}
    if isinstance(condition, AttributeAge):
        age: dict[str, object] = {"column": condition.column}
        if condition.at_least_days is not None:
            age["at_least_days"] = condition.at_least_days
        if condition.at_most_days is not None:
            age["at_most_days"] = condition.at_most_days
        return {"attribute_age": age}
    if isinstance(condition, Split):
        return {"split": {"salt": condition.salt, "percent": condition.percent}}
    if isinstance(condition, FirstEvent):
        return {"first_event": condition_yaml(condition.events)}
    if isinstance(condition, EventSequence):
        sequence: dict[str, object] = {
            "steps": [condition_yaml(step) for step in condition.steps],
            "within_days": condition.within_days,
        }
        if condition.within is not None:
            sequence["within"] = window_yaml(condition.within)
        return {"sequence": sequence}
    if isinstance(condition, LastEvent):
        last: dict[str, object] = condition_yaml(condition.events)  # type: ignore[assignment]
        if condition.matches is not None:
            last["matches"] = condition.matches.sql()
        if condition.older_than_days is not None:
            last["older_than_days"] = condition.older_than_days
        return {"last_event": last}
    if isinstance(condition, Restarted):
        restarted: dict[str, object] = condition_yaml(condition.events)  # type: ignore[assignment]
        return {"restarted": {**restarted, "gap_days": condition.gap_days}}
    if isinstance(condition, Regularly):
        regularly: dict[str, object] = condition_yaml(condition.events)  # type: ignore[assignment]
        numbers = {
            "period_days": condition.period_days,
            "periods": condition.periods,
            "at_least": condition.at_least,
        }
        return {"regularly": {**regularly, **numbers}}
    assert isinstance(condition, EventCondition)
    names = condition.name
    found: dict[str, object] = {
        "event": (
            list(names)
            if isinstance(names, tuple)
            else {"like": names.pattern}
            if isinstance(names, Like)
            else names
        )
    }
    if condition.where is not None:
        found["where"] = condition.where.sql()
    if condition.within is not None:
        found["within"] = window_yaml(condition.within)
    count = condition.count
    if count != Count("at_least", 1):  # the default is left out, as a user would
        found["count"] = (
            {"between": [count.low, count.high]} if count.op == "between" else {count.op: count.low}
        )
    return found


def window_yaml(within: LastDays | DateWindow) -> dict[str, object]:
    """`within:` as a user writes it."""
    if isinstance(within, LastDays):
        return {"last_days": within.days}
    return {"from": within.start, "to": within.end}


def aggregate_yaml(condition: Aggregate) -> dict[str, object]:
    """An aggregate's mapping; the range written the way a user would."""
    found: dict[str, object] = {condition.function: f"properties.{condition.key}"}
    found.update(condition_yaml(condition.events))  # type: ignore[call-overload]
    low, high = condition.range.low, condition.range.high
    if high is None:
        found["at_least"] = low
    elif low is None:
        found["at_most"] = high
    elif low == high:
        found["exactly"] = low
    else:
        found["between"] = [low, high]
    return found


def write_project(root: Path, segments: Sequence[Segment]) -> Path:
    """`<root>/sources.yml`, `<root>/segments/<name>.yml` and, when a segment reads it, the
    score model; returns root."""
    (root / "segments").mkdir(parents=True, exist_ok=True)
    (root / "sources.yml").write_text(yaml.safe_dump(SOURCES_YML, sort_keys=False))
    if any(uses_score(segment.condition) for segment in segments):
        (root / "models").mkdir()
        (root / "models" / f"{SCORE_MODEL}.sql").write_text(SCORE_SQL)
    for segment in segments:
        definition = {
            "name": segment.name,
            "entity": segment.entity,
            "mode": "dynamic",
            "where": condition_yaml(segment.condition),
        }
        (root / "segments" / f"{segment.name}.yml").write_text(
            yaml.safe_dump(definition, sort_keys=False)
        )
    return root
