"""Why an entity is (or is not) in a segment: every flip of its membership, and the leaf
condition that made it, then each leaf's value at `as_of(D)`, with what an `in_segment`
leaf rests on nested under it; for a contact of a company segment with personas, how the
personas pick it (or not) and its company's own explanation.

It reads the evaluation's own timeline of the entity under the definition in force (the
whole-history relations a run dates members with, `MembershipRun.entity_timeline`), so
its flips are the instants the evaluation's join times come from, and ranks contacts with
the picking's own code (`explain/personas.py`).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from segment_pipeline.definitions.project import Project
from segment_pipeline.errors import ConfigError
from segment_pipeline.explain.explanation import COLUMNS, Explanation
from segment_pipeline.explain.membership import Explaining, membership
from segment_pipeline.explain.personas import picked_contact
from segment_pipeline.warehouse.engine import Warehouse

__all__ = ["COLUMNS", "explain", "explanation"]


def explanation(
    warehouse: Warehouse, project: Project, segment: str, entity_id: str, snapshot_date: date
) -> Explanation:
    """The explanation of `entity_id` in `segment` on the snapshot of `snapshot_date`: a
    company segment with personas explains a contact id (one that is not a company) as a
    contact its personas pick or not.

    Raises `ConfigError` for an unknown segment or an entity with no visible record.
    """
    if segment not in project.segments:
        raise ConfigError(f"unknown segment {segment!r}: `segment-pipeline validate` lists them")
    definition = project.segments[segment]
    context = Explaining(warehouse, project, snapshot_date)
    found = membership(context, definition, entity_id)
    if found is None and definition.personas is not None:
        found = picked_contact(context, definition, entity_id)
    if found is None:
        records = (
            "company records, and its personas pick contacts"
            if definition.personas
            else f"{definition.entity} records"
        )
        raise ConfigError(
            f"{entity_id!r} has no record visible as of {snapshot_date} (segment {segment} "
            f"is over {records}): check the id and --date"
        )
    return found


def explain(
    warehouse: Warehouse, project: Project, segment: str, entity_id: str, snapshot_date: date
) -> pd.DataFrame:
    """`explanation` as rows (`COLUMNS`): the entity's flips up to `as_of(snapshot_date)`,
    oldest first, each with the leaf that flipped it and its value then; then the value of
    every leaf at `as_of`, each followed by the rows of what it rests on (`depth` + 1).

    Raises `ConfigError` for an unknown segment or an entity with no visible record.
    """
    found = explanation(warehouse, project, segment, entity_id, snapshot_date)
    frame = pd.DataFrame(list(found.records()), columns=COLUMNS)
    frame["count"] = frame["count"].astype("Int64")
    return frame
