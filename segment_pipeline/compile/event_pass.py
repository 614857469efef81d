"""The event pass: one scan of the visible events flags every event filter of a run.

Each event leaf of each segment reads the events of one name, matching its `where`, in a
time range (its window, narrowed from where an incremental timeline starts). The pass
keeps only the events some read needs, with a boolean column per distinct filter, so the
events are scanned once per run whatever the number of segments.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlglot import exp

from segment_pipeline.compile.predicates import compile_predicate, json_path
from segment_pipeline.compile.visible import with_companies
from segment_pipeline.definitions.condition_parts import Window
from segment_pipeline.definitions.conditions import event_filters, iter_leaves
from segment_pipeline.definitions.event_conditions import Aggregate, EventCondition
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.sql import col, lit


def hit_column(leaf: EventCondition) -> str:
    """The `event_hits` column flagging events that match a leaf's name and `where`.

    Identical event filters across segments share one column, so the events are scanned
    once per run whatever the number of segments.
    """
    where = leaf.where.sql if leaf.where is not None else ""
    return "hit_" + hashlib.sha256(f"{leaf.selector}\n{where}".encode()).hexdigest()[:12]


def name_test(leaf: EventCondition) -> exp.Expr:
    """Whether an event's name is one the filter reads: its name, one of its names, or
    LIKE its pattern."""
    if leaf.names:
        return col("event_name").isin(*(lit(name) for name in leaf.names))
    if leaf.like is not None:
        return exp.Like(this=col("event_name"), expression=lit(leaf.like))
    return col("event_name").eq(lit(leaf.event))


def names_test(leaves: Iterable[EventCondition]) -> exp.Expr:
    """Whether an event's name is one any of the filters reads: one IN over the plain
    names (the cheapest test), then the patterns."""
    found = list(leaves)
    names = sorted({name for leaf in found for name in (leaf.names or (leaf.event,)) if name})
    terms: list[exp.Expr] = []
    if names:
        terms.append(col("event_name").isin(*(lit(name) for name in names)))
    patterns = sorted({leaf.like for leaf in found if leaf.like is not None})
    terms += [exp.Like(this=col("event_name"), expression=lit(pattern)) for pattern in patterns]
    return exp.or_(*terms) if terms else exp.false()


def value_column(leaf: Aggregate) -> str:
    """The `event_hits` column holding the property an aggregate reads, for events of its
    name: a number (NULL when it does not read as one) or, for count_distinct, the text."""
    kind = "text" if leaf.function == "count_distinct" else "number"
    name = f"{leaf.events.selector}\n{leaf.key}\n{kind}"
    return "val_" + hashlib.sha256(name.encode()).hexdigest()[:12]


def _value(leaf: Aggregate) -> exp.Expr:
    """An aggregate's property of an event of its name (NULL for other events)."""
    value: exp.Expr = exp.JSONExtractScalar(
        this=col("properties"), expression=json_path(*leaf.key.split("."))
    )
    if leaf.function != "count_distinct":
        value = exp.TryCast(this=value, to=exp.DataType.build("DOUBLE"))
    return exp.Case(ifs=[exp.If(this=name_test(leaf.events), true=value)])


def event_hits(reads: list[EventRead], events: exp.Select, contact_versions: str) -> exp.Select:
    """One pass over the visible events: a boolean column per distinct event filter.

    `events` are visible events before attribution (`visible_event_rows`). Only the events
    some read needs (its filter, in its time range) are kept, and only those a company
    segment reads are attributed to a company (`with_companies`), the costly part.
    A filter's `where` is evaluated only on events of its name (a CASE, not an AND that
    the engine may evaluate in full): reading JSON properties is costly too. The events
    are first narrowed by name alone, the test the engine makes cheapest, and by time once
    flagged, each filter's reads' ranges merged.

    The rows are stored by event name (its rank, a cheaper sort key than the text) then
    time: every timeline reads one filter over one time range, and the engine's min/max
    per block of rows (zonemaps) then skips the blocks of other names and times.
    """
    flags: dict[str, exp.Expr] = {}
    ranges: dict[str, list[TimeRange]] = {}
    values = {
        value_column(read.aggregate): _value(read.aggregate)
        for read in reads
        if read.aggregate is not None
    }
    for read in reads:
        leaf = read.leaf
        matches: exp.Expr = exp.true()
        if leaf.where is not None:
            matches = exp.func("coalesce", compile_predicate(leaf.where), exp.false())
        flags[hit_column(leaf)] = exp.Case(
            ifs=[exp.If(this=name_test(leaf), true=matches)],
            default=exp.false(),
        )
        ranges.setdefault(hit_column(leaf), []).append(read_range(leaf.within, read.since))
    names = sorted({name for read in reads for name in (read.leaf.names or (read.leaf.event,))})
    names = [name for name in names if name]
    events = events.where(names_test(read.leaf for read in reads))
    flagged = exp.select(
        "contact_id",
        "company_id",
        "event_name",
        "occurred_at",
        *(exp.alias_(flag, name, copy=False) for name, flag in flags.items()),
        *(exp.alias_(value, name, copy=False) for name, value in values.items()),
    ).from_(events.subquery("visible_events", copy=False))
    needed = [within_ranges(col(flag), flag_ranges) for flag, flag_ranges in ranges.items()]
    kept = (
        exp.select("*")
        .from_(flagged.subquery("flagged", copy=False))
        .where(exp.or_(*needed) if needed else exp.false(), copy=False)
    )
    company_reads = [read for read in reads if read.entity == "company"]
    columns = ["contact_id", "company_id", "event_name", "occurred_at", *flags, *values]
    attributed = with_companies(kept, columns, contact_versions, events_read(company_reads))
    # The timelines read the flags and values, not the name.
    hits = exp.select("contact_id", "company_id", "occurred_at", *flags, *values).from_(
        attributed.subquery("attributed", copy=False)
    )
    if not names:
        return hits
    rank = exp.Case(
        ifs=[
            exp.If(this=col("event_name").eq(lit(name)), true=lit(i))
            for i, name in enumerate(names)
        ]
    )
    return hits.order_by(rank, "occurred_at", copy=False)


