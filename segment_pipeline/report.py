"""Readable summaries of what is in the warehouse, for the terminal."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
from sqlglot import exp

from segment_pipeline.compile.model_query import MODEL_RUNS
from segment_pipeline.evaluate.journeys import ENTRANTS_VIEW
from segment_pipeline.sql import col, lit, template
from segment_pipeline.warehouse.engine import Warehouse


def ingestion_by_day(warehouse: Warehouse, start: date, end: date) -> pd.DataFrame:
    """Rows kept per source and rows quarantined, per landing date."""
    return warehouse.query(
        template(
            """
            with kept as (
                select landed_on, 'companies' as source from companies_history
                union all select landed_on, 'contacts' from contacts_history
                union all select landed_on, 'events' from events
            ),
            per_day as (
                select landed_on,
                       count(*) filter (where source = 'companies') as companies,
                       count(*) filter (where source = 'contacts') as contacts,
                       count(*) filter (where source = 'events') as events
                from kept group by landed_on
            ),
            bad as (select landed_on, count(*) as quarantined from quarantine group by landed_on)
            select strftime(landed_on, '%Y-%m-%d') as landed_on, companies, contacts, events,
                   coalesce(quarantined, 0) as quarantined
            from per_day left join bad using (landed_on)
            where landed_on between :start and :end
            order by landed_on
            """,
            start=lit(start),
            end=lit(end),
        )
    )


#: The summary's picked-contact columns, blank for a segment without personas.
CONTACT_COLUMNS = ["contacts", "contacts_added", "contacts_removed"]


def segments_by_day(warehouse: Warehouse, start: date, end: date) -> pd.DataFrame:
    """Members, additions and removals per segment and snapshot date, and for a company
    segment with personas its picked contacts apart: `members`, `added` and `removed`
    count the segment's own entities only, `contacts`, `contacts_added` and
    `contacts_removed` the contacts picked for it (SPEC 7)."""
    frame = warehouse.query(
        template(
            """
            with changes as (
                select segment, snapshot_date, entity_type,
                       count(*) filter (where change = 'added') as added,
                       count(*) filter (where change = 'removed') as removed
                from segment_deltas where snapshot_date between :start and :end
                group by segment, snapshot_date, entity_type
            ),
            picked as (
                select segment, snapshot_date, count(*) as contacts
                from segment_snapshots
                where persona is not null and snapshot_date between :start and :end
                group by segment, snapshot_date
            )
            select strftime(r.snapshot_date, '%Y-%m-%d') as snapshot_date, r.segment,
                   r.members, coalesce(own.added, 0) as added,
                   coalesce(own.removed, 0) as removed,
                   coalesce(p.contacts, 0) as contacts,
                   coalesce(c.added, 0) as contacts_added,
                   coalesce(c.removed, 0) as contacts_removed,
                   v.entity, v.definition
            from segment_snapshot_runs as r
            join segment_definitions as v
              on v.segment = r.segment and v.version = r.definition_version
            left join changes as own
              on own.segment = r.segment and own.snapshot_date = r.snapshot_date
             and own.entity_type = v.entity
            left join changes as c
              on c.segment = r.segment and c.snapshot_date = r.snapshot_date
             and c.entity_type <> v.entity
            left join picked as p
              on p.segment = r.segment and p.snapshot_date = r.snapshot_date
            where r.snapshot_date between :start and :end
            order by r.snapshot_date, r.segment
            """,
            start=lit(start),
            end=lit(end),
        )
    )
    with_personas = pd.Series(
        [
            entity == "company" and _definition(definition).get("personas") is not None
            for entity, definition in zip(frame["entity"], frame["definition"], strict=True)
        ],
        index=frame.index,
        dtype=bool,
    )
    for column in CONTACT_COLUMNS:
        frame[column] = frame[column].astype("Int64").where(with_personas)
    return frame.drop(columns=["entity", "definition"])


def _definition(value: object) -> dict[str, object]:
    """A stored definition (JSON text, or already parsed by the engine)."""
    return value if isinstance(value, dict) else json.loads(str(value))


def models_on(warehouse: Warehouse, day: date) -> pd.DataFrame:
    """Rows and code version of each model's partition for `day` (empty without models)."""
    columns = ["model", "version", "rows"]
    if not warehouse.table_exists(MODEL_RUNS):
        return pd.DataFrame(columns=columns)
    return warehouse.query(
        exp.select(col("model"), col("version"), exp.alias_(col("row_count"), "rows"))
        .from_(MODEL_RUNS)
        .where(col("snapshot_date").eq(lit(day)))
        .order_by(col("model"))
    )


def journey_entrants_by_day(warehouse: Warehouse, start: date, end: date) -> pd.DataFrame:
    """Entrants per journey and day (empty before any journey ran)."""
    columns = ["journey", "entered_on", "entrants"]
    if not warehouse.table_exists(ENTRANTS_VIEW):
        return pd.DataFrame(columns=columns)
    frame = warehouse.query(
        exp.select(col("journey"), col("entered_on"), exp.func("count", exp.Star()).as_("entrants"))
        .from_(ENTRANTS_VIEW)
        .where(exp.Between(this=col("entered_on"), low=lit(start), high=lit(end)))
        .group_by(col("journey"), col("entered_on"))
        .order_by(col("journey"), col("entered_on"))
    )
    frame["entered_on"] = frame["entered_on"].map(lambda value: str(value)[:10])
    return frame[columns]


def segment_history(warehouse: Warehouse, segment: str, entity_id: str | None) -> pd.DataFrame:
    """A segment's stretches of membership, newest first (optionally for one entity)."""
    query = (
        exp.select(
            "entity_type", "entity_id", "added_on", "removed_on", "removal_reason", "joined_at"
        )
        .from_("segment_history")
        .where(col("segment").eq(lit(segment)))
        .order_by("entity_id", exp.Ordered(this=col("added_on"), desc=True))
    )
    if entity_id is not None:
        query = query.where(col("entity_id").eq(lit(entity_id)))
    return warehouse.query(query)


def latest_snapshot_date(warehouse: Warehouse) -> date | None:
    """The newest snapshot date in the warehouse, if any."""
    value = warehouse.scalar(
        exp.select(exp.func("max", col("snapshot_date"))).from_("segment_snapshot_runs")
    )
    return value if isinstance(value, date) else None
