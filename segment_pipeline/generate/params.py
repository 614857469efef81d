"""What to generate (`GenerateParams`) and what was written (`GenerateSummary`)."""

from __future__ import annotations

from datetime import date
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

FileFormat = Literal["csv", "jsonl", "parquet"]

#: The formats in the order `auto` rotates through them.
FORMATS: tuple[FileFormat, ...] = ("csv", "jsonl", "parquet")

#: Above this many events `auto` writes parquet only: text formats are slow to read at scale.
BIG_RUN_EVENTS = 1_000_000


class GenerateParams(BaseModel):
    """The size, time span and seed of a synthetic landing zone; defaults give a small demo."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    companies: int = Field(default=200, ge=1)
    contacts: int = Field(default=1000, ge=0)
    events: int = Field(default=20000, ge=0)
    days: int = Field(default=14, ge=1)
    start: date = date(2026, 1, 1)
    seed: int = Field(default=42, ge=0)
    file_format: Literal["auto", "csv", "jsonl", "parquet"] = "auto"

    @model_validator(mode="after")
    def _events_need_contacts(self) -> Self:
        if self.events and not self.contacts:
            raise ValueError("events need at least one contact to happen to")
        return self

    def format_for(self, entity_index: int, files_written: int) -> FileFormat:
        """The format of an entity's next file.

        `auto` rotates the three formats per entity (offset by entity, counted over the files
        actually written, so skipped days do not break the rotation) so that every reader is
        exercised by a small run; a big run is parquet throughout.
        """
        if self.file_format != "auto":
            return self.file_format
        if self.events > BIG_RUN_EVENTS:
            return "parquet"
        return FORMATS[(entity_index + files_written) % len(FORMATS)]


class GenerateSummary(BaseModel):
    """Row counts of a generated landing zone, so a caller can report what it got."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    days: int
    companies_rows: int
    contacts_rows: int
    events_rows: int
    malformed_rows: int
    duplicate_events: int
    files: dict[str, int] = Field(
        default_factory=dict, description="rows per file, keyed by its path relative to `out`"
    )
