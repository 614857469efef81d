"""Parse a predicate a person wrote and check it against an allow-list before anything runs.

A predicate is one SQL boolean expression (DuckDB dialect) over declared columns. The check
is an allow-list, not a deny-list: every node of the parsed tree must be a literal, a
declared column, an operator or one of a few scalar functions. Subqueries, statements,
parameters, comments and unknown functions or columns are refused with one sentence that
says why. Functions that read the clock (`now()`, `current_date`) are refused too: they
would make a snapshot depend on when it runs, not on the data (SPEC 5).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlglot
from sqlglot import Token, TokenType, exp
from sqlglot.errors import ParseError, TokenError

from segment_pipeline.definitions.condition_parts import PREDICATE_DIALECT, Predicate
from segment_pipeline.definitions.predicate_rules import (
    ALLOWED_FUNCTION_NAMES,
    ALLOWED_FUNCTIONS,
    ALLOWED_NODES,
    BOOLEAN_ROOTS,
    CAST_TYPES,
    COMPARISONS,
    EVENT_COLUMNS,
    EXTRACT_PARTS,
    LIST_TESTS,
    MAX_LENGTH,
    NUMERIC,
    PROPERTIES,
    STRING_FORMS,
)
from segment_pipeline.definitions.sources import ColumnType
from segment_pipeline.definitions.yaml_files import did_you_mean
from segment_pipeline.errors import PredicateError


def property_path(node: exp.Expr) -> tuple[str, ...] | None:
    """The keys of an event property reference, outermost first: `properties.plan` is
    `("plan",)`, `properties.plan.tier` is `("plan", "tier")` (a column whose first part
    is `properties`, or a `Dot` chain over one when deeper); None for anything else."""
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Identifier):
        inner = property_path(node.this)
        return None if inner is None else (*inner, node.expression.name)
    if not isinstance(node, exp.Column) or not isinstance(node.this, exp.Identifier):
        return None
    parts = [part for part in node.parts if isinstance(part, exp.Identifier)]
    if len(parts) < 2 or len(parts) != len(node.parts) or parts[0].name != PROPERTIES:
        return None
    if parts[0].quoted:
        return None
    return tuple(part.name for part in parts[1:])


@dataclass(frozen=True)
class PredicateScope:
    """What a predicate may refer to.

    Attributes:
        what: the columns' owner in words, for messages (`company attributes`).
        columns: bare column names and their declared types.
        tables: `<table>.<column>` references allowed, e.g. entity models and their columns.
        properties: whether `properties.<key>` (any key) is allowed: event predicates only.
    """

    what: str
    columns: Mapping[str, ColumnType]
    tables: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    properties: bool = False


def event_scope() -> PredicateScope:
    """The scope of an event condition's `where`."""
    return PredicateScope("event columns", EVENT_COLUMNS, properties=True)


def parse_predicate(source: str, scope: PredicateScope) -> Predicate:
    """Parse `source` and check every node; raise `PredicateError` with the reason if not OK."""
    if not source.strip():
        raise PredicateError("is empty: write a condition such as employee_count >= 500")
    if len(source) > MAX_LENGTH:
        raise PredicateError(f"is {len(source)} characters long; the limit is {MAX_LENGTH}")
    statements = _parse(source)
    if len(statements) != 1:
        raise PredicateError("must be exactly one expression")
    tree = statements[0]
    _check_statement(tree)
    for node in tree.walk():
        _check_node(node, scope)
    _check_lists(tree, scope)
    _check_boolean(tree, scope)
    _check_types(tree, scope)
    return Predicate(source=source, expression=tree)


def _parse(source: str) -> list[exp.Expr]:
    """Tokenize once, refuse comments and `;`, then parse the same tokens."""
    dialect = sqlglot.Dialect.get_or_raise(PREDICATE_DIALECT)
    try:
        tokens = dialect.tokenize(source)
        _check_tokens(tokens)
        return [tree for tree in dialect.parser().parse(tokens, source) if tree]
    except ParseError as error:
        raise PredicateError(_parse_problem(source, error)) from error
    except TokenError as error:
        raise PredicateError(f"cannot parse {source!r}: {error}") from error
    except RecursionError as error:
        raise PredicateError("is nested too deeply") from error


