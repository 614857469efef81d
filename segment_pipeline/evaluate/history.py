"""`segment_history`: one row per stretch of membership, rebuilt from the deltas.

Rebuilding a segment's whole history from its deltas in date order (rather than patching
it) keeps it consistent when an earlier range is backfilled: deltas are small, and the
history is a pure function of them. A stretch depends only on its entity's deltas, so a
daily run rebuilds only the entities with a delta on or after its first day. A picked
contact that moves between member companies is removed and added on the same day: the
removal ends the old stretch before the addition starts the new one.
"""

from __future__ import annotations

from datetime import date

from sqlglot import exp

from segment_pipeline.sql import col, lit, query_template
from segment_pipeline.warehouse.engine import Warehouse


def rebuild_history(warehouse: Warehouse, segment: str, since: date | None = None) -> None:
    """Replace the segment's history with the stretches its deltas describe.

    With `since`, only the entities with a delta on or after it are rebuilt; the other
    entities' stretches cannot have changed.
    """
    in_segment = col("segment").eq(lit(segment))
    scope: exp.Expr = in_segment
    if since is not None:
        touched = (
            exp.select("entity_id")
            .from_("segment_deltas")
            .where(in_segment.copy())
            .where(col("snapshot_date") >= lit(since))
        )
        scope = exp.and_(in_segment.copy(), col("entity_id").isin(query=touched))
    stretches = query_template(
        """
        select segment, entity_type, entity_id, snapshot_date as added_on,
               case when next_change = 'removed' then next_date end as removed_on,
               case when next_change = 'removed' then next_reason end as removal_reason,
               joined_at
        from (
            select *,
                   lead(snapshot_date) over stretch as next_date,
                   lead(change) over stretch as next_change,
                   lead(reason) over stretch as next_reason
            from segment_deltas
            where :scope
            window stretch as (
                partition by entity_type, entity_id order by snapshot_date, change desc
            )
        ) as ordered
        where change = 'added'
        """,
        scope=scope,
    )
    warehouse.replace_rows("segment_history", scope.copy(), stretches)
