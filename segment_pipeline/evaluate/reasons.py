"""Why an entity is not a member: the first leaf condition that fails, in words.

The evaluator keeps each leaf's value (and event counts) at `as_of`; this module walks the
condition tree in definition order to find the leaf responsible and writes a sentence a
marketer understands, e.g. `where.all[1]: event pricing_viewed in the last 30 days:
2 times, needs at least 3`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from sqlglot import exp

from segment_pipeline.compile.spec import LeafColumns
from segment_pipeline.definitions.conditions import (
    AllOf,
    AnyOf,
    Attribute,
    AttributeAge,
    CompanyAttribute,
    Condition,
    InSegment,
    Leaf,
    Not,
    Split,
    describe_leaf,
    iter_leaves,
)
from segment_pipeline.definitions.event_conditions import EventCondition, Regularly, Restarted

#: (path, leaf, whether the leaf *holds*: true when it fails under a `not`).
Culprit = tuple[str, Leaf, bool]


#: A frame's rows by their index (`DataFrame.to_dict("index")`), each its values by column.
Rows = dict[Hashable, dict[str, Any]]


class Explainer:
    """Explains non-membership from the leaf values at `as_of` of one entity."""

    def __init__(self, where: Condition) -> None:
        self.where = where
        self.leaves = list(iter_leaves(where))
        self.index = {path: index for index, (path, _) in enumerate(self.leaves, 1)}

    @property
    def value_columns(self) -> list[str]:
        """The timeline columns it reads at `as_of`: each leaf's value, and event counts."""
        columns = []
        for index, (_, leaf) in enumerate(self.leaves, 1):
            columns.append(LeafColumns(index).at)
            if isinstance(leaf, EventCondition | Restarted | Regularly):
                columns.append(LeafColumns(index).count_at)
        return columns

    @property
    def attribute_columns(self) -> list[str]:
        """The entity's attribute columns its sentences show."""
        names = _columns_of(leaf for _, leaf in self.leaves if isinstance(leaf, Attribute))
        ages = [leaf.column for _, leaf in self.leaves if isinstance(leaf, AttributeAge)]
        return names + [name for name in dict.fromkeys(ages) if name not in names]

    @property
    def company_columns(self) -> list[str]:
        """The company attribute columns its sentences show."""
        return _columns_of(leaf for _, leaf in self.leaves if isinstance(leaf, CompanyAttribute))

    def holds(self, condition: Condition, path: str, values: Mapping[str, object]) -> bool:
        """The condition's value from the leaf values `at_<i>`."""
        if isinstance(condition, AllOf | AnyOf):
            key = "all" if isinstance(condition, AllOf) else "any"
            results = (
                self.holds(child, f"{path}.{key}[{i}]", values)
                for i, child in enumerate(condition.conditions)
            )
            return all(results) if isinstance(condition, AllOf) else any(results)
        if isinstance(condition, Not):
            return not self.holds(condition.condition, f"{path}.not", values)
        return bool(values[LeafColumns(self.index[path]).at])

    def culprit(
        self, condition: Condition, path: str, values: Mapping[str, object], want: bool = True
    ) -> Culprit | None:
        """The first leaf, in definition order, that makes `condition` differ from `want`."""
        if self.holds(condition, path, values) == want:
            return None
        if isinstance(condition, Not):
            return self.culprit(condition.condition, f"{path}.not", values, not want)
        if isinstance(condition, AllOf | AnyOf):
            key = "all" if isinstance(condition, AllOf) else "any"
            for i, child in enumerate(condition.conditions):
                found = self.culprit(child, f"{path}.{key}[{i}]", values, want)
                if found is not None:
                    return found
            return None
        return path, condition, not want

    def explain(
        self,
        values: Mapping[str, Any],
        attributes: Mapping[str, object],
        company_attributes: Mapping[str, object] | None,
    ) -> str:
        """`<path>: <leaf in words>: <what the data says>` for the first failing leaf.

        `values` are the leaf columns as the engine gives them (`Any`, as warehouse rows)."""
        found = self.culprit(self.where, "where", values)
        if found is None:
            return "the definition holds, but the entity is no longer a member"
        path, leaf, holds = found
        index = self.index[path]
        if isinstance(leaf, EventCondition):
            count = int(values.get(LeafColumns(index).count_at) or 0)
            times = _times(count)
            need = (
                f"must not be {leaf.count.describe()}"
                if holds
                else (f"needs {leaf.count.describe()}")
            )
            return f"{path}: {describe_leaf(leaf)}: {times}, {need}"
        if isinstance(leaf, Restarted):
            count = int(values.get(LeafColumns(index).count_at) or 0)
            times = "no restart" if count == 0 else f"restarted {_times(count)}"
            return f"{path}: {describe_leaf(leaf)}: {times}" + (", must not be" if holds else "")
        if isinstance(leaf, Regularly):
            count = int(values.get(LeafColumns(index).count_at) or 0)
            state = f"in {count} of them" + (", must not be" if holds else "")
            return f"{path}: {describe_leaf(leaf)}: {state}"
        if isinstance(leaf, AttributeAge):
            shown = value_words(attributes.get(leaf.column))
            suffix = " (must not hold)" if holds else ""
            return f"{path}: {describe_leaf(leaf)}: {leaf.column} is {shown}{suffix}"
        if isinstance(leaf, Split):
            state = "in the split, must not be" if holds else "not in the split"
            return f"{path}: {describe_leaf(leaf)}: {state}"
        if isinstance(leaf, InSegment):
            state = "is a member, must not be" if holds else "not a member"
            return f"{path}: {describe_leaf(leaf)}: {state}"
        if not isinstance(leaf, Attribute | CompanyAttribute):
            # aggregate, first_event, last_event and any later kind: met or not.
            state = "is met, must not be" if holds else "is not met"
            return f"{path}: {describe_leaf(leaf)}: {state}"
        if isinstance(leaf, CompanyAttribute) and company_attributes is None:
            return f"{path}: {describe_leaf(leaf)}: the contact has no current company"
        source = attributes if isinstance(leaf, Attribute) else company_attributes or {}
        shown = ", ".join(
            f"{name} is {value_words(source.get(name))}" for name in _columns_of([leaf])
        )
        suffix = " (must not hold)" if holds else ""
        return f"{path}: {describe_leaf(leaf)}: {shown}{suffix}"


def _times(count: int) -> str:
    """`1 time`, `3 times`."""
    return "1 time" if count == 1 else f"{count} times"


def _columns_of(leaves: Iterable[Attribute | CompanyAttribute]) -> list[str]:
    """Attribute columns the predicates read, in order of appearance, once each."""
    names: list[str] = []
    for leaf in leaves:
        for column in leaf.predicate.expression.find_all(exp.Column):
            if column.name not in names and not column.table:
                names.append(column.name)
    return names


def is_missing(value: object) -> bool:
    """Whether a value read from the engine is NULL (None, NaN, pandas' NA or NaT); a list
    (an array, as pandas reads one) is a value, even an empty one."""
    if isinstance(value, list | tuple | np.ndarray):
        return False
    # pandas-stubs' isna overloads name scalar types only; at runtime it takes any cell.
    return value is None or bool(pd.isna(value))  # type: ignore[call-overload]


def value_words(value: object) -> str:
    """A value as a sentence shows it: text quoted, a list as its items in brackets
    (`['hubspot', 'stripe']`), a missing value as `missing`."""
    if isinstance(value, list | tuple | np.ndarray):
        return f"[{', '.join(value_words(item) for item in value)}]"
    if is_missing(value):
        return "missing"
    if isinstance(value, str):
        return repr(value)
    return str(value)