def _check_tokens(tokens: list[Token]) -> None:
    """Refuse comments and `;` before parsing: they are how SQL gets smuggled in."""
    for token in tokens:
        if token.comments:
            raise PredicateError(
                "SQL comments (-- or /* */) are not allowed in a predicate; "
                "use a YAML # comment outside the quotes"
            )
        if token.token_type == TokenType.SEMICOLON:
            raise PredicateError("';' is not allowed: a predicate is one expression")


def _parse_problem(source: str, error: ParseError) -> str:
    details = error.errors[0] if error.errors else {}
    description = details.get("description") or "invalid expression"
    column = details.get("col")
    at = f" near column {column}" if column else ""
    return f"cannot parse {source!r}: {description.rstrip('.')}{at}"


def _check_statement(tree: exp.Expr) -> None:
    """The whole predicate must be an expression, not a statement or a query."""
    if tree.find(exp.Query) is not None:
        raise PredicateError("subqueries are not allowed")
    if not isinstance(tree, exp.Condition):
        if isinstance(tree, exp.Alias):
            raise PredicateError(
                f"unexpected word {tree.alias!r} after the condition (a missing AND or OR?)"
            )
        raise PredicateError(
            "SQL statements are not allowed: a predicate is a condition such as "
            "employee_count >= 500"
        )


def _check_boolean(tree: exp.Expr, scope: PredicateScope) -> None:
    """The whole predicate must be true or false, not a number or a text."""
    root = tree.unnest()
    if isinstance(root, BOOLEAN_ROOTS):
        return
    if isinstance(root, exp.Column) and _column_type(root, scope) in {ColumnType.BOOLEAN, None}:
        return
    if isinstance(root, exp.Coalesce) or (
        isinstance(root, exp.Cast) and root.to.is_type(exp.DataType.Type.BOOLEAN)
    ):
        return
    raise PredicateError(
        f"must be a true/false condition such as employee_count >= 500, got {tree.sql()!r}"
    )


def _check_node(node: exp.Expr, scope: PredicateScope) -> None:
    """One node of the tree against the allow-list."""
    if isinstance(node, exp.Query):
        raise PredicateError("subqueries are not allowed")
    if isinstance(node, exp.Placeholder | exp.Parameter):
        raise PredicateError("parameters (?, $1, :name) are not allowed: write the value itself")
    if isinstance(node, exp.Dot):
        if property_path(node) is None:
            raise PredicateError(f"{node.sql()!r} is not allowed in a predicate")
        if not scope.properties:
            raise PredicateError("properties.<key> is only allowed in an event condition's where")
    elif isinstance(node, exp.Column):
        _check_column(node, scope)
    elif isinstance(node, exp.Identifier):
        if not isinstance(node.parent, exp.Column) and (
            not isinstance(node.parent, exp.Dot) or property_path(node.parent) is None
        ):
            raise PredicateError(f"{node.sql()!r} is not allowed here")
    elif isinstance(node, exp.In):
        if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
            raise PredicateError("IN takes a list of values such as ('GB', 'US'), not a query")
        if not node.expressions:
            raise PredicateError("IN needs at least one value, such as ('GB', 'US')")
    elif isinstance(node, STRING_FORMS):
        raise PredicateError(f"write text in single quotes such as 'GB', not {node.sql()}")
    elif isinstance(node, exp.Var):
        if not isinstance(node.parent, exp.Extract) or node.name.lower() not in EXTRACT_PARTS:
            raise PredicateError(f"{node.name!r} is not a column or a date part")
    elif isinstance(node, exp.DataType | exp.DataTypeParam):
        if isinstance(node, exp.DataType) and not node.is_type(*CAST_TYPES):
            raise PredicateError(f"casting to {node.sql()} is not allowed")
    elif isinstance(node, exp.Anonymous):
        raise PredicateError(
            f"unknown function {node.name}(); allowed functions: {ALLOWED_FUNCTION_NAMES}"
        )
    elif isinstance(node, LIST_TESTS):
        _check_list_test(node, scope)
    elif isinstance(node, exp.Array):
        if not isinstance(node.parent, exp.ArrayOverlaps) or node.arg_key != "expression":
            raise PredicateError(
                f"a list of values such as {node.sql(PREDICATE_DIALECT)} is only allowed as "
                "the second argument of list_has_any"
            )
    elif isinstance(node, exp.JSONExtract | exp.JSONExtractScalar):
        raise PredicateError("JSON operators are not allowed: write properties.<key>")
    elif isinstance(node, exp.Func) and not isinstance(node, ALLOWED_FUNCTIONS + ALLOWED_NODES):
        raise PredicateError(
            f"function {node.sql_name().lower()}() is not allowed; "
            f"allowed functions: {ALLOWED_FUNCTION_NAMES}"
        )
    elif not isinstance(node, ALLOWED_NODES + ALLOWED_FUNCTIONS):
        raise PredicateError(f"{node.sql(PREDICATE_DIALECT)!r} is not allowed in a predicate")


