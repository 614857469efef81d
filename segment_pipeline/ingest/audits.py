"""Questions the ingestion checks ask of the warehouse."""

from __future__ import annotations

from datetime import date

from sqlglot import exp

from segment_pipeline.sql import lit, template
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
