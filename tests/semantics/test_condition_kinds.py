"""Table-driven tests of the condition kinds: a definition's YAML next to the members and
join times it must give on a small hand-written history, on the edges of each kind.

Every case runs through the real pipeline twice: day by day (the daily runs start from the
previous day's state) and once more after everything has landed (the full history), and
both must give the table's answer.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlglot
import yaml

from .model import MICROSECOND, Event, History, Version
from .pipeline_adapter import Evaluate, Ingest, run_explain, run_pipeline
from .strategies import SOURCES_YML, write_landing

DAYS = tuple(date(2026, 3, 2) + timedelta(days=n) for n in range(4))
START = datetime(2026, 3, 1)


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An instant on landing day `day` (0 is the first)."""
    return datetime.combine(DAYS[day], datetime.min.time()) + timedelta(
        hours=hour, minutes=minute, seconds=second
    )


def ev(number: int, name: str, instant: datetime, **properties: object) -> Event:
    """One event of contact ct1 (company co1), landed on its own day."""
    return Event(
        event_id=f"ev{number}",
        contact_id="ct1",
        event_name=name,
        occurred_at=instant,
        landed_on=max(instant.date(), DAYS[0]),
        company_id="co1",
        properties=properties,
    )


@dataclass(frozen=True)
class Case:
    """A contact segment's `where:` (YAML), ct1's events, and the join time of ct1 in the
    snapshot of the last day (None: not a member)."""

    id: str
    where: str
    events: tuple[Event, ...]
    joined_at: datetime | None
    signed_up_at: datetime | None = None
    #: Later versions of co1 and ct1: (updated_at, the attributes that change then).
    company_changes: tuple[tuple[datetime, dict[str, object]], ...] = ()
    contact_changes: tuple[tuple[datetime, dict[str, object]], ...] = ()


