"""CSV export: one file per segment and day, deterministic, replaced atomically."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from segment_pipeline.definitions.destinations import CsvDestination
from segment_pipeline.deliver import csv_export, export_csv
from segment_pipeline.deliver.changes import DELTA_COLUMNS
from segment_pipeline.deliver.feeds import Feed

DAY = date(2026, 3, 1)
ENGAGED = Feed.segment("engaged")


@pytest.fixture
def destination(tmp_path) -> CsvDestination:
    return CsvDestination(name="exports", type="csv", path=str(tmp_path / "exports"))


def read(path):
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.reader(stream))


def test_writes_the_day_file_in_a_deterministic_order(destination, deltas, tmp_path):
    path = export_csv(destination, ENGAGED, DAY, deltas(7))

    assert path == tmp_path / "exports" / "engaged" / "2026-03-01.csv"
    header, *rows = read(path)
    assert header == list(DELTA_COLUMNS)
    assert len(rows) == 7
    keys = [(row[4], row[2], row[3]) for row in rows]
    assert keys == sorted(keys)
    first = dict(zip(header, rows[0], strict=True))
    assert first == {
        "snapshot_date": "2026-03-01",
        "segment": "engaged",
        "entity_type": "company",
        "entity_id": "c00001",
        "change": "added",
        "reason": "",
        "reason_detail": "",
        "joined_at": "2026-02-01T09:31:00.123456Z",
        "definition_version": "v1",
        "company_id": "",
        "persona": "",
    }
    removed = dict(zip(header, rows[-1], strict=True))
    assert removed["change"] == "removed"
    assert removed["joined_at"] == ""
    assert removed["reason"] == "no_longer_matches"


def test_same_delta_gives_the_same_bytes_whatever_the_row_order(destination, deltas):
    frame = deltas(40)
    first = export_csv(destination, ENGAGED, DAY, frame).read_bytes()
    second = export_csv(
        destination, ENGAGED, DAY, frame.sample(frac=1, random_state=3)
    ).read_bytes()

    assert first == second


def test_rerun_replaces_the_file_and_leaves_no_temporary(destination, deltas):
    export_csv(destination, ENGAGED, DAY, deltas(10))
    path = export_csv(destination, ENGAGED, DAY, deltas(2, version="v2"))

    header, *rows = read(path)
    assert len(rows) == 2
    version = header.index("definition_version")
    assert {row[version] for row in rows} == {"v2"}
    assert [p.name for p in path.parent.iterdir()] == ["2026-03-01.csv"]


def test_a_failed_write_keeps_the_previous_file(destination, deltas, monkeypatch):
    path = export_csv(destination, ENGAGED, DAY, deltas(5))
    before = path.read_bytes()

    def failing_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(csv_export.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        export_csv(destination, ENGAGED, DAY, deltas(9))

    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["2026-03-01.csv"]


def test_an_empty_day_still_gets_a_header(destination, deltas):
    header, *rows = read(export_csv(destination, ENGAGED, DAY, deltas(0)))

    assert header == list(DELTA_COLUMNS)
    assert rows == []


def test_a_segment_the_destination_does_not_take_is_refused(tmp_path, deltas):
    only_churn = CsvDestination(
        name="exports", type="csv", path=str(tmp_path), segments=("churned",)
    )

    with pytest.raises(ValueError, match="does not take segment engaged"):
        export_csv(only_churn, ENGAGED, DAY, deltas(1))
