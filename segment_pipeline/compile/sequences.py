"""Sequences: for each event that ends a chain of a sequence's steps, the latest start.

A chain is an event of each step, each strictly later than the previous one and at most
`within_days` days after it. It is in a window exactly while its first event is (the last
one is the latest), so of all chains ending at an event only the one with the latest start
matters. That start is found step by step with window functions, never row by row: for the
first step an event's own time; for each later step, the latest start among the previous
step's events in `[t - within_days, t)` before the event. Taking the latest previous event
instead would be wrong: its own chain may start too late or not at all (A at 0, B at 2, B at
4, C at 5, three days: B at 4 has no A within three days, A 0, B 2, C 5 is a chain).

The frame is a RANGE over the events' epoch microseconds, an integer: `1 PRECEDING` leaves
out the events at the same instant, and both DuckDB and Spark take integer RANGE offsets.
"""

from __future__ import annotations

from datetime import timedelta

from sqlglot import exp

from segment_pipeline.sql import col, lit

#: Microseconds in a day: the frame offsets are in the order key's unit.
DAY_MICROSECONDS = timedelta(days=1) // timedelta(microseconds=1)


def step_column(index: int) -> str:
    """The column flagging events of step `index` (from 0) among a sequence's hits."""
    return f"step_{index}"


def _start_column(index: int) -> str:
    return f"start_{index}"


def chain_ends(hits: exp.Select, steps: int, within_days: int) -> exp.Select:
    """`(entity_id, occurred_at, start)` for each event of `hits` that ends a chain of
    `steps` steps, with the latest start of such a chain.

    `hits` are an entity's events of any step (`entity_id`, `occurred_at` and a boolean
    `step_column(i)` per step; an event may be of several steps). Each step adds a layer
    whose `start_<i>` is the latest start of a chain of steps 0..i ending at the event (NULL
    where there is none).
    """
    flags = [step_column(index) for index in range(steps)]
    first = exp.Case(ifs=[exp.If(this=col(flags[0]), true=col("occurred_at"))])
    layer = exp.select(
        "entity_id",
        "occurred_at",
        exp.alias_(exp.UnixMicros(this=col("occurred_at")), "us"),
        *flags[1:],
        exp.alias_(first, _start_column(0)),
    ).from_(hits.subquery("sequence_hits", copy=False))
    for index in range(1, steps):
        frame = exp.Window(
            this=exp.Max(this=col(_start_column(index - 1))),
            partition_by=[col("entity_id")],
            order=exp.Order(expressions=[exp.Ordered(this=col("us"))]),
            spec=exp.WindowSpec(
                kind="RANGE",
                start=lit(within_days * DAY_MICROSECONDS),
                start_side="PRECEDING",
                end=lit(1),
                end_side="PRECEDING",
            ),
        )
        start = exp.Case(ifs=[exp.If(this=col(flags[index]), true=frame)])
        layer = exp.select(
            "entity_id",
            "occurred_at",
            "us",
            *flags[index + 1 :],
            exp.alias_(start, _start_column(index)),
        ).from_(layer.subquery(f"chains_{index}", copy=False))
    last = _start_column(steps - 1)
    return (
        exp.select("entity_id", "occurred_at", exp.alias_(col(last), "start"))
        .from_(layer.subquery("chains", copy=False))
        .where(col(last).is_(exp.null()).not_(), copy=False)
    )