CASES = [
    Case(
        "sum-all-time-joins-at-the-event-that-reaches-it",
        """
aggregate: {sum: properties.amount, event: order_placed, at_least: 30}
""",
        (
            ev(1, "order_placed", at(0, 9), amount=10),
            ev(2, "order_placed", at(1, 12), amount=25),
            ev(3, "order_placed", at(1, 13), amount="n/a"),
        ),
        at(1, 12),
    ),
    Case(
        "sum-over-values-that-fail-to-cast-is-zero",
        """
aggregate: {sum: properties.amount, event: order_placed, at_most: 0}
""",
        (ev(1, "order_placed", at(0, 9), amount="n/a"), ev(2, "order_placed", at(1, 9))),
        START,
    ),
    Case(
        "avg-over-values-that-fail-to-cast-is-missing",
        """
aggregate: {avg: properties.amount, event: order_placed, at_most: 100}
""",
        (ev(1, "order_placed", at(0, 9), amount="n/a"), ev(2, "order_placed", at(1, 9))),
        None,
    ),
    Case(
        "text-numbers-are-numbers",
        """
aggregate: {max: properties.amount, event: order_placed, exactly: 7}
""",
        (ev(1, "order_placed", at(0, 9), amount="7"), ev(2, "order_placed", at(1, 9), amount=-5)),
        at(0, 9),
    ),
    Case(
        "window-ageing-out-ends-the-stretch",
        """
aggregate: {sum: properties.amount, event: order_placed, within: {last_days: 1}, at_least: 30}
""",
        (ev(1, "order_placed", at(2, 9), amount=10), ev(2, "order_placed", at(2, 12), amount=25)),
        None,
    ),
    Case(
        "not-an-aggregate-joins-when-the-event-ages-out",
        """
not:
  aggregate: {sum: properties.amount, event: order_placed, within: {last_days: 1}, at_least: 30}
""",
        (ev(1, "order_placed", at(1, 9), amount=10), ev(2, "order_placed", at(1, 12), amount=25)),
        at(2, 9),
    ),
    Case(
        "an-event-exactly-at-the-window-edge-still-counts",
        """
aggregate: {min: properties.amount, event: order_placed, within: {last_days: 1}, at_most: 10}
""",
        (ev(1, "order_placed", at(3, 0), amount=10),),
        at(3, 0),
    ),
    Case(
        "distinct-count-of-text",
        """
aggregate:
  count_distinct: properties.plan
  event: plan_viewed
  where: "properties.plan IS NOT NULL"
  between: [2, 3]
""",
        (
            ev(1, "plan_viewed", at(0, 9), plan="pro"),
            ev(2, "plan_viewed", at(1, 9), plan="pro"),
            ev(3, "plan_viewed", at(2, 9), plan="free"),
            ev(4, "plan_viewed", at(2, 10)),
        ),
        at(2, 9),
    ),
    Case(
        "date-window-aggregate",
        f"""
aggregate:
  sum: properties.amount
  event: order_placed
  within: {{from: {DAYS[1].isoformat()}, to: {DAYS[1].isoformat()}}}
  between: [10, 20]
""",
        (ev(1, "order_placed", at(0, 9), amount=10), ev(2, "order_placed", at(1, 9), amount=10)),
        at(1, 9),
    ),
    Case(
        "first-event-in-the-window",
        """
first_event: {event: signed_up, within: {last_days: 1}}
""",
        (ev(1, "signed_up", at(3, 9)), ev(2, "signed_up", at(3, 10))),
        at(3, 9),
    ),
    Case(
        "first-event-ages-out-even-with-later-ones",
        """
first_event: {event: signed_up, within: {last_days: 1}}
""",
        (ev(1, "signed_up", at(1, 9)), ev(2, "signed_up", at(3, 10))),
        None,
    ),
    Case(
        "first-event-exactly-at-the-window-edge",
        """
first_event: {event: signed_up, within: {last_days: 1}}
""",
        (ev(1, "signed_up", at(3, 0)),),
        at(3, 0),
    ),
    Case(
        "stopped-joins-right-after-the-gap-reaches-n-days",
        """
last_event: {event: app_opened, older_than_days: 1}
""",
        (ev(1, "app_opened", at(1, 9)), ev(2, "app_opened", at(2, 6))),
        at(3, 6),
    ),
    Case(
        "stopped-does-not-hold-exactly-n-days-after",
        """
last_event: {event: app_opened, older_than_days: 2}
""",
        (ev(1, "app_opened", at(2, 0)),),
        None,
    ),
    Case(
        "latest-event-matches",
        """
last_event: {event: plan_viewed, matches: "properties.plan = 'pro'"}
""",
        (
            ev(1, "plan_viewed", at(0, 9), plan="pro"),
            ev(2, "plan_viewed", at(1, 9), plan="free"),
            ev(3, "plan_viewed", at(2, 9), plan="pro"),
        ),
        at(2, 9),
    ),
    Case(
        "latest-event-ties-any-matches",
        """
last_event:
  event: plan_viewed
  where: "properties.plan IS NOT NULL"
  matches: "properties.plan = 'pro'"
""",
        (
            ev(1, "plan_viewed", at(1, 9), plan="free"),
            ev(2, "plan_viewed", at(1, 9), plan="pro"),
            ev(3, "plan_viewed", at(2, 9)),
        ),
        at(1, 9),
    ),
    Case(
        "split-holds-for-the-buckets-below-percent",
        # md5("spring_test:ct1") starts f9a2b63d: 4188190269 % 100 = 69, its bucket.
        """
split: {salt: spring_test, percent: 70}
""",
        (),
        START,
    ),
    Case(
        "split-excludes-the-bucket-at-percent",
        """
split: {salt: spring_test, percent: 69}
""",
        (),
        None,
    ),
    Case(
        "holdout-is-the-rest",
        """
not: {split: {salt: spring_test, percent: 69}}
""",
        (),
        START,
    ),
    Case(
        "old-enough-from-the-instant-the-age-is-reached",
        """
attribute_age: {column: signed_up_at, at_least_days: 2}
""",
        (),
        at(2, 9),
        signed_up_at=at(0, 9),
    ),
    Case(
        "young-enough-from-the-value-until-exactly-n-days-after",
        """
attribute_age: {column: signed_up_at, at_most_days: 1}
""",
        (),
        at(3, 0),
        signed_up_at=at(3, 0),
    ),
    Case(
        "too-old-right-after-n-days",
        """
attribute_age: {column: signed_up_at, at_most_days: 1}
""",
        (),
        None,
        signed_up_at=at(2, 12),
    ),
    Case(
        "no-age-without-a-value",
        """
not: {attribute_age: {column: signed_up_at, at_least_days: 0}}
""",
        (),
        START,
    ),
]


