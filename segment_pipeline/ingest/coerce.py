"""Turn staged text into typed rows, and say in words why a row does not fit.

A row is kept when every required column is present and every value fits its declared
type; otherwise it goes to quarantine with every problem found, so a person can fix the
source in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlglot import exp

from segment_pipeline.definitions.sources import (
    ENTITY_KEYS,
    EVENT_FIELDS,
    EVENT_PROPERTIES,
    ColumnType,
    EntityType,
    Sources,
)
from segment_pipeline.sql import IsJsonObject, TextList, col, lit

_ARTICLE = {
    ColumnType.INTEGER: "an integer",
    ColumnType.DOUBLE: "a number",
    ColumnType.BOOLEAN: "a boolean (true/false)",
    ColumnType.DATE: "a date (YYYY-MM-DD)",
    ColumnType.TIMESTAMP: "an ISO 8601 timestamp",
    ColumnType.LIST_TEXT: 'a list of text (a JSON array of strings such as ["a", "b"])',
}


@dataclass(frozen=True)
class SourceSpec:
    """What one landing source must contain and how each column is typed."""

    name: str
    table: str
    required: tuple[str, ...]
    timestamp: str
    columns: dict[str, ColumnType]
    json_objects: tuple[str, ...] = field(default=())
    defaults: dict[str, exp.Expr] = field(default_factory=dict)

    @property
    def wanted(self) -> list[str]:
        """Every column read from the file, in table order."""
        return list(self.columns) + list(self.json_objects)


def crm_spec(sources: Sources, entity: EntityType) -> SourceSpec:
    """Companies or contacts: key, `updated_at`, optional `is_deleted`, declared attributes."""
    key = ENTITY_KEYS[entity]
    columns = {
        key: ColumnType.TEXT,
        "updated_at": ColumnType.TIMESTAMP,
        "is_deleted": ColumnType.BOOLEAN,
        **sources.attributes(entity),
    }
    return SourceSpec(
        name="companies" if entity == "company" else "contacts",
        table="companies_history" if entity == "company" else "contacts_history",
        required=(key, "updated_at"),
        timestamp="updated_at",
        columns=columns,
        defaults={"is_deleted": exp.false()},
    )


EVENTS_SPEC = SourceSpec(
    name="events",
    table="events",
    required=("event_id", "contact_id", "event_name", "occurred_at"),
    timestamp="occurred_at",
    columns=dict(EVENT_FIELDS),
    json_objects=(EVENT_PROPERTIES,),
)


def _text(name: str) -> exp.Expr:
    """The staged value with empty strings read as missing, as CSV already does."""
    return exp.func("nullif", col(name, "s"), lit(""))


def _typed(name: str, kind: ColumnType) -> exp.Expr:
    """The staged text converted to its declared type; NULL when it does not fit."""
    text = _text(name)
    if kind is ColumnType.TEXT:
        return text
    if kind is ColumnType.TIMESTAMP:
        # Offsets are honoured, then dropped: every time in the warehouse is naive UTC.
        aware = exp.TryCast(this=text, to=exp.DataType.build("TIMESTAMPTZ"))
        return exp.cast(exp.AtTimeZone(this=aware, zone=lit("UTC")), "TIMESTAMP")
    if kind is ColumnType.INTEGER:
        digits = exp.RegexpLike(this=exp.func("trim", text), expression=lit("^[+-]?[0-9]+$"))
        cast = exp.TryCast(this=exp.func("trim", text), to=exp.DataType.build("BIGINT"))
        return exp.If(this=digits, true=cast)
    if kind is ColumnType.LIST_TEXT:
        return TextList(this=text)
    return exp.TryCast(this=text, to=exp.DataType.build(kind.sql_type))


def _problems(spec: SourceSpec) -> list[exp.Expr]:
    """One expression per possible problem: its description, or NULL when all is well."""
    problems: list[exp.Expr] = []
    for name in spec.required:
        problems.append(exp.If(this=_text(name).is_(exp.null()), true=lit(f"missing {name}")))
    for name, kind in spec.columns.items():
        if kind is ColumnType.TEXT:
            continue
        misfit = exp.and_(_text(name).is_(exp.null()).not_(), _typed(name, kind).is_(exp.null()))
        message = exp.func(
            "concat", lit(f"{name} '"), col(name, "s"), lit(f"' is not {_ARTICLE[kind]}")
        )
        problems.append(exp.If(this=misfit, true=message))
    for name in spec.json_objects:
        not_object = exp.and_(
            _text(name).is_(exp.null()).not_(), exp.not_(IsJsonObject(this=col(name, "s")))
        )
        problems.append(exp.If(this=not_object, true=lit(f"{name} is not a JSON object")))
    return problems


def typed_rows(spec: SourceSpec, staged: str, landed_on: date, file: Path) -> exp.Select:
    """Every staged row, typed, with `reason` set (and the row unusable) when it is bad."""
    columns = []
    for name, kind in spec.columns.items():
        value = _typed(name, kind)
        if name in spec.defaults:
            value = exp.func("coalesce", value, spec.defaults[name])
        columns.append(exp.alias_(value, name))
    for name in spec.json_objects:
        is_object = IsJsonObject(this=_text(name))
        columns.append(exp.alias_(exp.If(this=is_object, true=exp.cast(_text(name), "JSON")), name))
    # concat_ws skips NULLs; sqlglot's ConcatWs would turn any NULL problem into a NULL reason.
    joined = exp.Anonymous(this="concat_ws", expressions=[lit("; "), *_problems(spec)])
    # A line that could not be parsed has only that problem: its fields mean nothing.
    reason = exp.func("coalesce", col("malformed", "s"), exp.func("nullif", joined, lit("")))
    lineage = [
        exp.alias_(lit(landed_on), "landed_on"),
        exp.alias_(lit(str(file)), "source_file"),
        exp.alias_(col("line", "s"), "source_line"),
        exp.alias_(col("raw", "s"), "raw"),
        exp.alias_(reason, "reason"),
    ]
    return exp.select(*columns, *lineage).from_(exp.alias_(exp.to_table(staged), "s"))
