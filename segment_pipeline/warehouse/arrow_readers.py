"""Stage one landing file as an Arrow table, read on this machine with pyarrow and the
standard library: how an engine without DuckDB's readers (Spark) ingests.

The table has the columns DuckDB's staging relation has (see `duckdb_readers`): `line`,
`raw`, `malformed` (`landing_rules` decides it, as for DuckDB) and one text column per
wanted column (NULL when the file lacks it). Values are the text DuckDB would give:
strings as they are, booleans `true`/`false`, nested values as compact JSON, empty
strings missing (the typing step treats them so anyway).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from segment_pipeline.errors import IngestError
from segment_pipeline.warehouse.landing_rules import (
    JSON_KINDS,
    JSON_NUMBER,
    NOT_JSON,
    not_an_object,
    wrong_field_count,
)

#: One staged row: line, raw, malformed and the file's values by column.
Row = tuple[int, str, str | None, dict[str, str | None]]


def _physical_lines(path: Path) -> list[str | None]:
    """The file's lines as an editor numbers them; a blank line is None."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") or None for line in lines]


def _json_text(value: object) -> str | None:
    """A parsed JSON value as the text DuckDB's `json_extract_string` gives (objects and
    arrays as compact JSON)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def _refuse_constant(name: str) -> object:
    """`NaN` and `Infinity` are not JSON (Python's parser would accept them)."""
    raise ValueError(name)


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return JSON_KINDS["BOOLEAN"]
    if isinstance(value, list):
        return JSON_KINDS["ARRAY"]
    if isinstance(value, str):
        return JSON_KINDS["VARCHAR"]
    if value is None:
        return JSON_KINDS["NULL"]
    return JSON_NUMBER


def _jsonl_rows(path: Path) -> tuple[list[Row], list[str]]:
    """Every non-blank line; one that is not a JSON object is malformed."""
    rows: list[Row] = []
    keys: set[str] = set()
    for number, text in enumerate(_physical_lines(path), start=1):
        if text is None or not text.strip():
            continue
        try:
            value = json.loads(text, parse_constant=_refuse_constant)
        except ValueError:
            rows.append((number, text, NOT_JSON, {}))
            continue
        if not isinstance(value, dict):
            rows.append((number, text, not_an_object(_json_kind(value)), {}))
            continue
        keys.update(value)
        rows.append((number, text, None, {k: _json_text(v) for k, v in value.items()}))
    return rows, sorted(keys)


def _csv_records(lines: list[str | None]) -> Iterable[tuple[int, str]]:
    """CSV records (RFC 4180) with the line each starts on: a line starts a record unless
    the quotes before it are unbalanced; a blank line belongs to the record before it."""
    quotes, start, parts = 0, 0, list[str]()
    for number, text in enumerate(lines, start=1):
        if text is not None and quotes % 2 == 0:
            if parts:
                yield start, "\n".join(parts).rstrip("\n")
            start, parts = number, []
        if start:
            parts.append(text or "")
        quotes += (text or "").count('"')
    if parts:
        yield start, "\n".join(parts).rstrip("\n")


def _fields(raw: str) -> list[str]:
    return next(csv.reader(io.StringIO(raw, newline="")), [])


def _csv_rows(path: Path) -> tuple[list[Row], list[str]]:
    """Every record after the header; one with another number of fields is malformed."""
    records = iter(_csv_records(_physical_lines(path)))
    header = next((_fields(raw) for _, raw in records), [])
    rows: list[Row] = []
    for line, raw in records:
        fields = _fields(raw)
        if len(fields) != len(header):
            rows.append((line, raw, wrong_field_count(len(header)), {}))
            continue
        values = {name: value or None for name, value in zip(header, fields, strict=True)}
        rows.append((line, raw, None, values))
    return rows, header


def _parquet_text(value: object) -> str | None:
    """A parquet value as DuckDB casts it to text."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return _json_text(value)


def _parquet_json(value: object) -> object:
    """A parquet value as DuckDB's `to_json` writes it inside the row's JSON."""
    if isinstance(value, datetime | date):
        return _parquet_text(value)
    if isinstance(value, dict):
        return {key: _parquet_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_parquet_json(item) for item in value]
    return value


def _parquet_rows(path: Path) -> tuple[list[Row], list[str]]:
    """Every row; its line is the 1-based row number and its raw text the row's JSON."""
    table = pq.read_table(path)
    rows: list[Row] = []
    for number, record in enumerate(table.to_pylist(), start=1):
        raw = json.dumps(
            {key: _parquet_json(value) for key, value in record.items()},
            separators=(",", ":"),
            ensure_ascii=False,
        )
        rows.append((number, raw, None, {k: _parquet_text(v) for k, v in record.items()}))
    return rows, table.column_names


READERS: dict[str, Callable[[Path], tuple[list[Row], list[str]]]] = {
    "csv": _csv_rows,
    "jsonl": _jsonl_rows,
    "parquet": _parquet_rows,
}


def read_landing_file(path: Path, wanted: list[str]) -> tuple[pa.Table, list[str]]:
    """The staged rows of `path` and the columns the file has.

    Raises:
        IngestError: the file cannot be read at all (the message names it and why).
    """
    try:
        rows, available = READERS[path.suffix.lstrip(".")](path)
    except (OSError, UnicodeDecodeError, csv.Error, pa.ArrowException) as error:
        raise IngestError(f"cannot read {path}: {error}") from error
    columns: dict[str, pa.Array] = {
        "line": pa.array([row[0] for row in rows], pa.int64()),
        "raw": pa.array([row[1] for row in rows], pa.string()),
        "malformed": pa.array([row[2] for row in rows], pa.string()),
    }
    for name in wanted:
        columns[name] = pa.array([row[3].get(name) for row in rows], pa.string())
    return pa.table(columns), available