CASES += [
    Case(
        "several-names-count-together",
        """
event: [trial_started, demo_booked]
count: {at_least: 2}
""",
        (
            ev(1, "trial_started", at(0, 9)),
            ev(2, "other", at(1, 9)),
            ev(3, "demo_booked", at(2, 9)),
        ),
        at(2, 9),
    ),
    Case(
        "a-name-pattern-reads-the-names-it-matches",
        """
event: {like: 'feature_%'}
count: {exactly: 2}
""",
        (
            ev(1, "feature_a", at(0, 9)),
            ev(2, "feature", at(1, 9)),
            ev(3, "feature_b", at(2, 9)),
        ),
        at(2, 9),
    ),
    Case(
        "first-event-of-several-names",
        """
first_event: {event: [signed_up, invited], within: {last_days: 1}}
""",
        (ev(1, "invited", at(1, 9)), ev(2, "signed_up", at(3, 10))),
        None,
    ),
    Case(
        "nested-property-path",
        """
event: plan_viewed
where: "properties.plan.tier = 'pro'"
""",
        (
            ev(1, "plan_viewed", at(0, 9), plan="pro"),
            ev(2, "plan_viewed", at(1, 9), plan={"tier": "free"}),
            ev(3, "plan_viewed", at(2, 9), plan={"tier": "pro", "seats": 3}),
        ),
        at(2, 9),
    ),
    Case(
        "aggregate-of-a-nested-property",
        """
aggregate: {sum: properties.plan.seats, event: [trial_started, seats_added], at_least: 5}
""",
        (
            ev(1, "trial_started", at(0, 9), plan={"seats": 2}),
            ev(2, "seats_added", at(1, 9), plan={"seats": "3"}),
            ev(3, "seats_added", at(2, 9), plan=4),
        ),
        at(1, 9),
    ),
    Case(
        "nested-path-through-a-plain-value-is-missing",
        """
not: {event: plan_viewed, where: "properties.plan.tier IS NULL"}
""",
        (ev(1, "plan_viewed", at(1, 9), plan="pro"),),
        None,
    ),
    Case(
        "list-contains-joins-at-the-version-that-adds-the-text",
        """
company: "list_contains(tech_stack, 'stripe')"
""",
        (),
        at(1, 9),
        company_changes=(
            (at(0, 9), {"tech_stack": ("hubspot",)}),
            (at(1, 9), {"tech_stack": ("hubspot", "stripe")}),
            (at(2, 9), {"tech_stack": ("stripe", "segment")}),
        ),
    ),
    Case(
        "list-contains-leaves-when-the-text-is-dropped",
        """
attribute: "list_contains(interests, 'ai')"
""",
        (),
        None,
        contact_changes=((at(0, 9), {"interests": ("ai",)}), (at(2, 9), {"interests": ("data",)})),
    ),
    Case(
        "not-list-contains-of-a-missing-list-is-false",
        """
attribute: "NOT list_contains(interests, 'ai')"
""",
        (),
        None,
    ),
    Case(
        "a-not-condition-over-list-contains-of-a-missing-list-holds",
        """
not: {attribute: "list_contains(interests, 'ai')"}
""",
        (),
        START,
    ),
    Case(
        "an-empty-list-holds-nothing",
        """
attribute: "NOT list_contains(interests, 'ai')"
""",
        (),
        at(1, 9),
        contact_changes=((at(0, 9), {"interests": ("ai",)}), (at(1, 9), {"interests": ()})),
    ),
    Case(
        "list-has-any-holds-while-any-of-the-texts-is-there",
        """
attribute: "list_has_any(interests, ['ai', 'data'])"
""",
        (),
        at(2, 9),
        contact_changes=(
            (at(0, 9), {"interests": ("data",)}),
            (at(1, 9), {"interests": ("ml",)}),
            (at(2, 9), {"interests": ("ai", "ml")}),
            (at(3, 9), {"interests": ("ml", "data")}),
        ),
    ),
    Case(
        "a-list-attribute-that-becomes-missing-is-null",
        """
all:
  - attribute: "interests IS NULL"
  - company: "tech_stack IS NOT NULL"
""",
        (),
        at(2, 9),
        company_changes=((at(0, 0), {"tech_stack": ()}),),
        contact_changes=((at(0, 9), {"interests": ("ai",)}), (at(2, 9), {"interests": None})),
    ),
]

