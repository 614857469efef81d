"""Invariants of the segment tables, asked as SQL (the asset checks run these)."""

from __future__ import annotations

from datetime import date

from sqlglot import exp

from segment_pipeline.sql import lit, template
from segment_pipeline.warehouse.engine import Warehouse


def _days(days: list[date]) -> exp.Tuple:
    return exp.Tuple(expressions=[lit(day) for day in days])


def duplicate_members(warehouse: Warehouse, segment: str, days: list[date]) -> int:
    """Entities listed more than once in a day's snapshot."""
    query = template(
        """
        select count(*) from (
            select snapshot_date, entity_type, entity_id from segment_snapshots
            where segment = :segment and snapshot_date in :days
            group by all having count(*) > 1
        ) as duplicates
        """,
        segment=lit(segment),
        days=_days(days),
    )
    return int(warehouse.scalar(query) or 0)


def unbalanced_days(
    warehouse: Warehouse, segment: str, entity: str, days: list[date]
) -> list[date]:
    """Days where previous members + added - removed differs from the current members."""
    query = template(
        """
        with members as (
            select r.snapshot_date, count(s.entity_id) as members
            from segment_snapshot_runs as r
            left join segment_snapshots as s
              on s.segment = r.segment and s.snapshot_date = r.snapshot_date
             and s.entity_type = :entity
            where r.segment = :segment
            group by r.snapshot_date
        ),
        runs as (
            select snapshot_date, members,
                   lag(members, 1, 0) over (order by snapshot_date) as previous_members
            from members
        ),
        changes as (
            select snapshot_date,
                   count(*) filter (where change = 'added') as added,
                   count(*) filter (where change = 'removed') as removed
            from segment_deltas
            where segment = :segment and entity_type = :entity
            group by snapshot_date
        )
        select runs.snapshot_date from runs left join changes using (snapshot_date)
        where runs.snapshot_date in :days
          and runs.previous_members + coalesce(added, 0) - coalesce(removed, 0) <> runs.members
        order by 1
        """,
        segment=lit(segment),
        entity=lit(entity),
        days=_days(days),
    )
    return [row[0] for row in warehouse.rows(query)]


def joins_after_as_of(warehouse: Warehouse, segment: str, days: list[date]) -> int:
    """Members without a join time or with one after the snapshot's `as_of`."""
    query = template(
        """
        select count(*) from segment_snapshots
        where segment = :segment and snapshot_date in :days
          and (joined_at is null or joined_at > snapshot_date + interval 1 day)
        """,
        segment=lit(segment),
        days=_days(days),
    )
    return int(warehouse.scalar(query) or 0)
