"""The values condition leaves are made of: a validated predicate, a count and a window
(frozen pydantic values; a `Count` or `Window` cannot hold a nonsense range)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlglot import exp

#: The dialect predicates are written in and canonicalised with.
PREDICATE_DIALECT = "duckdb"


class Frozen(BaseModel):
    """Immutable, exact models: a condition never changes after validation."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class Predicate(Frozen):
    """A checked SQL boolean expression.

    Declared columns are `exp.Column`s with a bare name; an event property is
    `exp.Column(table="properties", this=<key>)`, a nested one `properties.plan.tier` the
    column (or `exp.Dot` chain) whose first part is `properties` (`predicates.property_path`);
    a model's data point is
    `exp.Column(table=<model>, this=<column>)`. Comments are never allowed, so the
    expression is all there is. `canonical` is filled in from the expression when not
    given. Compile it with `compile.predicates.compile_predicate`.
    """

    source: str
    expression: exp.Expr
    canonical: str = ""

    @model_validator(mode="before")
    @classmethod
    def _render(cls, data: Any) -> Any:
        """Fill `canonical` from the expression once: rendering is the costly part of
        computing versions, and a predicate never changes."""
        if isinstance(data, dict) and not data.get("canonical"):
            expression = data.get("expression")
            if isinstance(expression, exp.Expr):
                data = {**data, "canonical": expression.sql(dialect=PREDICATE_DIALECT)}
        return data

    @property
    def sql(self) -> str:
        """The canonical text: what the definition version hashes."""
        return self.canonical

    @property
    def words(self) -> str:
        """The text people read: the canonical text with list tests under the names they are
        written with. Canonically sqlglot writes `ARRAY_CONTAINS(...)` and `... && [...]`,
        which nobody wrote in a YAML file; the canonical text itself cannot change, since
        definition versions hash it."""
        if self.expression.find(exp.ArrayContains, exp.ArrayOverlaps) is None:
            return self.canonical
        return self.expression.transform(_as_written).sql(dialect=PREDICATE_DIALECT)


def _as_written(node: exp.Expr) -> exp.Expr:
    """A list test as the YAML function that wrote it; any other node unchanged."""
    if isinstance(node, exp.ArrayContains):
        name = "list_contains"
    elif isinstance(node, exp.ArrayOverlaps):
        name = "list_has_any"
    else:
        return node
    return exp.Anonymous(this=name, expressions=[node.this, node.expression])


#: How a count or an aggregate is compared with its range, by YAML key.
ComparisonOp = Literal["at_least", "at_most", "exactly", "between"]


class Count(Frozen):
    """How many matching events an event condition needs, as an inclusive range."""

    op: ComparisonOp
    low: int = Field(ge=0)
    high: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.high is not None and self.high < self.low:
            raise ValueError(f"the range {self.low}..{self.high} is empty")
        if (self.op == "at_least") != (self.high is None):
            raise ValueError("only at_least has no upper bound")
        return self

    @classmethod
    def at_least(cls, n: int) -> Count:
        """`at_least: n`, also the default with n = 1."""
        return cls(op="at_least", low=n)

    @classmethod
    def at_most(cls, n: int) -> Count:
        """`at_most: n` (zero events count as at most n)."""
        return cls(op="at_most", low=0, high=n)

    @classmethod
    def exactly(cls, n: int) -> Count:
        """`exactly: n`."""
        return cls(op="exactly", low=n, high=n)

    @classmethod
    def between(cls, low: int, high: int) -> Count:
        """`between: [low, high]`, both ends included."""
        return cls(op="between", low=low, high=high)

    def holds(self, n: int) -> bool:
        """Whether `n` matching events satisfy this count."""
        return self.low <= n and (self.high is None or n <= self.high)

    def describe(self) -> str:
        """`at least 3`, `at most 2`, `exactly 1`, `between 2 and 5`."""
        if self.op == "at_least":
            return f"at least {self.low}"
        if self.op == "at_most":
            return f"at most {self.high}"
        if self.op == "exactly":
            return f"exactly {self.low}"
        return f"between {self.low} and {self.high}"


class Window(Frozen):
    """Which events count by time: the last N days, a date range (both days included), or all.

    YAML keys are `last_days`, `from` and `to`; `from`/`to` always come together. All `None`
    means all time. The time semantics are SPEC 5.
    """

    last_days: int | None = Field(default=None, ge=1)
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if self.last_days is not None and (self.start is not None or self.end is not None):
            raise ValueError("use either last_days or from/to, not both")
        if (self.start is None) != (self.end is None):
            raise ValueError("from and to go together")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"from {self.start} is after to {self.end}")
        return self

    @property
    def is_all_time(self) -> bool:
        """True when no window was given."""
        return self.last_days is None and self.start is None

    def describe(self) -> str:
        """`in the last 30 days`, `from 2026-06-01 to 2026-06-30`, or `` for all time."""
        if self.last_days is not None:
            unit = "day" if self.last_days == 1 else "days"
            return f"in the last {self.last_days} {unit}"
        if self.start is not None and self.end is not None:
            return f"from {self.start.isoformat()} to {self.end.isoformat()}"
        return ""