CASES += [
    Case(
        "sequence-step-exactly-n-days-after-counts",
        """
sequence:
  steps:
    - {event: trial_started}
    - {event: pricing_viewed, where: "properties.plan = 'pro'"}
  within_days: 1
""",
        (
            ev(1, "trial_started", at(0, 9)),
            ev(2, "pricing_viewed", at(1, 8), plan="free"),
            ev(3, "pricing_viewed", at(1, 9), plan="pro"),
        ),
        at(1, 9),
    ),
    Case(
        "sequence-step-just-over-n-days-after-does-not",
        """
sequence: {steps: [{event: trial_started}, {event: pricing_viewed}], within_days: 1}
""",
        (ev(1, "trial_started", at(0, 9)), ev(2, "pricing_viewed", at(1, 9, 1))),
        None,
    ),
    Case(
        "sequence-steps-at-the-same-instant-do-not-follow",
        """
sequence: {steps: [{event: trial_started}, {event: pricing_viewed}], within_days: 2}
""",
        (ev(1, "trial_started", at(1, 9)), ev(2, "pricing_viewed", at(1, 9))),
        None,
    ),
    Case(
        "sequence-steps-in-the-wrong-order-do-not-follow",
        """
sequence: {steps: [{event: trial_started}, {event: pricing_viewed}], within_days: 2}
""",
        (ev(1, "pricing_viewed", at(1, 9)), ev(2, "trial_started", at(1, 10))),
        None,
    ),
    Case(
        "sequence-one-event-is-not-two-steps",
        """
sequence: {steps: [{event: viewed}, {event: [viewed, clicked]}], within_days: 1}
""",
        (ev(1, "viewed", at(1, 9)), ev(2, "viewed", at(1, 10))),
        at(1, 10),
    ),
    Case(
        "sequence-of-three-is-not-greedy",
        # B at 1 09:00 is the latest B before C but has no A within a day; A 0 00:00,
        # B 0 12:00, C 1 10:00 is a chain.
        """
sequence:
  steps: [{event: a}, {event: b}, {event: c}]
  within_days: 1
""",
        (
            ev(1, "a", at(0, 0)),
            ev(2, "b", at(0, 12)),
            ev(3, "b", at(1, 9)),
            ev(4, "c", at(1, 10)),
        ),
        at(1, 10),
    ),
    Case(
        "sequence-of-three-needs-every-gap",
        """
sequence:
  steps: [{event: a}, {event: b}, {event: c}]
  within_days: 1
""",
        (ev(1, "a", at(0, 0)), ev(2, "b", at(0, 12)), ev(3, "c", at(1, 13))),
        None,
    ),
    Case(
        "sequence-first-step-exactly-at-the-window-edge-still-counts",
        """
sequence:
  steps: [{event: trial_started}, {event: pricing_viewed}]
  within_days: 1
  within: {last_days: 2}
""",
        (ev(1, "trial_started", at(2, 0)), ev(2, "pricing_viewed", at(2, 9))),
        at(2, 9),
    ),
    Case(
        "sequence-ends-when-its-first-step-ages-out",
        """
sequence:
  steps: [{event: trial_started}, {event: pricing_viewed}]
  within_days: 1
  within: {last_days: 2}
""",
        (ev(1, "trial_started", at(1, 12)), ev(2, "pricing_viewed", at(2, 9))),
        None,
    ),
    Case(
        "not-a-sequence-joins-when-its-first-step-ages-out",
        """
not:
  sequence:
    steps: [{event: trial_started}, {event: pricing_viewed}]
    within_days: 1
    within: {last_days: 1}
""",
        (ev(1, "trial_started", at(1, 9)), ev(2, "pricing_viewed", at(1, 10))),
        at(2, 9),
    ),
    Case(
        "sequence-a-later-start-keeps-it-longer",
        """
sequence:
  steps: [{event: trial_started}, {event: pricing_viewed}]
  within_days: 2
  within: {last_days: 2}
""",
        (
            ev(1, "trial_started", at(1, 0)),
            ev(2, "trial_started", at(2, 6)),
            ev(3, "pricing_viewed", at(2, 9)),
        ),
        at(2, 9),
    ),
    Case(
        "sequence-longer-than-the-window-is-never-inside-it",
        """
sequence:
  steps: [{event: trial_started}, {event: pricing_viewed}]
  within_days: 2
  within: {last_days: 1}
""",
        (ev(1, "trial_started", at(2, 9)), ev(2, "pricing_viewed", at(3, 10))),
        None,
    ),
    Case(
        "sequence-in-a-date-window-needs-every-step-inside",
        f"""
sequence:
  steps: [{{event: trial_started}}, {{event: pricing_viewed}}]
  within_days: 2
  within: {{from: {DAYS[1].isoformat()}, to: {DAYS[2].isoformat()}}}
""",
        (
            ev(1, "trial_started", at(0, 23)),
            ev(2, "pricing_viewed", at(1, 9)),
            ev(3, "trial_started", at(1, 10)),
            ev(4, "pricing_viewed", at(2, 9)),
        ),
        at(2, 9),
    ),
]