def _check_list_test(node: exp.ArrayContains | exp.ArrayOverlaps, scope: PredicateScope) -> None:
    """The first argument must be a list: a `list<text>` attribute, or an entity model's
    column (whose type only the model's run tells: `evaluate.models.require_list_columns`).
    What a `list<text>` attribute is searched for must be text, given as literals."""
    name = _list_test_name(node)
    subject = node.this.unnest()
    kind = _column_type(subject, scope) if isinstance(subject, exp.Column) else None
    if kind is ColumnType.LIST_TEXT:
        _check_list_values(node, subject.name)
        return
    is_model_column = (
        isinstance(subject, exp.Column)
        and subject.table not in ("", PROPERTIES)
        and property_path(subject) is None
    )
    if is_model_column:
        if isinstance(node, exp.ArrayOverlaps) and not _is_value_list(node.expression):
            raise PredicateError(
                f"{name}({subject.sql(PREDICATE_DIALECT)}, ...) looks for any of a list of "
                "values, such as ['a', 'b']"
            )
        return
    lists = [column for column, kind in scope.columns.items() if kind is ColumnType.LIST_TEXT]
    example = f"{name}({lists[0]}, 'x')" if lists else f"{name}(company_tags.tags, 'hiring')"
    if kind is not None:
        raise PredicateError(
            f"{name} reads a list column, and {subject.name} is {kind.value}: compare it with "
            f"= or IN instead, or declare it list<text> in sources.yml"
        )
    raise PredicateError(
        f"{name} reads a list column (a list<text> attribute or an entity model's list "
        f"column) first, such as {example}"
    )


def _list_test_name(node: exp.Expr) -> str:
    return "list_contains" if isinstance(node, exp.ArrayContains) else "list_has_any"


def _check_list_values(node: exp.ArrayContains | exp.ArrayOverlaps, column: str) -> None:
    """A list of text holds texts: look for one (or some), written in quotes."""
    if isinstance(node, exp.ArrayContains):
        if not _is_string(node.expression):
            raise PredicateError(
                f"{column} is a list of text: look for a text in quotes, such as "
                f"list_contains({column}, 'x'), not {node.expression.sql(PREDICATE_DIALECT)}"
            )
    elif not _is_value_list(node.expression) or not all(
        _is_string(value) for value in node.expression.expressions
    ):
        raise PredicateError(
            f"{column} is a list of text: list_has_any looks for texts in quotes, such as "
            f"list_has_any({column}, ['a', 'b'])"
        )


def _is_value_list(node: exp.Expr) -> bool:
    """A non-empty list of literal values: `['a', 'b']`."""
    return (
        isinstance(node, exp.Array)
        and bool(node.expressions)
        and all(_is_literal(value) for value in node.expressions)
    )


