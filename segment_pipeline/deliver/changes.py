"""A day's delta as plain, ordered records: the one shape every destination hands out.

Delivering the same day twice must produce the same bytes (a re-sent webhook batch is
byte-identical, a re-exported CSV file is the same file), so the row order and the text
form of every value are fixed here, once, instead of being left to pandas' defaults.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd

#: The columns of `segment_deltas` (SPEC 6), in table order.
DELTA_COLUMNS: tuple[str, ...] = (
    "snapshot_date",
    "segment",
    "entity_type",
    "entity_id",
    "change",
    "reason",
    "reason_detail",
    "joined_at",
    "definition_version",
)

#: Row order of every export: removals before additions, then by entity.
ORDER: tuple[str, ...] = ("change", "entity_type", "entity_id")

Record = dict[str, str | None]


def iso_date(value: date) -> str:
    """`YYYY-MM-DD`, whether pandas handed over a date or a midnight timestamp."""
    if isinstance(value, datetime):
        value = value.date()
    return value.isoformat()


def iso_timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with microseconds and a `Z`: fixed width, so text order is time order."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(column: str, value: object) -> str | None:
    """One cell as text; SQL NULL, NaN and NaT all become None."""
    if value is None or pd.isna(value):
        return None
    if column == "snapshot_date":
        return iso_date(value if isinstance(value, date) else pd.Timestamp(str(value)))
    if column == "joined_at":
        return iso_timestamp(value if isinstance(value, datetime) else pd.Timestamp(str(value)))
    return str(value)


def change_records(deltas: pd.DataFrame, segment: str, snapshot_date: date) -> list[Record]:
    """The delta's rows as text records in `ORDER`, checked to be this segment's day.

    A frame holding another segment's or another day's rows is a bug upstream, and sending
    it to an external system cannot be undone, so it is refused rather than filtered.
    """
    missing = [column for column in DELTA_COLUMNS if column not in deltas.columns]
    if missing:
        raise ValueError(f"the delta frame lacks the columns {', '.join(missing)}")
    records = [
        {column: _text(column, row[column]) for column in DELTA_COLUMNS}
        for row in deltas.to_dict("records")
    ]
    day = snapshot_date.isoformat()
    strays = {(r["segment"], r["snapshot_date"]) for r in records} - {(segment, day)}
    if strays:
        raise ValueError(
            f"the delta of {segment} for {day} holds rows of {sorted(strays, key=str)}"
        )
    return sorted(records, key=lambda record: tuple(record[key] or "" for key in ORDER))