@dataclass(frozen=True)
class TimeRange:
    """The instants `start <= occurred_at < end`; None leaves that side open."""

    start: datetime | None = None
    end: datetime | None = None

    def conditions(self) -> list[exp.Expr]:
        """The range as conditions on `occurred_at` (none for all time)."""
        conditions: list[exp.Expr] = []
        if self.start is not None:
            conditions.append(col("occurred_at") >= lit(self.start))
        if self.end is not None:
            conditions.append(col("occurred_at") < lit(self.end))
        return conditions


def read_range(window: Window, since: datetime | None) -> TimeRange:
    """The `occurred_at` range of the events a leaf's timeline reads.

    A `from`/`to` window reads its days. From `since` on, a `last_days` window reads the
    events still inside it at `since` or later: an event that left it before `since` is
    counted and uncounted before the timeline starts.
    """
    start = end = None
    if window.start is not None and window.end is not None:
        start = datetime.combine(window.start, time())
        end = datetime.combine(window.end + timedelta(days=1), time())
    if since is not None and window.last_days is not None:
        earliest = since - timedelta(days=window.last_days)
        start = earliest if start is None else max(start, earliest)
    return TimeRange(start, end)


def within_ranges(condition: exp.Expr, ranges: list[TimeRange]) -> exp.Expr:
    """`condition`, for events whose `occurred_at` is in any of the ranges (merged where
    they overlap or touch). The time test comes first: the engine evaluates an AND from
    left to right, and comparing timestamps is cheaper than most conditions."""
    merged: list[TimeRange] = []
    for current in sorted(ranges, key=lambda r: (r.start is not None, r.start or datetime.min)):
        last = merged[-1] if merged else None
        if last is None or (
            last.end is not None and current.start is not None and current.start > last.end
        ):
            merged.append(current)
        else:
            ends = None if last.end is None or current.end is None else max(last.end, current.end)
            merged[-1] = TimeRange(last.start, ends)
    terms = [exp.and_(*conditions) for r in merged if (conditions := r.conditions())]
    if len(terms) < len(merged):
        return condition
    return exp.and_(exp.paren(exp.or_(*terms)) if len(terms) > 1 else terms[0], condition)


@dataclass(frozen=True)
class EventRead:
    """The events one event filter of a segment's leaf reads: what `event_hits` must hold
    for it (with the property an aggregate leaf reads)."""

    leaf: EventCondition
    entity: str
    since: datetime | None = None
    aggregate: Aggregate | None = None


def events_read(reads: list[EventRead]) -> exp.Expr:
    """The events any of the reads needs, over the events' own columns: one term per
    event name, with the time ranges its reads need, merged."""
    ranges: dict[str, list[TimeRange]] = {}
    tests: dict[str, exp.Expr] = {}
    for read in reads:
        key = read.leaf.selector
        tests.setdefault(key, name_test(read.leaf))
        ranges.setdefault(key, []).append(read_range(read.leaf.within, read.since))
    terms = [within_ranges(tests[key].copy(), key_ranges) for key, key_ranges in ranges.items()]
    return exp.or_(*terms) if terms else exp.false()


def event_reads(
    segments: Iterable[Segment], since_of: Callable[[Segment], datetime | None]
) -> list[EventRead]:
    """What every event filter of the segments' leaves reads, from where each segment's
    timeline starts."""
    return [
        EventRead(
            events,
            segment.entity,
            since_of(segment),
            leaf if isinstance(leaf, Aggregate) else None,
        )
        for segment in segments
        for _, leaf in iter_leaves(segment.where)
        for events in event_filters(leaf)
    ]
