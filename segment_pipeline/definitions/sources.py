"""`sources.yml`: the CRM attribute columns and their declared types."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from segment_pipeline.definitions.yaml_files import validation_errors
from segment_pipeline.errors import DefinitionError

EntityType = Literal["company", "contact"]

#: The key column of each entity's source table.
ENTITY_KEYS: dict[str, str] = {"company": "company_id", "contact": "contact_id"}

#: Columns every CRM record has whatever sources.yml declares.
SYSTEM_COLUMNS = ("updated_at", "is_deleted")

#: The contact column naming the contact's company: company conditions, references from a
#: contact segment to a company segment and personas read it, and events are attributed
#: through it. A project may leave it out; its contacts then belong to no company.
CONTACT_COMPANY = "company_id"


class ColumnType(StrEnum):
    """The declared types of SPEC 3, named as a user writes them."""

    TEXT = "text"
    INTEGER = "integer"
    DOUBLE = "double"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    #: Any number of texts (tags, a tech stack): a JSON array of strings in a landing file.
    LIST_TEXT = "list<text>"

    @property
    def sql_type(self) -> str:
        """The SQL type name sqlglot understands for this declared type (a list is an
        array of text: VARCHAR[] on DuckDB, array<string> on Spark)."""
        return {
            "text": "VARCHAR",
            "integer": "BIGINT",
            "double": "DOUBLE",
            "boolean": "BOOLEAN",
            "date": "DATE",
            "timestamp": "TIMESTAMP",
            "list<text>": "ARRAY<VARCHAR>",
        }[self.value]


#: The events' own typed columns (SPEC 3), in table order; the JSON object
#: `EVENT_PROPERTIES` follows them. The warehouse table, ingestion, the generator, the
#: visible events and the models' view of `events` all derive from this one declaration.
EVENT_FIELDS: dict[str, ColumnType] = {
    "event_id": ColumnType.TEXT,
    "contact_id": ColumnType.TEXT,
    "company_id": ColumnType.TEXT,
    "event_name": ColumnType.TEXT,
    "occurred_at": ColumnType.TIMESTAMP,
}
#: The events' free-form JSON object, read in predicates as `properties.<key>`.
EVENT_PROPERTIES = "properties"


class SourceTable(BaseModel):
    """The attribute columns of one CRM source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[str, ColumnType] = Field(default_factory=dict)

    @field_validator("columns")
    @classmethod
    def _identifiers(cls, columns: dict[str, ColumnType]) -> dict[str, ColumnType]:
        for name in columns:
            if not name.isidentifier() or name != name.lower():
                raise ValueError(f"column {name!r} must be a lower-case identifier")
            if name in SYSTEM_COLUMNS:
                raise ValueError(f"column {name!r} is a system column and cannot be declared")
        return columns


class Sources(BaseModel):
    """Both CRM sources; events have a fixed schema (SPEC 3)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    companies: SourceTable = Field(default_factory=SourceTable)
    contacts: SourceTable = Field(default_factory=SourceTable)

    def table(self, entity: EntityType) -> SourceTable:
        """The source table of an entity type."""
        return self.companies if entity == "company" else self.contacts

    def attributes(self, entity: EntityType) -> dict[str, ColumnType]:
        """Declared attribute columns of an entity, without its own key column."""
        key = ENTITY_KEYS[entity]
        return {name: kind for name, kind in self.table(entity).columns.items() if name != key}

    @property
    def contacts_have_company(self) -> bool:
        """Whether contacts declare their company (`company_id`)."""
        return CONTACT_COMPANY in self.contacts.columns

    def stored_attributes(self, entity: EntityType) -> dict[str, ColumnType]:
        """The attributes an entity's history keeps: the declared ones, and for contacts
        always their company (NULL when not declared), which the engine reads."""
        attributes = self.attributes(entity)
        if entity == "contact" and not self.contacts_have_company:
            attributes[CONTACT_COMPANY] = ColumnType.TEXT
        return attributes


def load_sources(project_dir: Path) -> Sources:
    """Read `<project>/sources.yml`; a mistake raises `DefinitionError` naming the place."""
    path = project_dir / "sources.yml"
    if not path.is_file():
        raise DefinitionError(
            path, "", "file not found: create it with `companies:` and `contacts:`"
        )
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise DefinitionError(path, "", f"not valid YAML ({error.__class__.__name__})") from error
    try:
        return Sources.model_validate(raw)
    except ValidationError as error:
        raise validation_errors(path, error, Sources)[0] from error
