"""Stage one landing file as text columns with the line each row came from, on DuckDB.

Every format is read by DuckDB's own readers. The staged table has one VARCHAR column per
wanted column (NULL when the file lacks it), the 1-based `line` an editor shows, the
`raw` row text, and `malformed`: why the line itself could not be parsed, if it could not.
Type coercion happens later, on text, so a bad value becomes a quarantined row, not a
failed read.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

import duckdb
from sqlglot import exp

from segment_pipeline.errors import IngestError
from segment_pipeline.sql import col, lit, query_template, template
from segment_pipeline.warehouse.engine import Warehouse
from segment_pipeline.warehouse.landing_rules import (
    JSON_KINDS,
    JSON_NUMBER,
    NOT_JSON,
    not_an_object,
    wrong_field_count,
)

#: Reads a text file as physical lines: one VARCHAR per line, blank lines kept as NULL.
_LINES = """
select row_number() over () as line_no, text
from read_csv(:path, columns = {'text': 'VARCHAR'}, header = false, delim = '\\0',
              quote = '', escape = '', auto_detect = false, parallel = false)
"""

#: CSV records (RFC 4180): a line starts a record unless the quotes before it are unbalanced,
#: so a quoted field spanning lines still reports the line where its record starts.
_CSV_RECORDS = (
    """
with lines as ("""
    + _LINES
    + """),
quotes as (
    select line_no, text,
           coalesce(sum(length(coalesce(text, '')) - length(replace(coalesce(text, ''), '"', '')))
               over (order by line_no rows between unbounded preceding and 1 preceding), 0)
               % 2 = 0 and text is not null as is_start
    from lines
),
numbered as (
    select line_no, text, sum(case when is_start then 1 else 0 end)
        over (order by line_no rows unbounded preceding) as record_no
    from quotes
)
select record_no, min(line_no) as line,
       rtrim(string_agg(coalesce(text, ''), chr(10) order by line_no), chr(10)) as raw
from numbered
where record_no > 0
group by record_no
"""
)

_CSV_ROWS = """
select row_number() over () as row_no, *
from read_csv(:path, all_varchar = true, header = true, parallel = false,
              store_rejects = true, rejects_table = 'csv_reject_errors',
              rejects_scan = 'csv_reject_scans')
