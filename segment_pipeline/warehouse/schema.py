"""The warehouse's tables: names, columns and types, created idempotently.

CRM history tables get one column per attribute declared in sources.yml; a column added
to sources.yml later is added to the table (existing rows read NULL), never dropped.
"""

from __future__ import annotations

from segment_pipeline.definitions.sources import (
    ENTITY_KEYS,
    EVENT_FIELDS,
    EVENT_PROPERTIES,
    EntityType,
    Sources,
)
from segment_pipeline.warehouse.engine import Warehouse

#: Where each row came from: kept on every ingested row so it can be traced to its file line.
LINEAGE_COLUMNS: dict[str, str] = {
    "landed_on": "DATE",
    "source_file": "VARCHAR",
    "source_line": "BIGINT",
}

EVENTS_COLUMNS: dict[str, str] = {
    **{name: kind.sql_type for name, kind in EVENT_FIELDS.items()},
    EVENT_PROPERTIES: "JSON",
    **LINEAGE_COLUMNS,
    # True on the first landed copy of an event_id: the copy that counts (SPEC 3).
    "is_first_copy": "BOOLEAN",
}

QUARANTINE_COLUMNS: dict[str, str] = {
    "landed_on": "DATE",
    "source": "VARCHAR",
    "file": "VARCHAR",
    "line": "BIGINT",
    "reason": "VARCHAR",
    "raw": "VARCHAR",
}

OUTPUT_TABLES: dict[str, dict[str, str]] = {
    "segment_definitions": {
        "segment": "VARCHAR",
        "version": "VARCHAR",
        "entity": "VARCHAR",
        "mode": "VARCHAR",
        "definition": "JSON",
        "first_materialized_at": "TIMESTAMP",
    },
    "segment_snapshots": {
        "snapshot_date": "DATE",
        "segment": "VARCHAR",
        "entity_type": "VARCHAR",
        "entity_id": "VARCHAR",
        "joined_at": "TIMESTAMP",
        "definition_version": "VARCHAR",
        "company_id": "VARCHAR",
        "persona": "VARCHAR",
        "persona_rank": "INTEGER",
    },
    "segment_deltas": {
        "snapshot_date": "DATE",
        "segment": "VARCHAR",
        "entity_type": "VARCHAR",
        "entity_id": "VARCHAR",
        "change": "VARCHAR",
        "reason": "VARCHAR",
        "reason_detail": "VARCHAR",
        "joined_at": "TIMESTAMP",
        "definition_version": "VARCHAR",
        # Picked contacts of company segments: where and as what they were (are) picked.
        "company_id": "VARCHAR",
        "persona": "VARCHAR",
        "persona_rank": "INTEGER",
    },
    "segment_history": {
        "segment": "VARCHAR",
        "entity_type": "VARCHAR",
        "entity_id": "VARCHAR",
        "added_on": "DATE",
        "removed_on": "DATE",
        "removal_reason": "VARCHAR",
        "joined_at": "TIMESTAMP",
    },
    # One row per segment and snapshot date, members or not: the delta's baseline and the
    # version a static segment was last refreshed with, even when it had no members.
    "segment_snapshot_runs": {
        "snapshot_date": "DATE",
        "segment": "VARCHAR",
        "definition_version": "VARCHAR",
        "refreshed": "BOOLEAN",
        "members": "BIGINT",
        "materialized_at": "TIMESTAMP",
    },
    "journey_enrollments": {
        "journey": "VARCHAR",
        "entity_type": "VARCHAR",
        "entity_id": "VARCHAR",
        "entered_on": "DATE",
        "completes_on": "DATE",
        "definition_version": "VARCHAR",
    },
}


#: The date column each table is partitioned by on an engine that stores partitions (Spark):
#: a day's rewrite then touches that day's files only.
PARTITIONS: dict[str, str] = {
    "companies_history": "landed_on",
    "contacts_history": "landed_on",
    "events": "landed_on",
    "quarantine": "landed_on",
    "segment_snapshots": "snapshot_date",
    "segment_deltas": "snapshot_date",
    "segment_snapshot_runs": "snapshot_date",
    "membership_states": "snapshot_date",
    "membership_state_runs": "snapshot_date",
    "picked_contact_states": "snapshot_date",
    "picked_contact_state_runs": "snapshot_date",
}


def history_table(entity: EntityType) -> str:
    """The SCD2 history table of an entity: every version ever landed."""
    return "companies_history" if entity == "company" else "contacts_history"


def history_columns(sources: Sources, entity: EntityType) -> dict[str, str]:
    """Key, validity, declared attributes and lineage of an entity's history table."""
    attributes = {name: kind.sql_type for name, kind in sources.stored_attributes(entity).items()}
    return {
        ENTITY_KEYS[entity]: "VARCHAR",
        "updated_at": "TIMESTAMP",
        "is_deleted": "BOOLEAN",
        **attributes,
        **LINEAGE_COLUMNS,
    }


def ensure_schema(warehouse: Warehouse, sources: Sources) -> None:
    """Create every table the pipeline reads or writes, and add newly declared columns."""
    tables: dict[str, dict[str, str]] = {
        history_table("company"): history_columns(sources, "company"),
        history_table("contact"): history_columns(sources, "contact"),
        "events": EVENTS_COLUMNS,
        "quarantine": QUARANTINE_COLUMNS,
        **OUTPUT_TABLES,
    }
    warehouse.ensure_tables(tables, PARTITIONS)