def _check_lists(tree: exp.Expr, scope: PredicateScope) -> None:
    """A `list<text>` attribute is only tested for what it holds, or for being NULL: compared
    with =, ordered or given to another function, it would fail in the engine, not here."""
    for column in tree.find_all(exp.Column):
        if _column_type(column, scope) is not ColumnType.LIST_TEXT:
            continue
        child, parent = _outside_parens(column)
        if isinstance(parent, LIST_TESTS) and parent.this is child:
            continue
        if isinstance(parent, exp.Is) and parent.this is child and parent.expression.key == "null":
            continue
        name = column.name
        raise PredicateError(
            f"{name} is a list of text: test what it holds with list_contains({name}, 'x') "
            f"or list_has_any({name}, ['x', 'y']), or whether it is known with {name} IS NULL"
        )


def _outside_parens(node: exp.Expr) -> tuple[exp.Expr, exp.Expr | None]:
    """The node with any parentheses around it, and what holds that."""
    while isinstance(node.parent, exp.Paren):
        node = node.parent
    return node, node.parent


def _check_column(column: exp.Column, scope: PredicateScope) -> None:
    """A bare name must be declared; `table.column` must be a property or a model's column."""
    if not isinstance(column.this, exp.Identifier):
        raise PredicateError(f"{column.sql()!r} is not a column")
    if property_path(column) is not None:
        if not scope.properties:
            raise PredicateError("properties.<key> is only allowed in an event condition's where")
        return
    if column.args.get("db") or column.args.get("catalog"):
        hint = " (a nested event property as properties.<key>.<key>)" if scope.properties else ""
        raise PredicateError(f"{column.sql()!r}: write a column as name or table.name{hint}")
    name, table = column.name, column.table
    if not table:
        if name not in scope.columns:
            raise PredicateError(_unknown_column(name, scope))
        return
    if table == PROPERTIES:
        if not scope.properties:
            raise PredicateError("properties.<key> is only allowed in an event condition's where")
        return
    if table not in scope.tables:
        known = ", ".join(sorted(scope.tables)) or "none"
        raise PredicateError(
            f"unknown model {table!r}{did_you_mean(table, scope.tables)} in {column.sql()!r}; "
            f"models usable here: {known}"
        )
    if name not in scope.tables[table]:
        raise PredicateError(
            f"model {table} has no column {name!r}{did_you_mean(name, scope.tables[table])}; "
            f"its columns are: {', '.join(scope.tables[table])}"
        )


def _unknown_column(name: str, scope: PredicateScope) -> str:
    hint = did_you_mean(name, scope.columns)
    foreign = [char for char in name if not char.isascii()]
    if foreign:
        char = foreign[0]
        hint += f" (it contains the non-ASCII character {char!r}, U+{ord(char):04X})"
    if scope.properties and not hint:
        hint = f" (an event property is written properties.{name})"
    return f"unknown column {name!r}{hint}; {scope.what} are: {', '.join(sorted(scope.columns))}"


def _column_type(column: exp.Column, scope: PredicateScope) -> ColumnType | None:
    """The declared type of a bare column; None when not known (properties, models)."""
    return None if column.table else scope.columns.get(column.name)


def _check_types(tree: exp.Expr, scope: PredicateScope) -> None:
    """Catch a text column compared with a number (or the reverse) now, not at run time."""
    for node in tree.find_all(*COMPARISONS, exp.In, exp.Between):
        column = node.this
        if not isinstance(column, exp.Column):
            continue
        kind = _column_type(column, scope)
        values = _compared_values(node)
        if kind is None or not values or not all(_is_literal(value) for value in values):
            continue
        if kind == ColumnType.TEXT and any(not _is_string(value) for value in values):
            raise PredicateError(f"{column.name} is text: compare it with text such as 'GB'")
        if kind in NUMERIC and any(_is_string(value) for value in values):
            raise PredicateError(f"{column.name} is a number: compare it with a number such as 500")


def _compared_values(node: exp.Expr) -> list[exp.Expr]:
    if isinstance(node, exp.In):
        return list(node.expressions)
    if isinstance(node, exp.Between):
        return [node.args["low"], node.args["high"]]
    return [node.expression]


def _is_literal(node: exp.Expr) -> bool:
    return isinstance(node, exp.Literal) or (
        isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal)
    )


def _is_string(node: exp.Expr) -> bool:
    return isinstance(node, exp.Literal) and node.is_string
