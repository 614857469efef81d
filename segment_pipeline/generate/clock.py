"""Where landing days start, and how instants are written as ISO 8601 text.

Instants are int64 microseconds since the Unix epoch (UTC) throughout the generator, so whole
chunks of them can be drawn and shifted with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SECOND_US = 1_000_000
HOUR_US = 3600 * SECOND_US
DAY_US = 24 * HOUR_US
_EPOCH = date(1970, 1, 1)

#: How an instant is written: "...Z" (UTC), naive (UTC by contract), or with a UTC offset.
_STYLE_WEIGHTS = (0.70, 0.27, 0.03)
_OFFSET_MINUTES = np.array([60, 120, -300, 330, -480, 540, 600, -180], dtype=np.int64)
#: Suffix by style: "Z", none, then one per offset.
_SUFFIXES = pa.array(
    ["Z", ""]
    + [f"{'+' if m >= 0 else '-'}{abs(m) // 60:02d}:{abs(m) % 60:02d}" for m in _OFFSET_MINUTES]
)

#: Activity over the (UTC) day: quiet nights, a working-day plateau.
_HOUR_WEIGHTS = np.array(
    [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 9, 8, 9, 10, 10, 9, 7, 5, 4, 3, 2, 2, 1], dtype=np.float64
)
HOUR_CDF = np.cumsum(_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())


@dataclass(frozen=True)
class Clock:
    """The calendar of a run: landing day 0 is `start`."""

    start: date

    def date(self, day: int) -> date:
        """The landing date of a day index."""
        return self.start + timedelta(days=day)

    def day_start_us(self, day: np.ndarray | int) -> np.ndarray:
        """Midnight UTC of day index (or indices) `day`, in epoch microseconds."""
        return (np.asarray(day, dtype=np.int64) + (self.start - _EPOCH).days) * DAY_US

    def epoch_days(self, day: int) -> int:
        """Days since the Unix epoch of a day index."""
        return (self.start - _EPOCH).days + day


def times_of_day_us(rng: np.random.Generator, count: int) -> np.ndarray:
    """Offsets into a day that follow the diurnal activity curve, whole seconds."""
    hours = np.searchsorted(HOUR_CDF, rng.random(count), side="right").clip(0, 23)
    seconds = rng.integers(0, 3600, count)
    return hours.astype(np.int64) * HOUR_US + seconds * SECOND_US


def render_timestamps(
    rng: np.random.Generator, micros: np.ndarray, missing: np.ndarray | None = None
) -> pa.Array:
    """ISO 8601 text for instants: mostly "...Z" or naive, a few with a UTC offset.

    Precision is a property of the instant, not of the style: an instant with a sub-second part
    is written with microseconds, so every rendering of it means the same instant. The text is
    assembled from lookup tables (dates, times of day) with Arrow kernels: formatting each
    instant on its own is the slowest part of generating events otherwise.
    """
    count = len(micros)
    style = rng.choice(3, size=count, p=_STYLE_WEIGHTS)
    offset_index = rng.integers(0, len(_OFFSET_MINUTES), count)
    if not count:
        return pa.array([], type=pa.string())
    if missing is not None:
        micros = np.where(missing, micros.max(), micros)
    offset_minutes = np.where(style == 2, _OFFSET_MINUTES[offset_index], 0)
    local = micros + offset_minutes * 60 * SECOND_US
    day = local // DAY_US
    first = int(day.min())
    dates = np.datetime_as_string(np.arange(first, int(day.max()) + 1).astype("datetime64[D]"))
    fraction = local % SECOND_US
    fraction_text = pc.binary_join_element_wise(
        ".", pc.utf8_lpad(pa.array(fraction).cast(pa.string()), 6, "0"), ""
    )
    suffix = np.where(style == 2, 2 + offset_index, style)
    rendered = pc.binary_join_element_wise(
        pa.array(dates).take(pa.array(day - first)),
        _times_of_day().take(pa.array((local % DAY_US) // SECOND_US)),
        pc.if_else(pa.array(fraction != 0), fraction_text, ""),
        _SUFFIXES.take(pa.array(suffix)),
        "",
    )
    if missing is None or not missing.any():
        return rendered
    return pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), rendered)


@cache
def _times_of_day() -> pa.Array:
    """ "THH:MM:SS" for every second of a day, indexed by the second."""
    return pa.array(
        [f"T{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
    )


def render_dates(epoch_days: np.ndarray, missing: np.ndarray) -> pa.Array:
    """YYYY-MM-DD text for days since the epoch, NULL where `missing`."""
    text = np.datetime_as_string(epoch_days.astype("datetime64[D]"), unit="D")
    return pa.array(text, mask=missing, type=pa.string())
