"""Malformed rows of every kind, so any generated landing zone exercises the quarantine.

Column faults (a missing key, an unparseable timestamp, a value that does not fit its type)
are written into the table; line faults (broken JSON, a JSON array, a CSV row with the wrong
number of fields) only exist once a row is rendered as text, so they are handed to the writer
as a map from row number to fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segment_pipeline.generate.params import FileFormat
from segment_pipeline.generate.schema import FileSchema

#: Share of rows that are malformed.
MALFORMED_SHARE = 0.002

COLUMN_FAULTS = ("missing_key", "bad_timestamp", "bad_type")
LINE_FAULTS: dict[FileFormat, tuple[str, ...]] = {
    "csv": ("wrong_field_count",),
    "jsonl": ("broken_json", "json_array"),
    "parquet": (),
}
_BAD_TIMESTAMPS = ("not-a-date", "2026-13-45", "yesterday")

_Variant = TypeVar("_Variant")

#: Row number (0-based, in the table handed to the writer) -> line fault.
LineFaults = dict[int, str]


@dataclass(frozen=True)
class Faulted:
    """A table after injection: its line faults and which of its rows are malformed."""

    table: pa.Table
    line_faults: LineFaults = field(default_factory=dict)
    rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))


def fault_kinds(file_format: FileFormat) -> tuple[str, ...]:
    """Every fault a file of this format can carry (parquet has typed columns, not lines)."""
    return COLUMN_FAULTS + LINE_FAULTS[file_format]


class FaultInjector:
    """Picks and applies faults; the first file of each kind and format shows every fault."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._shown: set[tuple[str, FileFormat]] = set()
        self._turns: dict[tuple[str, str], int] = {}

    def add_copies(self, table: pa.Table, schema: FileSchema, file_format: FileFormat) -> Faulted:
        """Insert malformed copies of some rows right after them; every original row stays.

        Used for CRM files: a lost version would rewrite the entity's history, while a bad
        copy next to a good row is what a flaky export really produces.
        """
        count = self._count(schema, file_format, len(table))
        if not count or not len(table):
            return Faulted(table)
        source = np.sort(self._rng.choice(len(table), size=count, replace=count > len(table)))
        rows = np.concatenate([np.arange(len(table)), source])
        order = np.argsort(
            np.concatenate([np.arange(len(table)) * 2, source * 2 + 1]), kind="stable"
        )
        copies = np.flatnonzero(order >= len(table))
        return self._corrupt(table.take(rows[order]), schema, file_format, copies)

    def corrupt_some(self, table: pa.Table, schema: FileSchema, file_format: FileFormat) -> Faulted:
        """Corrupt some rows in place (events: a broken event is simply lost to quarantine).

        At most half the rows, so a tiny chunk keeps well-formed rows to re-send.
        """
        count = min(self._count(schema, file_format, len(table)), len(table) // 2)
        if not count:
            return Faulted(table)
        rows = np.sort(self._rng.choice(len(table), size=count, replace=False))
        return self._corrupt(table, schema, file_format, rows)

    def _count(self, schema: FileSchema, file_format: FileFormat, rows: int) -> int:
        count = int(self._rng.binomial(rows, MALFORMED_SHARE))
        if (schema.name, file_format) not in self._shown and rows:
            self._shown.add((schema.name, file_format))
            count = max(count, len(fault_kinds(file_format)))
        return count

    def _next(self, schema: FileSchema, kind: str, variants: tuple[_Variant, ...]) -> _Variant:
        """The next variant of a fault (which key to blank, which bad value), in turn."""
        turn = self._turns.get((schema.name, kind), 0)
        self._turns[(schema.name, kind)] = turn + 1
        return variants[turn % len(variants)]

    def _corrupt(
        self, table: pa.Table, schema: FileSchema, file_format: FileFormat, rows: np.ndarray
    ) -> Faulted:
        """Give each row in `rows` one fault, cycling through the kinds so all appear."""
        rng = self._rng
        kinds = fault_kinds(file_format)
        first = int(rng.integers(len(kinds)))
        cells: dict[str, dict[int, str | None]] = {}
        line_faults: LineFaults = {}
        for position, row in enumerate(rows.tolist()):
            kind = kinds[(first + position) % len(kinds)]
            if kind == "missing_key":
                column = self._next(schema, kind, schema.key_columns)
                cells.setdefault(column, {})[row] = "" if rng.random() < 0.5 else None
            elif kind == "bad_timestamp":
                bad = self._next(schema, kind, _BAD_TIMESTAMPS)
                cells.setdefault(schema.timestamp_column, {})[row] = bad
            elif kind == "bad_type":
                column, bad = self._next(schema, kind, schema.type_faults)
                cells.setdefault(column, {})[row] = bad
            else:
                line_faults[row] = kind
        for column, values in cells.items():
            table = _replace_cells(table, column, values)
        return Faulted(table, line_faults, rows)


def _replace_cells(table: pa.Table, column: str, values: dict[int, str | None]) -> pa.Table:
    """A copy of `table` with some cells of one column replaced."""
    rows = sorted(values)
    mask = np.zeros(len(table), dtype=bool)
    mask[rows] = True
    replaced = pc.replace_with_mask(
        table.column(column).combine_chunks(),
        pa.array(mask),
        pa.array([values[row] for row in rows], type=pa.string()),
    )
    position = table.schema.get_field_index(column)
    return table.set_column(position, column, replaced)
