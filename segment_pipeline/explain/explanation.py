"""An explanation as a tree: one entity in one segment, its flips and its values now, each
value line possibly holding the explanations it rests on (an `in_segment` leaf's entity in
the segment it names; a picked contact's company).

The tree is built once and read two ways: as rows of a DataFrame (`records`, the nesting
as `depth`) and as the indented text the command line prints (`lines`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

#: The columns of an explanation's rows. `flip` is `joined` / `left` on a flip, None on a
#: value now (`at` is then `as_of`); `depth` is 0 for the entity asked about, 1 for what
#: one of its lines rests on, and so on; the rows of a nested explanation follow the line
#: they belong to.
COLUMNS = [
    "depth",
    "segment",
    "entity_type",
    "entity_id",
    "at",
    "flip",
    "leaf",
    "holds",
    "count",
    "sentence",
]

#: The indent of one level of nesting in the text.
INDENT = "    "


@dataclass
class Line:
    """One statement: a flip (`flip` set) or a value now, with what it rests on."""

    at: datetime
    leaf: str
    sentence: str
    flip: str | None = None
    holds: bool | None = None
    count: int | None = None
    nested: list[Explanation] = field(default_factory=list)


@dataclass
class Explanation:
    """One entity in one segment: `title`, its flips (or `no_flips` said), then its
    values now under `now_title`."""

    segment: str
    entity_type: str
    entity_id: str
    title: str
    flips: list[Line]
    now: list[Line]
    now_title: str = "each condition now"
    no_flips: str = "never a member"

    def records(self, depth: int = 0) -> Iterator[dict[str, object]]:
        """The rows (`COLUMNS`) of this explanation and, after each line, of its nested
        ones."""
        for line in [*self.flips, *self.now]:
            yield {
                "depth": depth,
                "segment": self.segment,
                "entity_type": self.entity_type,
                "entity_id": self.entity_id,
                "at": line.at,
                "flip": line.flip,
                "leaf": line.leaf,
                "holds": line.holds,
                "count": line.count,
                "sentence": line.sentence,
            }
            for nested in line.nested:
                yield from nested.records(depth + 1)

    def lines(self, depth: int = 0) -> Iterator[str]:
        """The explanation as text, nested ones indented under their line."""
        indent = INDENT * depth
        yield f"{indent}{self.title}:"
        for line in self.flips:
            yield f"{indent}  {line.sentence}"
        if not self.flips:
            yield f"{indent}  {self.no_flips}"
        yield f"{indent}{self.now_title}:"
        for line in self.now:
            yield f"{indent}  {line.sentence}"
            for nested in line.nested:
                yield from nested.lines(depth + 1)
