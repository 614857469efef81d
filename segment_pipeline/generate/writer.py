"""Writing all-text tables as CSV, JSON Lines or parquet, appended chunk by chunk.

Text lines are built with Arrow compute kernels rather than a Python loop per row, so a chunk
of half a million events renders in well under a second. Every writer is deterministic: same
tables in, same bytes out.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from segment_pipeline.generate.malformed import LineFaults
from segment_pipeline.generate.params import FileFormat
from segment_pipeline.generate.schema import FileSchema

#: Rows rendered as text at a time: the intermediate arrays of rendering are several times
#: the size of the text, so a big chunk is rendered in slices.
_TEXT_BATCH_ROWS = 100_000
_CSV_NEEDS_QUOTES = '[",\r\n]'
_JSON_LITERAL = r"^(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?|true|false|\{.*\}|\[.*\])$"


class LandingFileWriter:
    """One landing file, open for appending chunks of rows."""

    def __init__(self, folder: Path, schema: FileSchema, file_format: FileFormat) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{schema.name}.{file_format}"
        self.schema = schema
        self.rows = 0
        self._format = file_format
        self._parquet: pq.ParquetWriter | None = None
        self._text: BinaryIO | None = None
        if file_format == "parquet":
            # Every option that shapes the bytes is pinned, so output does not drift with defaults.
            self._parquet = pq.ParquetWriter(
                self.path,
                schema.arrow_schema,
                version="2.6",
                compression="zstd",
                compression_level=3,
                use_dictionary=True,
                write_statistics=True,
                data_page_version="1.0",
            )
        else:
            self._text = self.path.open("wb")
            if file_format == "csv":
                self._text.write((",".join(schema.columns) + "\n").encode())

    def write(self, table: pa.Table, line_faults: LineFaults) -> None:
        """Append rows; `line_faults` break some of their lines (ignored for parquet)."""
        if not len(table):
            return
        table = table.select(list(self.schema.columns)).combine_chunks()
        self.rows += len(table)
        if self._parquet is not None:
            self._parquet.write_table(table, row_group_size=len(table))
            return
        for start in range(0, len(table), _TEXT_BATCH_ROWS):
            batch = table.slice(start, _TEXT_BATCH_ROWS)
            faults = {
                row - start: fault
                for row, fault in line_faults.items()
                if start <= row < start + len(batch)
            }
            self._write_text(batch, faults)

    def _write_text(self, table: pa.Table, line_faults: LineFaults) -> None:
        if self._text is None:
            return
        if self._format == "csv":
            lines = render_csv(table)
        else:
            lines = render_jsonl(table, self.schema.json_literals)
        if line_faults:
            lines = _break_lines(lines, table, line_faults)
        self._text.write(_joined(lines))

    def close(self) -> None:
        """Finish the file (parquet writes its footer here)."""
        if self._parquet is not None:
            self._parquet.close()
        if self._text is not None:
            self._text.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def render_csv(table: pa.Table) -> pa.Array:
    """One CSV line per row (RFC 4180 quoting; NULL is an empty field)."""
    fields = []
    for column in table.columns:
        text = pc.fill_null(column.combine_chunks(), "")
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
        fields.append(pc.if_else(pc.match_substring_regex(text, _CSV_NEEDS_QUOTES), quoted, text))
    return pc.binary_join_element_wise(*fields, ",")


def render_jsonl(table: pa.Table, literals: frozenset[str]) -> pa.Array:
    """One JSON object per row.

    Columns in `literals` are written bare when their text is a JSON number, boolean, object
    or array (`"employee_count":42`), and as a JSON string otherwise, so a bad value such as
    "many" stays a valid line with a value of the wrong type.
    """
    members = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        text = column.combine_chunks()
        escaped = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
        value = pc.binary_join_element_wise('"', escaped, '"', "")
        if name in literals:
            value = pc.if_else(pc.match_substring_regex(text, _JSON_LITERAL), text, value)
        members.append(
            pc.binary_join_element_wise(json.dumps(name), pc.fill_null(value, "null"), ":")
        )
    return pc.binary_join_element_wise("{", pc.binary_join_element_wise(*members, ","), "}", "")


def _break_lines(lines: pa.Array, table: pa.Table, faults: LineFaults) -> pa.Array:
    """Replace the lines of faulty rows by their broken form."""
    rows = sorted(faults)
    broken = []
    for row in rows:
        line = lines[row].as_py()
        if faults[row] == "broken_json":
            broken.append(line[: len(line) // 2])
        elif faults[row] == "json_array":
            broken.append(json.dumps(list(table.slice(row, 1).to_pylist()[0].values())))
        else:
            broken.append(line + ",unexpected")
    mask = np.zeros(len(lines), dtype=bool)
    mask[rows] = True
    return pc.replace_with_mask(lines, pa.array(mask), pa.array(broken, type=pa.string()))


def _joined(lines: pa.Array) -> memoryview:
    """All lines, each ending in a newline, as one buffer (no per-line Python objects)."""
    text = pc.binary_join_element_wise(lines, "", "\n")
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)
    first, last = offsets[text.offset], offsets[text.offset + len(text)]
    return memoryview(text.buffers()[2])[first:last]