"""


def _describe(warehouse: Warehouse, relation: exp.Expr) -> dict[str, str]:
    """Column names of a relation, in order, with their DuckDB types."""
    frame = warehouse.query(exp.Describe(this=relation))
    return dict(
        zip(frame["column_name"].astype(str), frame["column_type"].astype(str), strict=True)
    )


def _text_columns(
    available: Collection[str], wanted: list[str], value: Callable[[str], exp.Expr]
) -> list[exp.Expr]:
    """One VARCHAR column per wanted column, NULL where the file does not have it."""
    return [
        exp.alias_(value(name) if name in available else exp.cast(exp.null(), "VARCHAR"), name)
        for name in wanted
    ]


def stage_csv(warehouse: Warehouse, path: Path, wanted: list[str], into: str) -> list[str]:
    """Stage a CSV file; rows with the wrong number of fields are `malformed`."""
    source = lit(str(path))
    warehouse.execute(template("drop table if exists csv_reject_errors"))
    warehouse.execute(template("drop table if exists csv_reject_scans"))
    rows = template(_CSV_ROWS, path=source)
    available = [name for name in _describe(warehouse, rows) if name != "row_no"]
    warehouse.execute(
        template("create or replace temp table csv_rows as " + _CSV_ROWS, path=source)
    )
    warehouse.execute(
        template("create or replace temp table csv_records as " + _CSV_RECORDS, path=source)
    )
    fields = _text_columns(available, wanted, lambda name: col(name, "r"))
    staged = query_template(
        """
        with rejected as (
            select distinct line from csv_reject_errors
        ),
        accepted as (
            select row_number() over (order by c.record_no) as row_no, c.line, c.raw
            from csv_records as c
            where c.record_no > 1 and c.line not in (select line from rejected)
        )
        select a.line, a.raw, cast(null as varchar) as malformed, r.*
        from accepted as a join csv_rows as r on r.row_no = a.row_no
        union all by name
        select c.line, c.raw, :reason as malformed
        from csv_records as c join rejected as j on j.line = c.line
        """,
        reason=lit(wrong_field_count(len(available))),
    )
    select = exp.select("line", "raw", "malformed", *fields).from_(
        exp.alias_(staged.subquery(), "r")
    )
    _create_staged(warehouse, into, select)
    return available


def _not_an_object(json_type: exp.Expr) -> exp.Expr:
    """The reason of a line whose JSON type (DuckDB's name) is not an object."""
    case = exp.Case(this=json_type, default=lit(not_an_object(JSON_NUMBER)))
    for kind, phrase in JSON_KINDS.items():
        case = case.when(lit(kind), lit(not_an_object(phrase)))
    return case


def stage_jsonl(warehouse: Warehouse, path: Path, wanted: list[str], into: str) -> list[str]:
    """Stage a JSON-lines file; a line that is not a JSON object is `malformed`."""
    warehouse.execute(
        exp.Create(
            this=exp.to_table("jsonl_lines"),
            kind="TABLE",
            replace=True,
            properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
            expression=template(
                "with lines as ("
                + _LINES
                + """)
                select line_no as line, text as raw,
                       case when not json_valid(text) then :not_json
                            when json_type(text) <> 'OBJECT' then :not_object
                       end as malformed
                from lines where text is not null and trim(text) <> ''
                """,
                path=lit(str(path)),
                not_json=lit(NOT_JSON),
                not_object=_not_an_object(exp.func("json_type", col("text"))),
            ),
        )
    )
    key_rows = warehouse.rows(
        template("select distinct unnest(json_keys(raw)) from jsonl_lines where malformed is null")
    )
    available = sorted(str(row[0]) for row in key_rows)

    def value(name: str) -> exp.Expr:
        path_literal = lit("$." + '"' + name.replace('"', '\\"') + '"')
        return template(
            """
            case when malformed is null then
                case when json_type(raw, :path) in ('OBJECT', 'ARRAY')
                     then json_extract(raw, :path)::varchar
                     else json_extract_string(raw, :path) end
            end
            """,
            path=path_literal,
        )

    fields = _text_columns(available, wanted, value)
    _create_staged(
        warehouse, into, exp.select("line", "raw", "malformed", *fields).from_("jsonl_lines")
    )
    return available


def stage_parquet(warehouse: Warehouse, path: Path, wanted: list[str], into: str) -> list[str]:
    """Stage a parquet file; its line is the 1-based row number."""
    relation = query_template(
        "select * from read_parquet(:path, file_row_number = true)", path=lit(str(path))
    )
    types = _describe(warehouse, relation)
    types.pop("file_row_number")
    nested = ("STRUCT", "MAP", "JSON")

    def value(name: str) -> exp.Expr:
        column = col(name, "p")
        if types[name].startswith(nested) or types[name].endswith("]"):
            return exp.cast(exp.func("to_json", column), "VARCHAR")
        return exp.cast(column, "VARCHAR")

    fields = _text_columns(types, wanted, value)
    row = exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier(name), expression=col(name, "p"))
            for name in types
        ]
    )
    select = exp.select(
        exp.alias_(template("p.file_row_number + 1"), "line"),
        exp.alias_(exp.cast(exp.func("to_json", row), "VARCHAR"), "raw"),
        exp.alias_(exp.cast(exp.null(), "VARCHAR"), "malformed"),
        *fields,
    ).from_(exp.alias_(relation.subquery(), "p"))
    _create_staged(warehouse, into, select)
    return list(types)


STAGERS = {"csv": stage_csv, "jsonl": stage_jsonl, "parquet": stage_parquet}


def stage_file(warehouse: Warehouse, path: Path, wanted: list[str], into: str) -> list[str]:
    """Stage `path` into temp table `into`; return the columns the file has.

    Raises:
        IngestError: the file cannot be read at all (the message names it and the problem).
    """
    stager = STAGERS[path.suffix.lstrip(".")]
    try:
        return stager(warehouse, path, wanted, into)
    except duckdb.Error as error:
        problem = str(error).splitlines()[0]
        raise IngestError(f"cannot read {path}: {problem}") from error


def _create_staged(warehouse: Warehouse, name: str, select: exp.Select) -> None:
    warehouse.execute(
        exp.Create(
            this=exp.to_table(name),
            kind="TABLE",
            replace=True,
            properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
            expression=select,
        )
    )
