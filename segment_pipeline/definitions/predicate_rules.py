"""What a predicate may contain (SPEC 4.1): the allow-list of sqlglot nodes and functions,
the event columns, the casts, the date parts and the forms a text test may take. Anything
else is refused at validation, so `run` never meets it."""

from __future__ import annotations

from sqlglot import exp

from segment_pipeline.definitions.sources import ColumnType

#: Event predicates see these columns besides `properties.<key>` (SPEC 4.1).
EVENT_COLUMNS: dict[str, ColumnType] = {
    "event_name": ColumnType.TEXT,
    "occurred_at": ColumnType.TIMESTAMP,
}


#: The table name under which event properties are written: `properties.plan`.
PROPERTIES = "properties"


#: Scalar functions a predicate may call, by sqlglot class.
ALLOWED_FUNCTIONS: tuple[type[exp.Expr], ...] = (
    exp.Coalesce,
    exp.Lower,
    exp.Upper,
    exp.Trim,
    exp.Length,
    exp.Abs,
    exp.Round,
    exp.Year,
    exp.Quarter,
    exp.Month,
    exp.Week,
    exp.Day,
    exp.DayOfMonth,
    exp.DayOfWeek,
    exp.DayOfYear,
    exp.Hour,
    exp.Extract,
    exp.Cast,
    exp.TryCast,
    # list_contains(<list>, 'x') and list_has_any(<list>, ['x', 'y']): a list<text>
    # attribute or a model's list column holds the text, or one of the texts (SPEC 4.4).
    exp.ArrayContains,
    exp.ArrayOverlaps,
)


ALLOWED_FUNCTION_NAMES = (
    "abs, cast, coalesce, day, dayofmonth, dayofweek, dayofyear, extract, hour, length, "
    "list_contains, list_has_any, lower, month, quarter, round, trim, try_cast, upper, week, "
    "year"
)


#: The binary comparisons a predicate may use (the compiler reads them too).
COMPARISONS: tuple[type[exp.Expr], ...] = (
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.NullSafeEQ,
    exp.NullSafeNEQ,
)

#: Operators and building blocks: everything else is refused.
ALLOWED_NODES: tuple[type[exp.Expr], ...] = (
    exp.Paren,
    exp.And,
    exp.Or,
    exp.Not,
    *COMPARISONS,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
    exp.Neg,
    exp.DPipe,
    exp.Is,
    exp.In,
    exp.Like,
    exp.ILike,
    exp.Escape,
    exp.Between,
    exp.Case,
    exp.If,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Column,
)


#: Longer than any predicate a person writes; stops pathological input early.
MAX_LENGTH = 4000


STRING_FORMS = (
    exp.RawString,
    exp.National,
    exp.ByteString,
    exp.HexString,
    exp.BitString,
    exp.UnicodeString,
)


EXTRACT_PARTS = {"year", "quarter", "month", "week", "day", "dayofweek", "dow", "doy", "hour"}


CAST_TYPES = (
    "text",
    "varchar",
    "int",
    "bigint",
    "smallint",
    "double",
    "float",
    "decimal",
    "boolean",
    "date",
    "timestamp",
    "timestampntz",
)


NUMERIC = {ColumnType.INTEGER, ColumnType.DOUBLE}


COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


BOOLEAN_ROOTS = (
    exp.Predicate,
    exp.Connector,
    exp.Not,
    exp.Boolean,
    exp.Escape,
    exp.Case,
    exp.ArrayContains,
    exp.ArrayOverlaps,
)


#: The tests of what a list holds: their first argument is the list.
LIST_TESTS = (exp.ArrayContains, exp.ArrayOverlaps)
