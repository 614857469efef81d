"""The segment reference graph: unknown names, wrong directions and cycles (SPEC 4.1).

A contact segment may refer to a company segment (the contact's company is a member);
a company segment may not refer to a contact segment, since a company has many contacts
and "is a member" would not say which. Cycles are reported once each, as `a -> b -> a`,
at the `in_segment` that closes them in the first segment's file.
"""

from __future__ import annotations

from collections.abc import Mapping

from segment_pipeline.definitions.conditions import InSegment, iter_leaves
from segment_pipeline.definitions.graph import DAG
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.definitions.sources import EntityType
from segment_pipeline.definitions.yaml_files import did_you_mean, join_path
from segment_pipeline.errors import DefinitionError, format_cycle


def check_references(
    segments: Mapping[str, Segment],
    declared: Mapping[str, EntityType | None],
    contacts_have_company: bool = True,
) -> tuple[list[str], list[DefinitionError]]:
    """Segment names in dependency order (referenced first) and every reference mistake.

    Args:
        segments: the segments that loaded without mistakes, by name.
        declared: every segment name found on disk with its entity (None if unreadable),
            including those with mistakes, so that a reference to them is not "unknown".
        contacts_have_company: whether contacts declare `company_id`; without it a contact
            segment cannot refer to a company segment.
    """
    errors: list[DefinitionError] = []
    graph: DAG[str] = DAG()
    for segment in segments.values():
        for path, leaf in iter_leaves(segment.where):
            if not isinstance(leaf, InSegment):
                continue
            here = join_path(path, "in_segment")
            if leaf.segment not in declared:
                errors.append(
                    DefinitionError(
                        segment.file,
                        here,
                        f"unknown segment {leaf.segment!r}{did_you_mean(leaf.segment, declared)}",
                    )
                )
            elif segment.entity == "company" and declared[leaf.segment] == "contact":
                errors.append(
                    DefinitionError(
                        segment.file,
                        here,
                        f"{leaf.segment} is a contact segment: a company segment can only "
                        "refer to company segments (a contact segment may refer to a company "
                        "segment, not the reverse)",
                    )
                )
            elif (
                segment.entity == "contact"
                and declared[leaf.segment] == "company"
                and not contacts_have_company
            ):
                errors.append(
                    DefinitionError(
                        segment.file,
                        here,
                        f"{leaf.segment} is a company segment, read through the contact's "
                        "company, and sources.yml does not declare company_id under "
                        "contacts.columns: declare it (company_id: text)",
                    )
                )
        graph.add(segment.name, [name for name in segment.references if name in segments])
    cycles = graph.cycles()
    for cycle in cycles:
        first = segments[cycle[0]]
        errors.append(
            DefinitionError(
                first.file,
                _reference_path(first, cycle[1]),
                f"segments refer to each other in a cycle: {format_cycle(cycle)}",
            )
        )
    order = list(segments) if cycles else graph.sorted()
    return order, errors


def _reference_path(segment: Segment, target: str) -> str:
    """Where `segment` names `target`, e.g. `where.all[2].not.in_segment`."""
    for path, leaf in iter_leaves(segment.where):
        if isinstance(leaf, InSegment) and leaf.segment == target:
            return join_path(path, "in_segment")
    return "where"