#: Restarts: the gap is inclusive, measured from the previous instant (strictly earlier), the
#: first event is none, and the previous event may lie before every window and every day.
CASES += [
    Case(
        "restart-exactly-gap-days-after-the-previous",
        """
restarted: {event: app_opened, gap_days: 2}
""",
        (ev(1, "app_opened", at(0, 9)), ev(2, "app_opened", at(2, 9))),
        at(2, 9),
    ),
    Case(
        "one-microsecond-short-of-the-gap-is-no-restart",
        """
restarted: {event: app_opened, gap_days: 2}
""",
        (ev(1, "app_opened", at(0, 9)), ev(2, "app_opened", at(2, 9) - MICROSECOND)),
        None,
    ),
    Case(
        "the-first-event-is-no-restart",
        """
restarted: {event: app_opened, gap_days: 1}
""",
        (ev(1, "app_opened", at(2, 9)), ev(2, "page_viewed", at(0, 9))),
        None,
    ),
    Case(
        "two-events-at-one-instant-the-previous-is-strictly-earlier",
        """
restarted: {event: app_opened, gap_days: 2, within: {last_days: 3}}
""",
        (
            ev(1, "app_opened", at(0, 9)),
            ev(2, "app_opened", at(2, 9)),
            ev(3, "app_opened", at(2, 9)),
        ),
        at(2, 9),
    ),
    Case(
        "two-events-at-one-instant-are-not-each-others-previous",
        """
restarted: {event: app_opened, gap_days: 1}
""",
        (ev(1, "app_opened", at(1, 9)), ev(2, "app_opened", at(1, 9))),
        None,
    ),
    Case(
        "restart-ages-out-of-the-window",
        """
restarted: {event: app_opened, gap_days: 1, within: {last_days: 1}}
""",
        (ev(1, "app_opened", at(0, 9)), ev(2, "app_opened", at(1, 12))),
        None,
    ),
    Case(
        "restart-exactly-at-the-window-edge-still-holds",
        """
restarted: {event: app_opened, gap_days: 1, within: {last_days: 1}}
""",
        (ev(1, "app_opened", at(1, 0)), ev(2, "app_opened", at(3, 0))),
        at(3, 0),
    ),
    Case(
        "not-restarted-joins-when-the-restart-ages-out",
        """
not:
  restarted: {event: app_opened, gap_days: 1, within: {last_days: 1}}
""",
        (ev(1, "app_opened", at(0, 9)), ev(2, "app_opened", at(1, 9))),
        at(2, 9),
    ),
    Case(
        "restart-after-an-event-older-than-every-window",
        """
restarted:
  event: app_opened
  where: "properties.plan = 'pro'"
  gap_days: 14
  within: {last_days: 3}
""",
        (
            ev(1, "app_opened", datetime(2026, 1, 20, 9), plan="pro"),
            ev(2, "app_opened", at(1, 9), plan="free"),
            ev(3, "app_opened", at(2, 9), plan="pro"),
        ),
        at(2, 9),
    ),
    Case(
        "restart-in-a-date-window-holds-after-it",
        f"""
restarted:
  event: [app_opened, app_resumed]
  gap_days: 1
  within: {{from: {DAYS[1].isoformat()}, to: {DAYS[1].isoformat()}}}
""",
        (
            ev(1, "app_opened", at(0, 9)),
            ev(2, "app_resumed", at(1, 12)),
            ev(3, "app_opened", at(3, 12)),
        ),
        at(1, 12),
    ),
    Case(
        "a-late-event-in-the-gap-takes-the-restart-back",
        """
restarted: {event: app_opened, gap_days: 2}
""",
        (
            ev(1, "app_opened", at(0, 9)),
            ev(2, "app_opened", at(2, 9)),
            replace(ev(3, "app_opened", at(1, 9)), landed_on=DAYS[3]),
        ),
        None,
    ),
    Case(
        "a-late-restart-joins-at-its-own-instant",
        """
restarted: {event: app_opened, gap_days: 2}
""",
        (
            ev(1, "app_opened", at(0, 9)),
            replace(ev(2, "app_opened", at(2, 9)), landed_on=DAYS[3]),
        ),
        at(2, 9),
    ),
]

