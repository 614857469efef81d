"""Merged read ranges select exactly the events some read's range holds."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from segment_pipeline.compile.event_pass import TimeRange, within_ranges

DAY_0 = datetime(2026, 1, 1)
bounds = st.none() | st.integers(0, 12).map(lambda hours: DAY_0 + timedelta(hours=hours))
time_ranges = st.builds(TimeRange, bounds, bounds)


def in_range(instant: datetime, time_range: TimeRange) -> bool:
    after_start = time_range.start is None or time_range.start <= instant
    return after_start and (time_range.end is None or instant < time_range.end)


@settings(max_examples=200, deadline=None)
@given(ranges=st.lists(time_ranges, min_size=1, max_size=5))
def test_merged_ranges_hold_exactly_the_instants_of_some_range(ranges: list[TimeRange]) -> None:
    instants = [DAY_0 + timedelta(minutes=30 * step) for step in range(-2, 28)]
    query = exp.select("occurred_at").from_("events").where(within_ranges(exp.true(), ranges))
    connection = duckdb.connect()
    connection.execute("create table events (occurred_at timestamp)")
    connection.executemany("insert into events values (?)", [[instant] for instant in instants])
    kept = connection.execute(query.sql(dialect="duckdb")).fetchall()
    expected = [t for t in instants if any(in_range(t, r) for r in ranges)]
    assert sorted(row[0] for row in kept) == expected
