"""What a destination hands out: a segment's changes or a journey's entrants, one shape each.

Both go through the same CSV writer, batcher, signer and `deliveries` bookkeeping; a `Feed`
says only what differs (the table's columns, the day column, the row order and the name of
the list in a webhook body), so the exactly-once rules are written once for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Subject = Literal["segment", "journey"]


class Takes(Protocol):
    """A destination as far as a feed cares: the segments and journeys it names."""

    journeys: tuple[str, ...]

    def wants(self, segment: str) -> bool:
        """Whether the destination takes the changes of `segment`."""
        ...


@dataclass(frozen=True)
class Shape:
    """The record layout of one kind of feed."""

    subject: Subject
    #: The columns of a record, in table (and CSV) order.
    columns: tuple[str, ...]
    #: The column holding the day a record belongs to.
    day_column: str
    #: Row order of every export, so re-delivering a day gives the same bytes.
    order: tuple[str, ...]
    #: The key of the list of records in a webhook body.
    items: str
    #: The fields of one record in a webhook body (subject and day are stated once).
    item_fields: tuple[str, ...]
    #: Columns holding a date, and a timestamp, whose text form is fixed.
    date_columns: frozenset[str]
    timestamp_columns: frozenset[str]


#: `segment_deltas` (SPEC 6) and, for a contact picked for a company segment, its company
#: and persona (NULL on every other row): removals before additions, then by entity.
SEGMENT_CHANGES = Shape(
    subject="segment",
    columns=(
        "snapshot_date",
        "segment",
        "entity_type",
        "entity_id",
        "change",
        "reason",
        "reason_detail",
        "joined_at",
        "definition_version",
        "company_id",
        "persona",
    ),
    day_column="snapshot_date",
    order=("change", "entity_type", "entity_id"),
    items="changes",
    item_fields=(
        "entity_type",
        "entity_id",
        "change",
        "reason",
        "reason_detail",
        "joined_at",
        "definition_version",
        "company_id",
        "persona",
    ),
    date_columns=frozenset({"snapshot_date"}),
    timestamp_columns=frozenset({"joined_at"}),
)

#: `journey_entrants` (SPEC 9): who entered a journey on a day, by entity.
JOURNEY_ENTRANTS = Shape(
    subject="journey",
    columns=(
        "journey",
        "entered_on",
        "entity_type",
        "entity_id",
        "completes_on",
        "definition_version",
    ),
    day_column="entered_on",
    order=("entity_type", "entity_id"),
    items="entrants",
    item_fields=("entity_type", "entity_id", "completes_on", "definition_version"),
    date_columns=frozenset({"entered_on", "completes_on"}),
    timestamp_columns=frozenset(),
)


@dataclass(frozen=True)
class Feed:
    """One segment's changes or one journey's entrants."""

    shape: Shape
    name: str

    @classmethod
    def segment(cls, name: str) -> Feed:
        """The daily changes of segment `name`."""
        return cls(SEGMENT_CHANGES, name)

    @classmethod
    def journey(cls, name: str) -> Feed:
        """The daily entrants of journey `name`."""
        return cls(JOURNEY_ENTRANTS, name)

    @property
    def key(self) -> str:
        """The feed's name in idempotency keys and files: a journey's carries `journey:`.

        Names match `^[a-z][a-z0-9_]*$`, so `journey:<name>` can never equal a segment's.
        """
        return self.name if self.shape.subject == "segment" else f"journey:{self.name}"

    def describe(self) -> str:
        """`segment <name>` or `journey <name>`, for messages."""
        return f"{self.shape.subject} {self.name}"

    def taken_by(self, destination: Takes) -> bool:
        """Whether `destination` takes this feed (segments: all unless listed; journeys: listed)."""
        if self.shape.subject == "segment":
            return destination.wants(self.name)
        return self.name in destination.journeys
