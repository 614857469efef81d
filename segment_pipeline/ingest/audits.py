"""Questions the ingestion checks ask of the warehouse."""

from __future__ import annotations

from datetime import date

from sqlglot import exp

from segment_pipeline.sql import col, lit, template
from segment_pipeline.warehouse.engine import Warehouse


def orphan_events(warehouse: Warehouse, days: list[date]) -> int:
    """Events landed on `days` whose contact has never been seen in any CRM landing."""
    query = template(
        """
        select count(*) from events as e
        where e.is_first_copy and e.landed_on in :days
          and not exists (select 1 from contacts_history as c where c.contact_id = e.contact_id)
        """,
        days=exp.Tuple(expressions=[lit(day) for day in days]),
    )
    return int(warehouse.scalar(query) or 0)


def quarantined_by_reason(warehouse: Warehouse, days: list[date]) -> dict[str, int]:
    """Quarantined rows landed on `days`, by source."""
    rows = warehouse.rows(
        exp.select("source", exp.func("count", exp.Star()))
        .from_("quarantine")
        .where(col("landed_on").isin(*(lit(day) for day in days)))
        .group_by("source")
    )
    return {str(source): int(count) for source, count in rows}
