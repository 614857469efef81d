"""Journey enrolments (SPEC 9): each day's trigger snapshot enrols who may enter, once.

For every snapshot date D on or after `starts_on`, in date order, each member of the trigger
segment's snapshot for D enters (entered_on D, completes_on D + duration_days) unless that
would contradict an enrolment already recorded for the journey:

- with `allow_reentry: false`, any recorded enrolment of the entity;
- with `allow_reentry: true`, a recorded enrolment whose days overlap the new one
  (entered_on < D + duration_days and D < completes_on). Going forward in date order this
  is exactly "an enrolment still running on D"; when an old day is re-run after later days
  were recorded, it also keeps the new enrolment from overlapping a later one.

Enrolments are facts (messages went out): rows are only ever inserted, never deleted or
updated, so no definition change, backfill or re-run removes or shortens one. Re-running a
day whose inputs did not change inserts nothing: each of that day's members is either
enrolled on D already or was kept out by an enrolment that is still recorded.

Entrants come only from a snapshot computed with the trigger's definition in force: a day
whose snapshot is missing or was computed with another definition version is refused, so
nobody enters on a definition no longer in force. Only current members of that snapshot
enter; their join time plays no part (a member since a month before `starts_on` enters on
`starts_on`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlglot import exp

from segment_pipeline.definitions.journeys import Journey
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.errors import JourneyError
from segment_pipeline.sql import col, lit
from segment_pipeline.warehouse.engine import Warehouse
from segment_pipeline.warehouse.schema import OUTPUT_TABLES

ENROLLMENTS = "journey_enrollments"
ENROLLMENT_COLUMNS = list(OUTPUT_TABLES[ENROLLMENTS])
ENTRANTS_VIEW = "journey_entrants"


@dataclass(frozen=True)
class JourneyDay:
    """A journey on one day: who entered, who is on it, whose enrolment ended that day."""

    journey: str
    day: date
    entrants: int
    active: int
    completed: int


def ensure_entrants_view(warehouse: Warehouse) -> None:
    """`journey_entrants`: per journey and day, who entered (what a messaging tool reads)."""
    query = exp.select(
        col("journey"),
        col("entered_on"),
        col("entity_type"),
        col("entity_id"),
        col("completes_on"),
        col("definition_version"),
    ).from_(ENROLLMENTS)
    warehouse.execute(
        exp.Create(this=exp.to_table(ENTRANTS_VIEW), kind="VIEW", replace=True, expression=query)
    )


def _trigger_version(warehouse: Warehouse, trigger: Segment, day: date) -> str | None:
    """The definition version the trigger's snapshot for `day` was computed with."""
    value = warehouse.scalar(
        exp.select(col("definition_version"))
        .from_("segment_snapshot_runs")
        .where(col("segment").eq(lit(trigger.name)), col("snapshot_date").eq(lit(day)))
    )
    return None if value is None else str(value)


def _check_trigger(warehouse: Warehouse, journey: Journey, trigger: Segment, day: date) -> None:
    """Refuse a day whose trigger snapshot is missing or computed with another definition."""
    stored = _trigger_version(warehouse, trigger, day)
    fix = f"materialise segments/{trigger.name} for {day} first, then journeys/{journey.name}"
    if stored is None:
        raise JourneyError(
            f"journey {journey.name}: segment {trigger.name} has no snapshot for {day}; {fix}"
        )
    if stored != trigger.version:
        raise JourneyError(
            f"journey {journey.name}: the snapshot of segment {trigger.name} for {day} was "
            f"computed with definition version {stored}, but {trigger.version} is in force; {fix}"
        )


def _contradicted(journey: Journey, day: date) -> exp.Expr:
    """A recorded enrolment of the snapshot row's entity that a new one on `day` contradicts."""
    same_entity = exp.and_(
        col("journey", "e").eq(lit(journey.name)),
        col("entity_type", "e").eq(col("entity_type", "s")),
        col("entity_id", "e").eq(col("entity_id", "s")),
    )
    query = exp.select(exp.Literal.number(1)).from_(exp.to_table(ENROLLMENTS).as_("e"))
    query = query.where(same_entity)
    if journey.allow_reentry:
        query = query.where(
            col("entered_on", "e") < lit(day + timedelta(days=journey.duration_days)),
            col("completes_on", "e") > lit(day),
        )
    return exp.Exists(this=query)


def _enroll(warehouse: Warehouse, journey: Journey, trigger: Segment, day: date) -> None:
    """Insert the day's entrants: the trigger's members not contradicted by a recorded one."""
    completes_on = day + timedelta(days=journey.duration_days)
    entrants = (
        exp.select(
            lit(journey.name).as_("journey"),
            col("entity_type", "s"),
            col("entity_id", "s"),
            lit(day).as_("entered_on"),
            lit(completes_on).as_("completes_on"),
            col("definition_version", "s"),
        )
        .from_(exp.to_table("segment_snapshots").as_("s"))
        .where(
            col("segment", "s").eq(lit(trigger.name)),
            col("snapshot_date", "s").eq(lit(day)),
            # A company segment's picked contacts are rows too; the journey enrols members.
            col("entity_type", "s").eq(lit(trigger.entity)),
            exp.not_(_contradicted(journey, day)),
        )
    )
    warehouse.append(ENROLLMENTS, entrants, ENROLLMENT_COLUMNS)


def _count(warehouse: Warehouse, journey: Journey, *conditions: exp.Expr) -> int:
    value = warehouse.scalar(
        exp.select(exp.func("count", exp.Star()))
        .from_(ENROLLMENTS)
        .where(col("journey").eq(lit(journey.name)), *conditions)
    )
    return int(value or 0)


def journey_day(warehouse: Warehouse, journey: Journey, day: date) -> JourneyDay:
    """What the recorded enrolments say about `day`."""
    return JourneyDay(
        journey=journey.name,
        day=day,
        entrants=_count(warehouse, journey, col("entered_on").eq(lit(day))),
        active=_count(
            warehouse, journey, col("entered_on") <= lit(day), col("completes_on") > lit(day)
        ),
        completed=_count(warehouse, journey, col("completes_on").eq(lit(day))),
    )


def enroll_day(warehouse: Warehouse, journey: Journey, trigger: Segment, day: date) -> JourneyDay:
    """Record the journey's entrants for `day` (none before `starts_on`) and report the day.

    `trigger` is the trigger segment as defined now; its snapshot for `day` must have been
    computed with that definition (JourneyError otherwise).
    """
    if trigger.name != journey.trigger_segment:
        raise ValueError(f"journey {journey.name} is triggered by {journey.trigger_segment}")
    if day >= journey.starts_on:
        _check_trigger(warehouse, journey, trigger, day)
        _enroll(warehouse, journey, trigger, day)
    return journey_day(warehouse, journey, day)
