"""Ingestion on Spark (landing files read on the driver) quarantines exactly as DuckDB's
readers do: the same rows, with the same file, line, reason and raw text, and keeps the
same typed rows; and a Spark warehouse opened again reads what it wrote, no more."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segment_pipeline.definitions.sources import Sources
from segment_pipeline.ingest.landing import ingest_landing_date
from segment_pipeline.settings import Settings
from segment_pipeline.warehouse import Warehouse, WarehouseSettings
from segment_pipeline.warehouse.engine import EngineName
from segment_pipeline.warehouse.schema import ensure_schema
from tests.conftest import SOURCES
from tests.ingest.test_landing import LIST_SOURCES, write_list_landing

from .conftest import table_rows

pytestmark = pytest.mark.spark

DAY1, DAY2 = date(2026, 1, 1), date(2026, 1, 2)
EVENT = {"event_id": "e1", "contact_id": "c1", "event_name": "x", "occurred_at": "2026-01-01"}
TABLES = ("quarantine", "events", "companies_history", "contacts_history")


def write_landing(root: Path) -> None:
    """Every line fault of every format, and values whose text must come out the same."""
    day1 = root / DAY1.isoformat()
    day1.mkdir(parents=True)
    events = [
        json.dumps(EVENT)[:-1],
        "{broken json",
        "[1, 2, 3]",
        '"a string"',
        "42",
        "true",
        "null",
        "",
        "   ",
        json.dumps({**EVENT, "event_id": "e2", "properties": [1]}),
        json.dumps({**EVENT, "event_id": "e3", "properties": {"plan": "pro", "n": 1.50}}),
        json.dumps({**EVENT, "event_id": "e4", "properties": "not an object"}),
        json.dumps({**EVENT, "event_id": "e5", "occurred_at": "2026-01-01T10:00:00+02:00"}),
        json.dumps({**EVENT, "event_id": "e6", "occurred_at": "not-a-date", "extra": True}),
        json.dumps({**EVENT, "event_id": "e7", "properties": {"t": "é", "deep": {"a": [1]}}}),
    ]
    (day1 / "events.jsonl").write_text("\n".join(events) + "\n")
    (day1 / "contacts.csv").write_text(
        "\n".join(
            [
                "contact_id,updated_at,company_id,seniority,is_former_employee",
                "c1,2025-12-01T00:00:00Z,co1,vp,false",
                "c2,2025-12-01T00:00:00Z,co1",
                "c3,2025-12-01T00:00:00Z,co1,vp,true,extra",
                'c4,2025-12-01T00:00:00Z,co1,"multi',
                'line",maybe',
                "",
                "c5,,co1,ic,",
                'c6,2025-12-01T00:00:00Z,"co,1",,false',
            ]
        )
        + "\n"
    )
    table = pa.table(
        {
            "company_id": ["co1", "co2", None],
            "updated_at": [datetime(2025, 12, 1, 8), datetime(2025, 12, 2), None],
            "employee_count": pa.array([10, None, 7], pa.int64()),
            "country": ["GB", "US", "DE"],
        }
    )
    pq.write_table(table, day1 / "companies.parquet")
    day2 = root / DAY2.isoformat()
    day2.mkdir()
    (day2 / "events.jsonl").write_text(json.dumps({**EVENT, "event_id": "e3"}) + "\n")


def ingest(
    root: Path,
    landing: Path,
    engine: EngineName,
    declared: dict = SOURCES,
    days: tuple[date, ...] = (DAY1, DAY2, DAY1),
) -> Settings:
    path = root / ("w.duckdb" if engine == "duckdb" else "w")
    settings = Settings(project_dir=root, landing_dir=landing, warehouse=path, engine=engine)
    sources = Sources.model_validate(declared)
    with Warehouse.open(settings.warehouse_settings) as warehouse:
        ensure_schema(warehouse, sources)
        for day in days:
            ingest_landing_date(warehouse, sources, landing, day)
    return settings


def test_spark_ingests_and_quarantines_exactly_as_duckdb(tmp_path, spark_session):
    landing = tmp_path / "landing"
    write_landing(landing)
    duckdb = ingest(tmp_path / "duckdb", landing, "duckdb")
    spark = ingest(tmp_path / "spark", landing, "spark")
    quarantined = table_rows(duckdb, "quarantine")
    assert len(quarantined) >= 12
    for table in TABLES:
        assert table_rows(spark, table) == table_rows(duckdb, table), table


def test_spark_reads_list_attributes_and_quarantines_bad_lists_as_duckdb(tmp_path, spark_session):
    """A list<text> column from CSV, JSON lines and parquet: the same lists (stored as
    array<string>) and the same rows quarantined with the same reasons."""
    landing = tmp_path / "landing"
    write_list_landing(landing)
    days = tuple(date(2026, 1, day) for day in range(1, 5))
    duckdb = ingest(tmp_path / "duckdb", landing, "duckdb", LIST_SOURCES, days)
    spark = ingest(tmp_path / "spark", landing, "spark", LIST_SOURCES, days)
    assert len(table_rows(duckdb, "quarantine")) == 14
    for table in ("quarantine", "companies_history"):
        assert table_rows(spark, table) == table_rows(duckdb, table), table
    with Warehouse.open(spark.warehouse_settings, read_only=True) as warehouse:
        assert warehouse.column_types("companies_history")["tags"] == "ARRAY<TEXT>"


def test_a_reopened_spark_warehouse_reads_what_it_wrote(tmp_path, spark_session):
    """Partitions emptied by a rewrite stay empty when the catalog is declared anew from
    the folders (here: after another warehouse was opened on the same session)."""
    landing = tmp_path / "landing"
    write_landing(landing)
    spark = ingest(tmp_path / "spark", landing, "spark")
    written = {table: table_rows(spark, table) for table in TABLES}
    (landing / DAY2.isoformat() / "events.jsonl").write_text("")
    with Warehouse.open(spark.warehouse_settings) as warehouse:
        ingest_landing_date(warehouse, Sources.model_validate(SOURCES), landing, DAY2)
    emptied = table_rows(spark, "events")
    assert len(emptied) == len(written["events"]) - 1
    other = WarehouseSettings(path=tmp_path / "other", engine="spark")
    with Warehouse.open(other) as warehouse:
        assert not warehouse.table_exists("events")
    assert table_rows(spark, "events") == emptied
    for table in ("quarantine", "companies_history", "contacts_history"):
        assert table_rows(spark, table) == written[table]


def test_spark_ingests_contacts_without_a_company_as_duckdb(tmp_path, spark_session):
    """A `sources.yml` whose contacts declare no `company_id` (SPEC 4.1 allows it): the
    contacts' history holds NULL companies on both engines, not a failed ingestion."""
    landing = tmp_path / "landing"
    write_landing(landing)
    contacts = dict(SOURCES["contacts"]["columns"])
    del contacts["company_id"]
    declared = {**SOURCES, "contacts": {"columns": contacts}}
    duckdb = ingest(tmp_path / "duckdb", landing, "duckdb", declared)
    spark = ingest(tmp_path / "spark", landing, "spark", declared)
    rows = table_rows(duckdb, "contacts_history")
    assert rows, "contacts were kept"
    assert table_rows(spark, "contacts_history") == rows
