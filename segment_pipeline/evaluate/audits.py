"""Invariants of the segment tables, asked as SQL (the asset checks run these).

Each invariant is one query for all the run's segments, grouped by segment: a run checks
every segment it wrote, and one statement per segment and check was most of a small day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from sqlglot import exp

from segment_pipeline.sql import lit, template
from segment_pipeline.warehouse.engine import Warehouse


def _values(values: Sequence[str | date]) -> exp.Tuple:
    return exp.Tuple(expressions=[lit(value) for value in values])


def _counts(warehouse: Warehouse, query: exp.Expr, segments: Sequence[str]) -> dict[str, int]:
    """A `(segment, count)` query's counts, 0 for a segment it has no row for."""
    if not segments:
        return {}
    counts = {str(segment): int(count) for segment, count in warehouse.rows(query)}
    return {segment: counts.get(segment, 0) for segment in segments}


def duplicate_members(
    warehouse: Warehouse, segments: Sequence[str], days: list[date]
) -> dict[str, int]:
    """Each segment's entities listed more than once in a day's snapshot."""
    query = template(
        """
        select segment, count(*) from (
            select segment, snapshot_date, entity_type, entity_id from segment_snapshots
            where segment in :segments and snapshot_date in :days
            group by all having count(*) > 1
        ) as duplicates
        group by segment
        """,
        segments=_values(segments),
        days=_values(days),
    )
    return _counts(warehouse, query, segments)


def unbalanced_days(
    warehouse: Warehouse, entities: Mapping[str, Sequence[str]], days: list[date]
) -> dict[str, list[date]]:
    """Each segment's days where, for one of its entity types (`entities`: by segment),
    previous members + added - removed differs from the current members."""
    query = template(
        """
        with entity_types as (
            select 'company' as entity_type union all select 'contact' as entity_type
        ),
        members as (
            select r.segment, e.entity_type, r.snapshot_date, count(s.entity_id) as members
            from segment_snapshot_runs as r
            cross join entity_types as e
            left join segment_snapshots as s
              on s.segment = r.segment and s.snapshot_date = r.snapshot_date
             and s.entity_type = e.entity_type
            where r.segment in :segments
            group by r.segment, e.entity_type, r.snapshot_date
        ),
        runs as (
            select segment, entity_type, snapshot_date, members,
                   lag(members, 1, 0) over (
                       partition by segment, entity_type order by snapshot_date
                   ) as previous_members
            from members
        ),
        changes as (
            select segment, entity_type, snapshot_date,
                   count(*) filter (where change = 'added') as added,
                   count(*) filter (where change = 'removed') as removed
            from segment_deltas
            where segment in :segments
            group by segment, entity_type, snapshot_date
        )
        select runs.segment, runs.entity_type, runs.snapshot_date
        from runs left join changes using (segment, entity_type, snapshot_date)
        where runs.snapshot_date in :days
          and runs.previous_members + coalesce(added, 0) - coalesce(removed, 0) <> runs.members
        order by 1, 2, 3
        """,
        segments=_values(list(entities)),
        days=_values(days),
    )
    found: dict[str, set[date]] = {segment: set() for segment in entities}
    for segment, entity, day in warehouse.rows(query) if entities else []:
        if entity in entities[segment]:
            found[segment].add(day)
    return {segment: sorted(days_found) for segment, days_found in found.items()}


def joins_after_as_of(
    warehouse: Warehouse, segments: Sequence[str], days: list[date]
) -> dict[str, int]:
    """Each segment's members without a join time or with one after the snapshot's `as_of`."""
    query = template(
        """
        select segment, count(*) from segment_snapshots
        where segment in :segments and snapshot_date in :days
          and (joined_at is null or joined_at > snapshot_date + interval 1 day)
        group by segment
        """,
        segments=_values(segments),
        days=_values(days),
    )
    return _counts(warehouse, query, segments)
