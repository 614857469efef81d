"""A day's delta or entrants as plain, ordered records: what every destination hands out.

Delivering the same day twice must produce the same bytes (a re-sent webhook batch is
byte-identical, a re-exported CSV file is the same file), so the row order and the text
form of every value are fixed here, once, instead of being left to pandas' defaults.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd

from segment_pipeline.deliver.feeds import SEGMENT_CHANGES, Feed

#: The columns of `segment_deltas` (SPEC 6), in table order, then a picked contact's
#: `company_id` and `persona`.
DELTA_COLUMNS: tuple[str, ...] = SEGMENT_CHANGES.columns

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


def _text(feed: Feed, column: str, value: object) -> str | None:
    """One cell as text; SQL NULL, NaN and NaT all become None."""
    # pandas-stubs' isna overloads name scalar types only; at runtime it takes any cell.
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return None
    if column in feed.shape.date_columns:
        return iso_date(value if isinstance(value, date) else pd.Timestamp(str(value)))
    if column in feed.shape.timestamp_columns:
        return iso_timestamp(value if isinstance(value, datetime) else pd.Timestamp(str(value)))
    return str(value)


def feed_records(frame: pd.DataFrame, feed: Feed, day: date) -> list[Record]:
    """The frame's rows as text records in the feed's order, checked to be the feed's day.

    A frame holding another segment's (journey's) or another day's rows is a bug upstream,
    and sending it to an external system cannot be undone, so it is refused, not filtered.
    """
    shape = feed.shape
    missing = [column for column in shape.columns if column not in frame.columns]
    if missing:
        raise ValueError(f"the {shape.items} frame lacks the columns {', '.join(missing)}")
    records = [
        {column: _text(feed, column, row[column]) for column in shape.columns}
        for row in frame.to_dict("records")
    ]
    iso = day.isoformat()
    strays = {(r[shape.subject], r[shape.day_column]) for r in records} - {(feed.name, iso)}
    if strays:
        raise ValueError(
            f"the {shape.items} frame of {feed.describe()} for {iso} holds rows of "
            f"{sorted(strays, key=str)}"
        )
    return sorted(records, key=lambda record: tuple(record[key] or "" for key in shape.order))
