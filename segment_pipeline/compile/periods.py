"""Periods: the sliding periods of a `regularly` leaf, as literals both engines read.

At the instant t, period i (0 <= i < periods) of P days is `[t - P, t]` for i = 0 and
`[t - (i + 1) * P, t - i * P)` for i >= 1 (the edges of `last_days` windows, SPEC 5). An
event at e is in period i while t is in `[e, e + P]` (i = 0) or `(e + i * P, e + (i + 1) *
P]` (i >= 1): one interval shifted by i * P, so every change point is some `e + j * P`
(0 <= j <= periods).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlglot import exp

from segment_pipeline.compile.event_pass import TimeRange
from segment_pipeline.definitions.event_conditions import Regularly
from segment_pipeline.sql import lit


def _days(days: int) -> exp.Interval:
    return exp.Interval(this=lit(str(days)), unit=exp.var("DAY"))


def period_shifts(node: Regularly) -> exp.Values:
    """`periods(i, opens, closes)`: each period's index and how long after an instant its
    interval opens (`i * P` days) and closes (`(i + 1) * P` days). A table of literals
    rather than an interval computed from `i`: the engines spell those differently."""
    days = node.period_days
    rows = [
        exp.Tuple(expressions=[lit(i), _days(i * days), _days((i + 1) * days)])
        for i in range(node.periods)
    ]
    columns = [exp.to_identifier(name) for name in ("i", "opens", "closes")]
    return exp.Values(
        expressions=rows, alias=exp.TableAlias(this=exp.to_identifier("periods"), columns=columns)
    )


def changing_ranges(node: Regularly, since: datetime, as_of: datetime) -> list[TimeRange]:
    """The events with a change point `e + j * P` in `[since, as_of]`: for each j, the
    instants `[since - j * P, as_of - j * P]` (merged by `within_ranges` where they touch)."""
    period = timedelta(days=node.period_days)
    return [
        TimeRange(since - j * period, as_of - j * period + timedelta(microseconds=1))
        for j in range(node.periods + 1)
    ]