#: Regularly: periods of P days before as_of (T = 03-06 00:00): period 0 is [T - P, T],
#: period i [T - (i + 1) P, T - i P), so an event on a boundary is in the newer period and
#: one exactly M periods old still counts (as an event N days old is inside last_days: N).
CASES += [
    Case(
        "regular-in-k-of-the-last-m-periods",
        """
regularly: {event: app_opened, period_days: 1, periods: 3, at_least: 2}
""",
        (ev(1, "app_opened", at(1, 9)), ev(2, "app_opened", at(3, 9))),
        at(3, 9),
    ),
    Case(
        "events-in-one-period-count-once",
        """
regularly: {event: app_opened, period_days: 1, periods: 3, at_least: 2}
""",
        (
            ev(1, "app_opened", at(3, 1)),
            ev(2, "app_opened", at(3, 5)),
            ev(3, "app_opened", at(3, 5)),
        ),
        None,
    ),
    Case(
        "an-event-on-a-period-boundary-is-in-the-newer-period",
        """
regularly: {event: app_opened, period_days: 1, periods: 2, at_least: 2}
""",
        (ev(1, "app_opened", at(3, 0)), ev(2, "app_opened", at(3, 12))),
        None,
    ),
    Case(
        "an-event-joins-the-next-period-right-after-its-boundary",
        """
regularly: {event: app_opened, period_days: 1, periods: 2, at_least: 2}
""",
        (ev(1, "app_opened", at(2, 12)), ev(2, "app_opened", at(3, 0))),
        at(3, 12),
    ),
    Case(
        "an-event-exactly-m-periods-old-still-counts",
        """
regularly: {event: app_opened, period_days: 1, periods: 2, at_least: 2}
""",
        (ev(1, "app_opened", at(2, 0)), ev(2, "app_opened", at(3, 12))),
        at(3, 12),
    ),
    Case(
        "k-equal-to-m-needs-every-period",
        """
regularly: {event: app_opened, period_days: 1, periods: 3, at_least: 3}
""",
        (
            ev(1, "app_opened", at(1, 12)),
            ev(2, "app_opened", at(2, 12)),
            ev(3, "app_opened", at(3, 12)),
        ),
        at(3, 12),
    ),
    Case(
        "k-equal-to-m-misses-one-period",
        """
regularly: {event: app_opened, period_days: 1, periods: 3, at_least: 3}
""",
        (ev(1, "app_opened", at(1, 12)), ev(2, "app_opened", at(3, 12))),
        None,
    ),
    Case(
        "not-regular-joins-right-after-the-last-period-lets-an-event-go",
        """
not:
  regularly: {event: app_opened, period_days: 1, periods: 2, at_least: 1}
""",
        (ev(1, "app_opened", at(1, 12)),),
        at(3, 12),
    ),
    Case(
        "periods-slide-on-a-day-without-new-events",
        """
not:
  regularly: {event: [app_opened, app_resumed], period_days: 1, periods: 3, at_least: 2}
""",
        (ev(1, "app_opened", at(0, 12)), ev(2, "app_resumed", at(1, 12))),
        at(3, 12),
    ),
    Case(
        "weekly-periods-reach-before-the-first-day",
        """
regularly:
  event: app_opened
  where: "properties.plan = 'pro'"
  period_days: 7
  periods: 4
  at_least: 2
""",
        (
            ev(1, "app_opened", datetime(2026, 2, 10, 9), plan="pro"),
            ev(2, "app_opened", at(1, 9), plan="free"),
            ev(3, "app_opened", at(2, 9), plan="pro"),
        ),
        at(2, 9),
    ),
    Case(
        "a-late-event-fills-an-older-period",
        """
regularly: {event: app_opened, period_days: 1, periods: 2, at_least: 2}
""",
        (
            replace(ev(1, "app_opened", at(2, 12)), landed_on=DAYS[3]),
            ev(2, "app_opened", at(3, 12)),
        ),
        at(3, 12),
    ),
]


