"""The three landing files: their columns and how a row of each can be malformed.

Column names follow `dbt_like_sql/sources.yml` (attributes) and SPEC 3 (keys, `updated_at`,
`is_deleted`, the event columns). Every column is carried as text until written, so that a
malformed value can sit in any column of any format.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from segment_pipeline.definitions.sources import EVENT_FIELDS, EVENT_PROPERTIES


@dataclass(frozen=True)
class FileSchema:
    """One landing file kind (companies, contacts, events)."""

    name: str
    columns: tuple[str, ...]
    #: Columns a row cannot be keyed without; blanking one makes a "missing key" row.
    key_columns: tuple[str, ...]
    timestamp_column: str
    #: (column, value) pairs that do not fit the column's declared type.
    type_faults: tuple[tuple[str, str], ...]
    #: Columns written as bare JSON (numbers, booleans, objects, arrays) rather than JSON
    #: strings.
    json_literals: frozenset[str]

    @property
    def arrow_schema(self) -> pa.Schema:
        """All-text Arrow schema: parquet files keep bad values as they came."""
        return pa.schema([(column, pa.string()) for column in self.columns])


COMPANIES = FileSchema(
    name="companies",
    columns=(
        "company_id",
        "updated_at",
        "is_deleted",
        "name",
        "domain",
        "industry",
        "employee_count",
        "country",
        "annual_revenue",
        "founded_on",
        "tech_stack",
    ),
    key_columns=("company_id",),
    timestamp_column="updated_at",
    type_faults=(
        ("employee_count", "many"),
        ("annual_revenue", "n/a"),
        ("founded_on", "1999-02-30"),
        ("tech_stack", "salesforce"),
    ),
    json_literals=frozenset({"is_deleted", "employee_count", "annual_revenue", "tech_stack"}),
)

CONTACTS = FileSchema(
    name="contacts",
    columns=(
        "contact_id",
        "updated_at",
        "is_deleted",
        "company_id",
        "email",
        "title",
        "seniority",
        "department",
        "is_former_employee",
        "signed_up_at",
    ),
    key_columns=("contact_id",),
    timestamp_column="updated_at",
    type_faults=(("is_former_employee", "maybe"), ("is_deleted", "unknown")),
    json_literals=frozenset({"is_deleted", "is_former_employee"}),
)

EVENTS = FileSchema(
    name="events",
    columns=(*EVENT_FIELDS, EVENT_PROPERTIES),
    key_columns=("event_id", "contact_id"),
    timestamp_column="occurred_at",
    type_faults=(("properties", "not json"),),
    json_literals=frozenset({"properties"}),
)
