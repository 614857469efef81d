"""One entity's membership of one segment explained: its flips and each leaf now, with an
`in_segment` leaf's own explanation nested under it.

The timeline is the evaluation's own (`MembershipRun.entity_timeline`), so the flips are
the instants the evaluation's join times come from. An `in_segment` leaf on a segment of
the same entity nests the entity's explanation there; on a company segment from a contact
segment, that of the contact's company at `as_of` (the company the leaf reads then).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlglot import exp

from segment_pipeline.compile.relations import versions_table
from segment_pipeline.compile.spec import TimelineSpec
from segment_pipeline.compile.visible import FOREVER, as_of
from segment_pipeline.definitions.conditions import InSegment
from segment_pipeline.definitions.project import Project
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.evaluate.membership import MembershipRun
from segment_pipeline.explain.explanation import Explanation, Line
from segment_pipeline.explain.flips import flips
from segment_pipeline.explain.sentences import flip_sentence, leaf_path, value_sentence
from segment_pipeline.sql import col, lit
from segment_pipeline.warehouse.engine import Warehouse


@dataclass(frozen=True)
class Explaining:
    """What every explanation of one request reads: the warehouse, the project (the
    definitions on disk) and the snapshot date."""

    warehouse: Warehouse
    project: Project
    snapshot_date: date

    def title(self, segment: str, entity: str, entity_id: str) -> str:
        """`company co_1 in engaged_enterprise up to the snapshot of 2026-01-14`."""
        return f"{entity} {entity_id} in {segment} up to the snapshot of {self.snapshot_date}"


def current_value(warehouse: Warehouse, entity: str, entity_id: str, column: str) -> object:
    """A column of the entity's latest version in the run's staged versions (None when it
    has none)."""
    rows = warehouse.rows(
        exp.select(column)
        .from_(versions_table(entity))
        .where(col("entity_id").eq(lit(entity_id)))
        .where(col("valid_to").eq(lit(FOREVER)))
    )
    return rows[0][0] if rows else None


def no_record(context: Explaining, segment: str, entity: str, entity_id: str) -> Explanation:
    """The explanation of an entity with no visible record: never a member."""
    sentence = f"exists: {entity} {entity_id} has no record visible as of {context.snapshot_date}"
    line = Line(at=as_of(context.snapshot_date), leaf="exists", sentence=sentence, holds=False)
    return Explanation(
        segment, entity, entity_id, context.title(segment, entity, entity_id), [], [line]
    )


def membership(context: Explaining, segment: Segment, entity_id: str) -> Explanation | None:
    """The entity's flips up to `as_of`, oldest first, each with the leaf that flipped it
    and its value then; then every leaf's value at `as_of`. None when the entity has no
    visible record."""
    spec = TimelineSpec(segment, as_of(context.snapshot_date))
    run = MembershipRun(context.warehouse, context.project, context.snapshot_date)
    timeline = run.entity_timeline(segment, entity_id)
    if current_value(context.warehouse, segment.entity, entity_id, "entity_id") is None:
        return None
    flipped = [
        Line(
            at=flip.at,
            flip="joined" if flip.joined else "left",
            leaf=leaf_path(spec, flip.leaf),
            holds=flip.after[flip.leaf][0],
            count=flip.after[flip.leaf][1],
            sentence=flip_sentence(spec, flip),
        )
        for flip in flips(spec, timeline)
    ]
    last = timeline.iloc[-1]
    now: list[Line] = []
    for leaf in spec.columns:
        holds = bool(last[leaf.at])
        count = int(last[leaf.count_at]) if spec.is_event(leaf.index) else None
        line = Line(
            at=spec.as_of,
            leaf=leaf_path(spec, leaf.index),
            holds=holds,
            count=count,
            sentence=value_sentence(spec, leaf.index, holds, count),
        )
        if leaf.index:
            node = spec.leaves[leaf.index - 1][1]
            if isinstance(node, InSegment):
                line.nested = nested(context, segment, node, entity_id)
        now.append(line)
    title = context.title(segment.name, segment.entity, entity_id)
    return Explanation(segment.name, segment.entity, entity_id, title, flipped, now)


def nested(
    context: Explaining, segment: Segment, leaf: InSegment, entity_id: str
) -> list[Explanation]:
    """The explanation an `in_segment` leaf rests on: the entity's own in the segment it
    names, or its company's for a company segment named from a contact segment."""
    referenced = context.project.segments[leaf.segment]
    if referenced.entity == segment.entity:
        target = entity_id
    elif segment.entity == "contact" and referenced.entity == "company":
        company = current_value(context.warehouse, "contact", entity_id, "company_id")
        if company is None:
            line = Line(
                at=as_of(context.snapshot_date),
                leaf="company",
                holds=False,
                sentence=f"company: contact {entity_id} has no company as of "
                f"{context.snapshot_date}",
            )
            title = context.title(referenced.name, "contact", entity_id)
            return [Explanation(referenced.name, "contact", entity_id, title, [], [line])]
        target = str(company)
    else:
        return []
    found = membership(context, referenced, target)
    return [found or no_record(context, referenced.name, referenced.entity, target)]