def _versions(
    key: str, first: dict[str, object], changes: tuple[tuple[datetime, dict[str, object]], ...]
) -> tuple[Version, ...]:
    """The record from START, then each change from its instant (landed that day)."""
    versions, attributes = [Version(key, START, DAYS[0], attributes=first)], first
    for instant, changed in changes:
        attributes = {**attributes, **changed}
        versions.append(Version(key, instant, instant.date(), attributes=attributes))
    return tuple(versions)


def history(case: Case) -> History:
    contact: dict[str, object] = {"company_id": "co1", "signed_up_at": case.signed_up_at}
    return History(
        companies=_versions("co1", {"employee_count": 500}, case.company_changes),
        contacts=_versions("ct1", contact, case.contact_changes),
        events=case.events,
    )


def write_case(root: Path, case: Case) -> Path:
    """The case's landing files under `root / "landing"` and its one-segment project (s0);
    returns the project."""
    write_landing(root / "landing", DAYS, history(case))
    project = root / "project"
    (project / "segments").mkdir(parents=True)
    (project / "sources.yml").write_text(yaml.safe_dump(SOURCES_YML))
    definition = {"name": "s0", "entity": "contact", "where": yaml.safe_load(case.where)}
    (project / "segments" / "s0.yml").write_text(yaml.safe_dump(definition))
    return project


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_condition_kind(case: Case) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        project = write_case(root, case)
        steps: list[Ingest | Evaluate] = []
        for day in DAYS:
            steps += [Ingest(day), Evaluate(day, project)]
        results = run_pipeline(root / "warehouse.duckdb", root / "landing", steps)
        with_all_landed = run_pipeline(
            root / "again.duckdb",
            root / "landing",
            [*(Ingest(day) for day in DAYS), Evaluate(DAYS[-1], project)],
        )
    expected = set() if case.joined_at is None else {("s0", "contact", "ct1", case.joined_at)}
    assert results[-1] == expected, "day by day"
    assert with_all_landed[-1] == expected, "whole history"


#: What a lifecycle leaf counts at the last as_of (restarts in the window, periods with an
#: event): the number its removal reason gives.
COUNTS = {
    "events-in-one-period-count-once": 1,
    "k-equal-to-m-misses-one-period": 2,
    "k-equal-to-m-needs-every-period": 3,
    "an-event-exactly-m-periods-old-still-counts": 2,
    "restart-ages-out-of-the-window": 0,
    "two-events-at-one-instant-the-previous-is-strictly-earlier": 1,
}


@pytest.mark.parametrize(("case_id", "count"), COUNTS.items(), ids=COUNTS.keys())
def test_lifecycle_count_at_as_of(tmp_path: Path, case_id: str, count: int) -> None:
    case = next(case for case in CASES if case.id == case_id)
    project = write_case(tmp_path, case)
    warehouse, landing = tmp_path / "warehouse.duckdb", tmp_path / "landing"
    explained = run_explain(warehouse, landing, list(DAYS), project, {"contact": ["ct1"]})
    frame = explained["s0", "ct1"]
    at_as_of = frame[frame["flip"].isna() & (frame["leaf"] == "where")]
    assert at_as_of["count"].tolist() == [count]


