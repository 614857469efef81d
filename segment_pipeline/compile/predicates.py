"""Compile a checked `Predicate` into a boolean sqlglot expression for a query.

The predicate's tree is copied and rewritten node by node, never formatted as text:
declared columns get the caller's table, `properties.<key>` becomes the JSON value as text
(`$.key`, with any characters in the key; `properties.plan.tier` is `$.plan.tier`), and a
property compared with a number, used in arithmetic, or compared with TRUE/FALSE is cast
with TRY_CAST so that a value of the wrong shape is NULL instead of an error.
`list_has_any(tags, ['a', 'b'])` becomes `list_contains(tags, 'a') OR list_contains(tags,
'b')`: the same answer, NULL for a NULL list included, in a form every dialect writes (sqlglot
writes its own node as DuckDB's `&&`, which Spark does not have). NULL handling
is the caller's: the evaluator wraps the result in COALESCE(..., FALSE) (a NULL leaf counts
as false, SPEC 4.1).

>>> from segment_pipeline.definitions.predicates import event_scope, parse_predicate
>>> predicate = parse_predicate("properties.seats >= 3", event_scope())
>>> compile_predicate(predicate, table="e").sql("duckdb")
"TRY_CAST(e.properties ->> '$.seats' AS DOUBLE) >= 3"
"""

from __future__ import annotations

from sqlglot import exp

from segment_pipeline.definitions.condition_parts import Predicate
from segment_pipeline.definitions.predicate_rules import COMPARISONS
from segment_pipeline.definitions.predicates import property_path

_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg, exp.Abs, exp.Round)


def model_column(model: str, column: str) -> str:
    """The column under which a run's versions carry an entity model's column (one
    identifier, quoted: `"company_fit.score"`), see `compile.model_values`."""
    return f"{model}.{column}"


def compile_predicate(
    predicate: Predicate, *, table: str | None = None, properties_column: str = "properties"
) -> exp.Expr:
    """A fresh boolean expression for `predicate`, reading columns from `table` if given.

    `<model>.<column>` reads the model value the versions carry (`model_column`).
    """
    tree = predicate.expression.copy().transform(_any_contained, copy=False)
    casts = _property_casts(tree)

    def rewrite(node: exp.Expr) -> exp.Expr:
        path = property_path(node)
        if path is not None:
            value: exp.Expr = exp.JSONExtractScalar(
                this=_column(properties_column, table), expression=json_path(*path)
            )
            cast = casts.get(id(node))
            return exp.TryCast(this=value, to=exp.DataType.build(cast)) if cast else value
        if not isinstance(node, exp.Column):
            return node
        if node.table:
            return _column(model_column(node.table, node.name), table)
        if table is not None:
            return exp.Column(this=node.this.copy(), table=exp.to_identifier(table))
        return node

    return tree.transform(rewrite, copy=False)


def _any_contained(node: exp.Expr) -> exp.Expr:
    """`list_has_any(list, [a, b])` as `(list_contains(list, a) OR list_contains(list, b))`
    (validation saw to it that the second argument is a list of values)."""
    if not isinstance(node, exp.ArrayOverlaps):
        return node
    assert isinstance(node.expression, exp.Array)
    tests = [
        exp.ArrayContains(this=node.this.copy(), expression=value.copy())
        for value in node.expression.expressions
    ]
    return exp.paren(exp.or_(*tests, copy=False), copy=False)


def json_path(*keys: str) -> exp.JSONPath:
    """`$.key` (`$.plan.tier` for a nested key) as a path expression: each dialect quotes
    odd keys its own way."""
    return exp.JSONPath(
        expressions=[exp.JSONPathRoot(), *(exp.JSONPathKey(this=key) for key in keys)]
    )


def _column(name: str, table: str | None) -> exp.Column:
    return exp.Column(
        this=exp.to_identifier(name),
        table=exp.to_identifier(table) if table is not None else None,
    )


def _property_casts(tree: exp.Expr) -> dict[int, str]:
    """Property columns that must be read as a number or a boolean, by node identity."""
    casts: dict[int, str] = {}
    for node in tree.find_all(*COMPARISONS):
        left, right = node.this.unnest(), node.expression.unnest()
        for side, other in ((left, right), (right, left)):
            if _is_property(side):
                if _is_number(other):
                    casts[id(side)] = "DOUBLE"
                elif isinstance(other, exp.Boolean):
                    casts[id(side)] = "BOOLEAN"
    for between in tree.find_all(exp.Between):
        subject = between.this.unnest()
        if _is_property(subject) and all(_is_number(between.args[end]) for end in ("low", "high")):
            casts[id(subject)] = "DOUBLE"
    for isin in tree.find_all(exp.In):
        subject = isin.this.unnest()
        if _is_property(subject) and isin.expressions and all(map(_is_number, isin.expressions)):
            casts[id(subject)] = "DOUBLE"
    for arithmetic in tree.find_all(*_ARITHMETIC):
        for child in arithmetic.iter_expressions():
            if _is_property(child.unnest()):
                casts[id(child.unnest())] = "DOUBLE"
    return casts


def _is_property(node: exp.Expr) -> bool:
    return property_path(node) is not None


def _is_number(node: exp.Expr) -> bool:
    if isinstance(node, exp.Neg):
        node = node.this
    return isinstance(node, exp.Literal) and not node.is_string
