"""Ingestion of a landing date: formats, types, time zones, duplicates, quarantine, idempotence."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlglot import exp

from segment_pipeline.errors import ConfigError, IngestError
from segment_pipeline.ingest.landing import ingest_landing_date

DAY1, DAY2 = date(2026, 1, 1), date(2026, 1, 2)
EVENT = '{"event_id": "e1", "contact_id": "c1", "event_name": "x", "occurred_at": "2026-01-01"'


def table(warehouse, name: str, order: str) -> list[tuple]:
    return warehouse.rows(exp.select("*").from_(name).order_by(*order.split(",")))


def companies(warehouse) -> list[tuple]:
    query = exp.select("company_id", "updated_at", "is_deleted", "employee_count", "country")
    return warehouse.rows(query.from_("companies_history").order_by("company_id", "updated_at"))


EXPECTED_COMPANIES = [
    ("co1", datetime(2025, 12, 1, 8, 0), False, 500, "GB"),
    ("co2", datetime(2025, 12, 2, 0, 0), True, None, None),
]


def test_csv_jsonl_and_parquet_give_the_same_rows(warehouse, sources, landing):
    rows = [
        {
            "company_id": "co1",
            "updated_at": "2025-12-01T10:00:00+02:00",
            "employee_count": "500",
            "country": "GB",
        },
        {"company_id": "co2", "updated_at": "2025-12-02T00:00:00Z", "is_deleted": "true"},
    ]
    results = {}
    for fmt in ("csv", "jsonl", "parquet"):
        day = f"2026-01-0{('csv', 'jsonl', 'parquet').index(fmt) + 1}"
        path = landing.root / day / f"companies.{fmt}"
        path.parent.mkdir(parents=True)
        columns = ["company_id", "updated_at", "is_deleted", "employee_count", "country"]
        if fmt == "csv":
            lines = [",".join(columns)] + [
                ",".join(str(row.get(c, "")) for c in columns) for row in rows
            ]
            path.write_text("\n".join(lines) + "\n")
        elif fmt == "jsonl":
            landing.jsonl(day, "companies", rows)
        else:
            pq.write_table(pa.table({c: [row.get(c) for row in rows] for c in columns}), path)
        summary = ingest_landing_date(warehouse, sources, landing.root, date.fromisoformat(day))
        assert summary.sources["companies"].rows_kept == 2
        results[fmt] = [row for row in companies(warehouse)]
        warehouse.execute(exp.delete("companies_history"))
    assert results["csv"] == results["jsonl"] == results["parquet"] == EXPECTED_COMPANIES


def test_offsets_convert_to_utc_and_naive_times_are_utc(warehouse, sources, landing):
    landing.jsonl(
        "2026-01-01",
        "events",
        [
            {
                "event_id": "e1",
                "contact_id": "c1",
                "event_name": "x",
                "occurred_at": "2026-01-01T01:30:00+05:30",
            },
            {
                "event_id": "e2",
                "contact_id": "c1",
                "event_name": "x",
                "occurred_at": "2026-01-01 01:30:00",
            },
            {
                "event_id": "e3",
                "contact_id": "c1",
                "event_name": "x",
                "occurred_at": "2025-12-31T23:00:00.123456-02:00",
            },
        ],
    )
    ingest_landing_date(warehouse, sources, landing.root, DAY1)
    times = warehouse.rows(exp.select("event_id", "occurred_at").from_("events").order_by("1"))
    assert times == [
        ("e1", datetime(2025, 12, 31, 20, 0)),
        ("e2", datetime(2026, 1, 1, 1, 30)),
        ("e3", datetime(2026, 1, 1, 1, 0, 0, 123456)),
    ]


def test_values_that_do_not_fit_their_type_are_quarantined_with_a_reason(
    warehouse, sources, landing
):
    landing.jsonl(
        "2026-01-01",
        "companies",
        [
            {"company_id": "ok", "updated_at": "2025-12-01T00:00:00Z", "employee_count": 12},
            {"company_id": "a", "updated_at": "2025-12-01T00:00:00Z", "employee_count": "many"},
            {"company_id": "b", "updated_at": "2025-12-01T00:00:00Z", "employee_count": 12.5},
            {"company_id": "c", "updated_at": "2026-13-45", "employee_count": 3},
            {"company_id": "d", "updated_at": "2025-12-01T00:00:00Z", "is_deleted": "maybe"},
            {"company_id": "", "updated_at": "2025-12-01T00:00:00Z"},
            {"updated_at": "2025-12-01T00:00:00Z"},
            {"company_id": "e"},
        ],
    )
    summary = ingest_landing_date(warehouse, sources, landing.root, DAY1)
    assert summary.sources["companies"].rows_kept == 1
    reasons = {
        line: reason
        for line, reason in warehouse.rows(
            exp.select("line", "reason").from_("quarantine").order_by("line")
        )
    }
    assert reasons == {
        2: "employee_count 'many' is not an integer",
        3: "employee_count '12.5' is not an integer",
        4: "updated_at '2026-13-45' is not an ISO 8601 timestamp",
        5: "is_deleted 'maybe' is not a boolean (true/false)",
        6: "missing company_id",
        7: "missing company_id",
        8: "missing updated_at",
    }


def test_every_malformed_line_is_quarantined_and_nothing_is_dropped(warehouse, sources, landing):
    landing.text(
        "2026-01-01",
        "events.jsonl",
        "\n".join(
            [
                EVENT + "}",
                "{broken json",
                "[1, 2, 3]",
                '"a string"',
                "",
                EVENT.replace("e1", "e2") + ', "properties": [1]}',
                EVENT.replace("e1", "e3") + ', "properties": {"plan": "pro"}}',
            ]
        )
        + "\n",
    )
    landing.text(
        "2026-01-01",
        "contacts.csv",
        "\n".join(
            [
                "contact_id,updated_at,company_id,seniority",
                "c1,2025-12-01T00:00:00Z,co1,vp",
                "c2,2025-12-01T00:00:00Z,co1",
                "c3,2025-12-01T00:00:00Z,co1,vp,extra",
                'c4,2025-12-01T00:00:00Z,co1,"multi',
                'line"',
                "c5,2025-12-01T00:00:00Z,co1,ic",
            ]
        )
        + "\n",
    )
    summary = ingest_landing_date(warehouse, sources, landing.root, DAY1)
    quarantined = warehouse.rows(
        exp.select("source", "line", "reason", "raw").from_("quarantine").order_by("1", "2")
    )
    assert [(source, line) for source, line, _, _ in quarantined] == [
        ("contacts", 3),
        ("contacts", 4),
        ("events", 2),
        ("events", 3),
        ("events", 4),
        ("events", 6),
    ]
    reasons = [reason for _, _, reason, _ in quarantined]
    assert "number of fields" in reasons[0] and "number of fields" in reasons[1]
    assert reasons[2:] == [
        "the line is not valid JSON",
        "the line is a JSON array, expected an object",
        "the line is a JSON string, expected an object",
        "properties is not a JSON object",
    ]
    assert quarantined[2][3] == "{broken json"
    kept_lines = warehouse.rows(
        exp.select("contact_id", "source_line").from_("contacts_history").order_by("1")
    )
    assert kept_lines == [("c1", 2), ("c4", 5), ("c5", 7)]
    for source, expected_in in {"contacts": 5, "events": 6}.items():
        part = summary.sources[source]
        assert part.rows_read == expected_in == part.rows_kept + part.rows_quarantined


def test_duplicate_event_ids_first_landed_copy_wins_whatever_the_ingestion_order(
    warehouse, sources, landing
):
    first = {
        "event_id": "e1",
        "contact_id": "c1",
        "event_name": "first",
        "occurred_at": "2026-01-01T00:00:00Z",
    }
    again = {**first, "event_name": "again"}
    landing.jsonl("2026-01-01", "events", [first, again])
    landing.jsonl("2026-01-02", "events", [again])
    for day in (DAY2, DAY1):
        ingest_landing_date(warehouse, sources, landing.root, day)
    counted = warehouse.rows(
        exp.select("event_name", "landed_on", "source_line")
        .from_("events")
        .where(exp.column("is_first_copy"))
    )
    assert counted == [("first", DAY1, 1)]
    ingest_landing_date(warehouse, sources, landing.root, DAY2)
    assert (
        warehouse.scalar(
            exp.select(exp.func("count", exp.Star()))
            .from_("events")
            .where(exp.column("is_first_copy"))
        )
        == 1
    )


def test_ingesting_a_landing_date_twice_changes_nothing(warehouse, sources, landing):
    landing.jsonl(
        "2026-01-01",
        "contacts",
        [
            {"contact_id": "c1", "updated_at": "2025-12-01T00:00:00Z", "company_id": "co1"},
            {"contact_id": "", "updated_at": "2025-12-01T00:00:00Z"},
        ],
    )
    landing.jsonl(
        "2026-01-01",
        "events",
        [
            {"event_id": "e1", "contact_id": "c1", "event_name": "x", "occurred_at": "2026-01-01"},
        ],
    )
    ingest_landing_date(warehouse, sources, landing.root, DAY1)
    before = {
        name: table(warehouse, name, "1,2") for name in ("contacts_history", "events", "quarantine")
    }
    ingest_landing_date(warehouse, sources, landing.root, DAY1)
    after = {name: table(warehouse, name, "1,2") for name in before}
    assert before == after
    assert len(after["contacts_history"]) == 1 and len(after["quarantine"]) == 1


def test_missing_files_and_missing_days_are_not_errors(warehouse, sources, landing):
    landing.jsonl("2026-01-01", "events", [])
    summary = ingest_landing_date(warehouse, sources, landing.root, DAY1)
    assert summary.sources["companies"].files == []
    summary = ingest_landing_date(warehouse, sources, landing.root, DAY2)
    assert summary.rows_kept == summary.rows_quarantined == 0


def test_a_missing_landing_root_is_a_configuration_error(warehouse, sources, tmp_path):
    with pytest.raises(ConfigError, match=r"landing directory .*nowhere does not exist"):
        ingest_landing_date(warehouse, sources, tmp_path / "nowhere", DAY1)


def test_an_unreadable_file_fails_naming_it_and_keeps_what_was_stored(warehouse, sources, landing):
    landing.jsonl(
        "2026-01-01",
        "contacts",
        [
            {"contact_id": "c1", "updated_at": "2025-12-01T00:00:00Z"},
        ],
    )
    ingest_landing_date(warehouse, sources, landing.root, DAY1)
    broken = landing.root / "2026-01-01" / "events.parquet"
    broken.write_bytes(b"this is not parquet")
    with pytest.raises(IngestError, match=r"cannot read .*2026-01-01/events\.parquet: "):
        ingest_landing_date(warehouse, sources, landing.root, DAY1)
    assert table(warehouse, "contacts_history", "1")[0][0] == "c1"


def test_undeclared_columns_are_ignored_and_reported(warehouse, sources, landing):
    landing.jsonl(
        "2026-01-01",
        "companies",
        [
            {"company_id": "co1", "updated_at": "2025-12-01T00:00:00Z", "favourite_colour": "red"},
        ],
    )
    summary = ingest_landing_date(warehouse, sources, landing.root, DAY1)
    assert summary.sources["companies"].ignored_columns == ["favourite_colour"]


def test_event_company_comes_from_the_contact_at_the_time_it_happened(
    warehouse, sources, landing, tmp_path: Path
):
    from segment_pipeline.compile.visible import visible_events, visible_versions

    landing.jsonl(
        "2026-01-01",
        "contacts",
        [
            {"contact_id": "c1", "updated_at": "2025-12-01T00:00:00Z", "company_id": "old"},
            {"contact_id": "c1", "updated_at": "2025-12-15T00:00:00Z", "company_id": "new"},
        ],
    )
    landing.jsonl(
        "2026-01-01",
        "events",
        [
            {
                "event_id": "e1",
                "contact_id": "c1",
                "event_name": "x",
                "occurred_at": "2025-12-10T00:00:00Z",
            },
            {
                "event_id": "e2",
                "contact_id": "c1",
                "event_name": "x",
                "occurred_at": "2025-12-20T00:00:00Z",
            },
            {
                "event_id": "e3",
                "contact_id": "c1",
                "company_id": "given",
                "event_name": "x",
                "occurred_at": "2025-12-20T00:00:00Z",
            },
        ],
    )
    ingest_landing_date(warehouse, sources, landing.root, DAY1)
    versions = visible_versions(sources, "contact", DAY1)
    warehouse.execute(exp.Create(this=exp.to_table("v"), kind="TABLE", expression=versions))
    rows = warehouse.rows(
        exp.select("event_id", "company_id")
        .from_(visible_events(DAY1, "v").subquery("e"))
        .order_by("event_id")
    )
    assert rows == [("e1", "old"), ("e2", "new"), ("e3", "given")]


#: A list attribute's values as each format carries them, with the list each must give
#: (None: NULL), and values that are no list of text, with the text the reason quotes.
LIST_SOURCES = {
    "companies": {"columns": {"tags": "list<text>", "country": "text"}},
    "contacts": {"columns": {"company_id": "text"}},
}
GOOD_LISTS = [["pro", "beta"], [], None, ['say "hi"', "a,b", "é"], ["pro", "pro"]]
BAD_CSV_LISTS = ["pro", "[1, 2]", '["a", null]', '{"a": 1}', '["a"] trailing', '["a\\x"]']
BAD_JSON_LISTS = ["pro", [1, 2], ["a", None], {"a": 1}, True, [["a"]]]
BAD_JSON_TEXTS = ["pro", "[1,2]", '["a",null]', '{"a":1}', "true", '[["a"]]']


def _list_rows(lists: list[object]) -> list[dict[str, object]]:
    return [
        {"company_id": f"co{n}", "updated_at": "2025-12-01T00:00:00Z", "tags": value}
        for n, value in enumerate(lists)
    ]


def write_list_landing(root: Path) -> None:
    """Day 1 CSV (JSON array text), day 2 JSON lines (arrays), day 3 parquet (list<string>
    columns: good lists and a null item; day 4: a list of integers)."""
    folder = root / "2026-01-01"
    folder.mkdir(parents=True)
    cells = [json.dumps(value) if value is not None else "" for value in GOOD_LISTS]
    lines = ["company_id,updated_at,tags"] + [
        f'co{n},2025-12-01T00:00:00Z,"{cell.replace(chr(34), chr(34) * 2)}"'
        for n, cell in enumerate([*cells, *BAD_CSV_LISTS])
    ]
    (folder / "companies.csv").write_text("\n".join(lines) + "\n")
    folder = root / "2026-01-02"
    folder.mkdir()
    rows = _list_rows([*GOOD_LISTS, *BAD_JSON_LISTS])
    (folder / "companies.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    for day, lists, item in (
        ("2026-01-03", [*GOOD_LISTS, ["a", None]], pa.string()),
        ("2026-01-04", [[1, 2]], pa.int64()),
    ):
        rows = _list_rows(lists)
        table = pa.table(
            {
                "company_id": [row["company_id"] for row in rows],
                "updated_at": [datetime(2025, 12, 1) for _ in rows],
                "tags": pa.array([row["tags"] for row in rows], pa.list_(item)),
            }
        )
        (root / day).mkdir()
        pq.write_table(table, root / day / "companies.parquet")


def _no_list(text: str) -> str:
    return f"""tags '{text}' is not a list of text (a JSON array of strings such as ["a", "b"])"""


def test_list_attributes_land_from_every_format_and_bad_lists_are_quarantined(
    tmp_path: Path,
):
    from segment_pipeline.definitions.sources import Sources
    from segment_pipeline.warehouse import Warehouse, WarehouseSettings
    from segment_pipeline.warehouse.schema import ensure_schema

    sources = Sources.model_validate(LIST_SOURCES)
    write_list_landing(tmp_path / "landing")
    days = [date(2026, 1, day) for day in range(1, 5)]
    with Warehouse.open(WarehouseSettings(path=tmp_path / "w.duckdb")) as warehouse:
        ensure_schema(warehouse, sources)
        for day in days:
            ingest_landing_date(warehouse, sources, tmp_path / "landing", day)
        assert warehouse.column_types("companies_history")["tags"] == "ARRAY<TEXT>"
        kept = warehouse.rows(
            exp.select("landed_on", "company_id", "tags")
            .from_("companies_history")
            .order_by("landed_on", "company_id")
        )
        quarantined = warehouse.rows(
            exp.select("landed_on", "line", "reason").from_("quarantine").order_by("1", "2")
        )
    expected = [(day, f"co{n}", value) for day in days[:3] for n, value in enumerate(GOOD_LISTS)]
    assert kept == expected
    bad_csv = [
        (days[0], len(GOOD_LISTS) + 2 + n, _no_list(text)) for n, text in enumerate(BAD_CSV_LISTS)
    ]
    bad_json = [
        (days[1], len(GOOD_LISTS) + 1 + n, _no_list(text)) for n, text in enumerate(BAD_JSON_TEXTS)
    ]
    bad_parquet = [
        (days[2], len(GOOD_LISTS) + 1, _no_list('["a",null]')),
        (days[3], 1, _no_list("[1,2]")),
    ]
    assert quarantined == [*bad_csv, *bad_json, *bad_parquet]
