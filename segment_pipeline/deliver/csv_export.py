"""CSV export of a day's delta: `<path>/<segment>/<YYYY-MM-DD>.csv`, replaced atomically.

A journey's entrants go to `<path>/journeys/<journey>/<YYYY-MM-DD>.csv` (a segment named
`journeys` keeps its day files beside those folders: dates and names never clash).

A consumer polling the folder must never read half a file, so the rows go to a temporary
file in the same directory (same filesystem) that then replaces the target in one rename.
A day without changes still gets a file with the header: it tells the consumer the day ran.
"""

from __future__ import annotations

import csv
import os
import tempfile
from datetime import date
from pathlib import Path

import pandas as pd

from segment_pipeline.definitions.destinations import CsvDestination
from segment_pipeline.deliver.changes import feed_records
from segment_pipeline.deliver.feeds import Feed


def export_path(destination: CsvDestination, feed: Feed, day: date) -> Path:
    """Where the day's file of a feed goes (relative destinations: to the working dir)."""
    folder = Path(destination.path)
    if feed.shape.subject == "journey":
        folder = folder / "journeys"
    return folder / feed.name / f"{day.isoformat()}.csv"


def export_csv(destination: CsvDestination, feed: Feed, day: date, frame: pd.DataFrame) -> Path:
    """Write the feed's records of the day in the feed's order, replacing the file.

    Re-running replaces the file; nothing else in the folder is touched.
    """
    if not feed.taken_by(destination):
        raise ValueError(f"destination {destination.name} does not take {feed.describe()}")
    records = feed_records(frame, feed, day)
    target = export_path(destination, feed, day)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=feed.shape.columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(records)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
