"""CSV export of a day's delta: `<path>/<segment>/<YYYY-MM-DD>.csv`, replaced atomically.

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
from segment_pipeline.deliver.changes import DELTA_COLUMNS, change_records


def export_path(destination: CsvDestination, segment: str, snapshot_date: date) -> Path:
    """Where the day's file of a segment goes (relative destinations: to the working dir)."""
    return Path(destination.path) / segment / f"{snapshot_date.isoformat()}.csv"


def export_csv(
    destination: CsvDestination, segment: str, snapshot_date: date, deltas: pd.DataFrame
) -> Path:
    """Write the segment's changes of the day, ordered by change, entity type and id.

    Re-running replaces the file; nothing else in the folder is touched.
    """
    if not destination.wants(segment):
        raise ValueError(f"destination {destination.name} does not take segment {segment}")
    records = change_records(deltas, segment, snapshot_date)
    target = export_path(destination, segment, snapshot_date)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=DELTA_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(records)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
