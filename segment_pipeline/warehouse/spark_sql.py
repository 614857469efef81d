"""The pipeline's statements as Spark runs them: its dialect (with the pipeline's own nodes)
and the rewrites for what Spark has no type or form for."""

from __future__ import annotations

from typing import Any

from sqlglot import exp
from sqlglot.dialects.spark import Spark
from sqlglot.generators.spark import SparkGenerator

from segment_pipeline.sql import IsJsonObject, TextList, lit


def _spark_type(kind: str) -> exp.DataType:
    """A schema type for Spark: JSON is kept as its text."""
    data_type = exp.DataType.build(kind)
    if data_type.is_type(exp.DataType.Type.JSON):
        return exp.DataType.build("STRING")
    return data_type


def column_defs(columns: dict[str, str]) -> list[exp.ColumnDef]:
    return [
        exp.ColumnDef(this=exp.to_identifier(name, quoted=True), kind=_spark_type(kind))
        for name, kind in columns.items()
    ]


def quoted_table(name: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name, quoted=True))


def _portable(node: exp.Expr) -> exp.Expr:
    """Rewrite what Spark has no type or form for: JSON values are their text, and `IF`
    takes its third argument (NULL when the pipeline leaves it out)."""
    if isinstance(node, exp.DataType) and node.is_type(exp.DataType.Type.JSON):
        return exp.DataType.build("STRING")
    is_bare_if = isinstance(node, exp.If) and not isinstance(node.parent, exp.Case)
    if is_bare_if and node.args.get("false") is None:
        node.set("false", exp.null())
    return node


def _is_json_object(generator: Any, node: IsJsonObject) -> str:
    """Spark gives an object's keys, and NULL for any other text."""
    return str(generator.sql(exp.JSONKeys(this=node.this).is_(exp.null()).not_()))


#: A JSON string (quotes around anything but an unescaped quote or backslash, or an
#: escape); `from_json` then refuses a bad escape or a raw control character in one.
_JSON_STRING = r'"(?:[^"\\]|\\.)*"'
_BLANK = r"[ \t\n\r]*"
#: A JSON array of strings and nothing else: `from_json` would take trailing text, null
#: items and numbers (as text) into an array<string>.
_ITEM = rf"{_JSON_STRING}{_BLANK}"
_STRINGS_ARRAY = rf"^{_BLANK}\[{_BLANK}(?:{_ITEM}(?:,{_BLANK}{_ITEM})*)?\]{_BLANK}$"


def _text_list(generator: Any, node: TextList) -> str:
    """The shape checked first, then parsed by `from_json`."""
    text = node.this
    is_list = exp.RegexpLike(this=text.copy(), expression=lit(_STRINGS_ARRAY))
    items = exp.FromJson(this=text.copy(), expression=lit("array<string>"))
    return str(generator.sql(exp.Case().when(is_list, items)))


class PipelineSpark(Spark):
    """Spark's dialect, writing the pipeline's own nodes too (`segment_pipeline.sql`)."""

    class Generator(SparkGenerator):  # Spark.Generator, named by its class
        TRANSFORMS = {  # noqa: RUF012
            **SparkGenerator.TRANSFORMS,
            IsJsonObject: _is_json_object,
            TextList: _text_list,
        }


def spark_sql(statement: exp.Expr, **options: Any) -> str:
    """A statement as Spark runs it (rewritten in place; `options` go to sqlglot's
    generator, e.g. `unsupported_level`)."""
    portable = statement.transform(_portable, copy=False)
    return portable.sql(dialect=PipelineSpark, copy=False, **options)
