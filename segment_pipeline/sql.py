"""Small sqlglot helpers shared by every module that builds SQL.

Templates here are parsed once by sqlglot and filled with expressions through named
placeholders, so a user's value only ever reaches SQL as a sqlglot literal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from typing import cast

import sqlglot
from sqlglot import exp


def template(sql: str, **values: exp.Expr) -> exp.Expr:
    """Parse a DuckDB-dialect template and fill its `:name` placeholders with expressions."""
    return exp.replace_placeholders(_parsed(sql), **values)


def query_template(sql: str, **values: exp.Expr) -> exp.Query:
    """`template` for a template that is a query (a SELECT, UNION, ...), typed as one so it
    can be a subquery or a table's rows; the text, not the parser, says it is a query."""
    return cast(exp.Query, template(sql, **values))


@cache
def _parsed(sql: str) -> exp.Expr:
    """A template's tree, parsed once: templates are constants of the code, and filling
    one copies it (`replace_placeholders` transforms a copy)."""
    return sqlglot.parse_one(sql, read="duckdb")


def lit(value: str | int | float | bool | date | datetime | None) -> exp.Expr:
    """A Python value as a typed SQL literal (types given as such, not parsed from text:
    timelines use thousands of literals)."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.Type.TIMESTAMP)
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(value)


def col(name: str, table: str | None = None) -> exp.Column:
    """A column reference whose identifiers are quoted when they need to be."""
    return exp.column(name, table=table, quoted=None)


def union(queries: Sequence[exp.Query], *, distinct: bool) -> exp.Query:
    """The queries' rows, UNION or UNION ALL; a single query as it is. The queries are
    built for this union alone, so they are not copied."""
    if len(queries) == 1:
        return queries[0]
    return exp.union(*queries, distinct=distinct, copy=False)


class IsJsonObject(exp.Expression, exp.Func):
    """Whether a text is a JSON object (false for any other text, and for NULL).

    No SQL function does this in every dialect, so each engine's dialect says how it
    writes it.
    """

    arg_types = {"this": True}  # noqa: RUF012 (sqlglot's own declaration style)


class TextList(exp.Expression, exp.Func):
    """A text holding a JSON array of strings (`["a", "b"]`) as a list of text; NULL for
    any other text (not JSON, another JSON value, an array holding anything but strings,
    a null item included), and for NULL.

    The engines' JSON parsers differ (Spark's `from_json` takes trailing text and turns
    numbers into text), so each engine's dialect says how it writes this, to one answer.
    """

    arg_types = {"this": True}  # noqa: RUF012 (sqlglot's own declaration style)