SPARK_SEGMENT = """
entity: contact
where:
  all:
    - aggregate: {avg: properties.amount, event: order_placed, within: {last_days: 7}, at_least: 3}
    - aggregate: {count_distinct: properties.plan, event: plan_viewed, exactly: 2}
    - first_event: {event: signed_up, within: {last_days: 7}}
    - last_event: {event: plan_viewed, matches: "properties.plan = 'pro'", older_than_days: 3}
    - not: {split: {salt: spring_test, percent: 10}}
    - attribute_age: {column: signed_up_at, at_least_days: 30, at_most_days: 90}
    - aggregate: {sum: properties.plan.seats, event: [trial_started, demo_booked], at_least: 2}
    - first_event: {event: {like: 'feature_%'}, where: "properties.plan.tier = 'pro'"}
    - sequence:
        steps:
          - {event: trial_started}
          - {event: [pricing_viewed, demo_booked], where: "properties.plan = 'pro'"}
          - {event: {like: 'checkout_%'}}
        within_days: 3
        within: {last_days: 30}
    - sequence: {steps: [{event: trial_started}, {event: signed_up}], within_days: 1}
    - restarted: {event: app_opened, gap_days: 14, within: {last_days: 7}}
    - regularly: {event: app_opened, period_days: 7, periods: 4, at_least: 3}
"""


def test_new_kinds_render_for_spark_with_functions_spark_has(tmp_path: Path) -> None:
    """The timelines of every new kind, full and incremental, and their event pass render
    for Spark, parse back as Spark SQL, and the split's hash uses md5, substring and locate
    (no DuckDB-only function such as strpos)."""
    from segment_pipeline.compile.event_pass import event_hits, event_reads
    from segment_pipeline.compile.spec import TimelineSpec
    from segment_pipeline.compile.timeline import timeline
    from segment_pipeline.compile.visible import visible_event_rows
    from segment_pipeline.definitions.project import load_project

    (tmp_path / "segments").mkdir()
    (tmp_path / "sources.yml").write_text(yaml.safe_dump(SOURCES_YML))
    (tmp_path / "segments" / "s0.yml").write_text(SPARK_SEGMENT)
    segment = load_project(tmp_path).segments["s0"]
    as_of = at(3)
    scope = sqlglot.select("entity_id").from_("changed")
    specs = [
        TimelineSpec(segment, as_of),
        TimelineSpec(segment, as_of, since=at(2) - timedelta(microseconds=1), scope=scope),
    ]
    queries = [timeline(spec, {"s0": "contact"}) for spec in specs]
    reads = event_reads([segment], lambda _: None)
    queries.append(event_hits(reads, visible_event_rows(DAYS[-1]), "contact_versions"))
    for query in queries:
        spark = query.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
        sqlglot.parse_one(spark, read="spark")
        assert "STRPOS" not in spark and "LIST_" not in spark and "QUALIFY" not in spark
    split_sql = queries[0].sql(dialect="spark")
    assert "MD5(CONCAT(" in split_sql and "LOCATE(SUBSTRING(" in split_sql


def test_split_buckets_are_the_md5_buckets_on_duckdb() -> None:
    """The SQL bucket of 300 keys is the bucket the model computes in Python from md5."""
    import duckdb

    from segment_pipeline.compile.splits import bucket

    keys = [f"ct{n}" for n in range(300)] + ["", "é", "a:b"]
    query = sqlglot.select(sqlglot.exp.column("k"), bucket(sqlglot.exp.column("k"), "s")).from_(
        "keys"
    )
    connection = duckdb.connect()
    connection.execute("create table keys (k varchar)")
    connection.executemany("insert into keys values (?)", [[key] for key in keys])
    got = dict(connection.execute(query.sql(dialect="duckdb")).fetchall())
    digests = {key: hashlib.md5(f"s:{key}".encode()).hexdigest() for key in keys}
    expected = {key: int(digest[:8], 16) % 100 for key, digest in digests.items()}
    assert got == expected
