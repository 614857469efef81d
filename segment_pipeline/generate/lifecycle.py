"""What companies and contacts share: when a record is born, lands, changes and is deleted.

A record is *born* on a day index (day 0 for the initial CRM extract), *lands* the first time
its file is written on or after that day, and from then on may change, be deleted and be
re-created. Every change record gets an `updated_at` later than the record's previous version,
so the landed history is a consistent sequence of upserts even when a change lands late.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segment_pipeline.generate.clock import DAY_US, HOUR_US, SECOND_US, Clock, times_of_day_us

#: Days a change lands after it happened: mostly the same day, some one to three days late.
LAG_WEIGHTS = (0.90, 0.05, 0.03, 0.02)
#: Initial versions have `updated_at` spread over this many days before the first landing day.
HISTORY_DAYS = 180
#: Share of instants with a sub-second part, so microsecond precision is exercised.
FRACTIONAL_SHARE = 0.1


@dataclass
class Lifecycle:
    """Per-record state arrays, indexed like the record book that owns them."""

    birth_day: np.ndarray
    landed: np.ndarray
    deleted: np.ndarray
    deleted_day: np.ndarray
    last_updated_us: np.ndarray

    @classmethod
    def create(
        cls, rng: np.random.Generator, count: int, days: int, born_later: float
    ) -> Lifecycle:
        """Most records exist from day 0; a share `born_later` appears on a later day."""
        birth_day = np.zeros(count, dtype=np.int64)
        if days > 1:
            later = np.flatnonzero(rng.random(count) < born_later)
            birth_day[later] = rng.integers(1, days, len(later))
        return cls(
            birth_day=birth_day,
            landed=np.zeros(count, dtype=bool),
            deleted=np.zeros(count, dtype=bool),
            deleted_day=np.full(count, -1, dtype=np.int64),
            last_updated_us=np.zeros(count, dtype=np.int64),
        )

    def live(self) -> np.ndarray:
        """Indices of records that have landed and are not deleted."""
        return np.flatnonzero(self.landed & ~self.deleted)

    def delete(self, index: np.ndarray, day: int) -> None:
        """Mark records deleted as of landing day `day`."""
        self.deleted[index] = True
        self.deleted_day[index] = day

    def record(self, index: np.ndarray, times_us: np.ndarray) -> None:
        """Remember that versions of these records landed with these `updated_at` instants."""
        self.landed[index] = True
        self.last_updated_us[index] = times_us


@dataclass(frozen=True)
class DayPlan:
    """Which records a landing day carries: first versions, changes, re-creations."""

    births: np.ndarray
    changes: np.ndarray
    recreations: np.ndarray

    @property
    def touched(self) -> np.ndarray:
        """Records that already existed and get a new version today."""
        return np.concatenate([self.changes, self.recreations])


def plan_day(
    rng: np.random.Generator,
    life: Lifecycle,
    day: int,
    change_rate: float,
    recreate_rate: float,
) -> DayPlan:
    """Pick today's records: at most one version per record per landing day."""
    births = np.flatnonzero(~life.landed & (life.birth_day <= day))
    live = life.live()
    count = rng.binomial(len(live), change_rate) if day > 0 else 0
    changes = np.sort(rng.choice(live, size=count, replace=False))
    gone = np.flatnonzero(life.landed & life.deleted & (life.deleted_day < day))
    recreations = gone[rng.random(len(gone)) < recreate_rate]
    return DayPlan(births=births, changes=changes, recreations=recreations)


def with_fraction(rng: np.random.Generator, times_us: np.ndarray) -> np.ndarray:
    """Whole-second instants, a share of them moved by a sub-second amount."""
    whole = times_us - times_us % SECOND_US
    fraction = np.where(
        rng.random(len(times_us)) < FRACTIONAL_SHARE, rng.integers(1, SECOND_US, len(times_us)), 0
    )
    instants: np.ndarray = whole + fraction
    return instants


def birth_times(rng: np.random.Generator, clock: Clock, birth_day: np.ndarray) -> np.ndarray:
    """`updated_at` of first versions: the months before the start for day 0, else that day."""
    count = len(birth_day)
    history = clock.day_start_us(0) - rng.integers(HOUR_US, HISTORY_DAYS * DAY_US, count)
    later = clock.day_start_us(birth_day) + times_of_day_us(rng, count)
    return with_fraction(rng, np.where(birth_day == 0, history, later))


def change_times(
    rng: np.random.Generator, clock: Clock, day: int, previous_us: np.ndarray
) -> np.ndarray:
    """`updated_at` of change records landing on `day`: mostly that day, some 1-3 days late.

    A change is always after the record's previous version (which landed on an earlier day),
    so a late change never lands "before" a version the pipeline has already seen.
    """
    count = len(previous_us)
    lag = np.minimum(rng.choice(len(LAG_WEIGHTS), size=count, p=LAG_WEIGHTS), day)
    happened = clock.day_start_us(day - lag) + times_of_day_us(rng, count)
    floor = previous_us + rng.integers(1, 3600, count) * SECOND_US
    return with_fraction(rng, np.maximum(happened, floor))
