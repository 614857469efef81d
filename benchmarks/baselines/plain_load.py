"""Baseline (d): a plain load of the landing files into tables, with DuckDB's own readers.

The floor of the pipeline's first load (its ingestion of the whole history): what a data
engineer writes to get the same files into tables, no more. The files of one source and
format are read in one reader call (CSV and JSON lines as text, parquet as it is), the
declared columns are cast to their types (`try_cast`: a value that does not fit is NULL,
a row without its key or timestamp is dropped), and each table is deduplicated: a company's
or contact's latest version (latest `updated_at`, then the later landing date), an event's
first landed copy. The tables go to a fresh DuckDB file, as the pipeline's go to its
warehouse. No quarantine, no line numbers, no history of versions, no audits. Column names
come from the benchmark's own `sources.yml`; file names are bound as parameters.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from segment_pipeline.definitions.sources import EntityType, Sources

#: DuckDB's type for each `sources.yml` type; an instant is kept as UTC wall time (SPEC 3).
CASTS = {
    "text": "try_cast({} as varchar)",
    "integer": "try_cast({} as bigint)",
    "double": "try_cast({} as double)",
    "boolean": "try_cast({} as boolean)",
    "date": "try_cast({} as date)",
    "timestamp": "try_cast({} as timestamptz)::timestamp",
    "list<text>": "try_cast(try_cast({} as json) as varchar[])",
}
#: The events' fixed columns (SPEC 3).
EVENT_COLUMNS = {
    "event_id": "text",
    "contact_id": "text",
    "company_id": "text",
    "event_name": "text",
    "occurred_at": "timestamp",
    "properties": "text",
}
#: One reader call per format over all of a source's files of that format (`$<format>`: the
#: files; `$columns`: the JSON keys read, each as text).
READERS = {
    "csv": "read_csv($csv, all_varchar = true, header = true, union_by_name = true, "
    "filename = true, ignore_errors = true)",
    "jsonl": "read_json($jsonl, format = 'newline_delimited', columns = $columns, "
    "filename = true, ignore_errors = true)",
    "parquet": "read_parquet($parquet, union_by_name = true, filename = true)",
}
#: The landing date, from the file's folder.
LANDED_ON = r"cast(regexp_extract(filename, '(\d{4}-\d{2}-\d{2})/[^/]+$', 1) as date)"


def _tables(sources: Sources) -> dict[str, tuple[dict[str, str], str]]:
    """Per table: its columns' declared types, and which row of a key it keeps."""
    tables: dict[str, tuple[dict[str, str], str]] = {}
    crm: tuple[tuple[str, EntityType, str], ...] = (
        ("companies", "company", "company_id"),
        ("contacts", "contact", "contact_id"),
    )
    for table, entity, key in crm:
        columns = {key: "text", "updated_at": "timestamp", "is_deleted": "boolean"}
        columns.update(sources.attributes(entity))
        tables[table] = (columns, f"partition by {key} order by updated_at desc, landed_on desc")
    tables["events"] = (EVENT_COLUMNS, "partition by event_id order by landed_on")
    return tables


def _raw(
    connection: duckdb.DuckDBPyConnection, params: dict[str, object], columns: dict[str, str]
) -> str:
    """A SELECT of every file's rows, each wanted column as text (NULL where the files lack
    it), with the file's name, over the formats `params` has files of."""
    parts = []
    for extension, reader in READERS.items():
        if extension not in params:
            continue
        wanted = {name: value for name, value in params.items() if f"${name}" in reader}
        available = connection.sql(f"select * from {reader}", params=wanted).columns
        values = [
            f'"{name}"::varchar as "{name}"' if name in available else f'null::varchar as "{name}"'
            for name in columns
        ]
        parts.append(f"select {', '.join(values)}, filename from {reader}")
    return " union all ".join(parts)


def load(
    connection: duckdb.DuckDBPyConnection, sources: Sources, landing: Path, days: list[date]
) -> dict[str, int]:
    """Load the landing files of `days` into tables companies, contacts and events; return
    each table's row count."""
    connection.execute("SET TimeZone = 'UTC'")
    counts: dict[str, int] = {}
    for table, (columns, keep) in _tables(sources).items():
        params: dict[str, object] = {"columns": {name: "VARCHAR" for name in columns}}
        for extension in READERS:
            files = [landing / day.isoformat() / f"{table}.{extension}" for day in days]
            if found := [str(path) for path in files if path.is_file()]:
                params[extension] = found
        if "jsonl" not in params:
            del params["columns"]
        typed = ", ".join(
            CASTS[kind].format(f'"{name}"') + f' as "{name}"' for name, kind in columns.items()
        )
        key, stamp = next(iter(columns)), ("occurred_at" if table == "events" else "updated_at")
        raw = _raw(connection, params, columns)
        connection.execute(
            f"create or replace table {table} as select * from "
            f"(select {typed}, {LANDED_ON} as landed_on from ({raw})) "
            f"where {key} is not null and {stamp} is not null "
            f"qualify row_number() over ({keep}) = 1",
            params,
        )
        counts[table] = connection.execute(f"select count(*) from {table}").fetchall()[0][0]
    return counts
