"""Picked contacts of company segments with personas: snapshot rows and coverage (SPEC 7).

The picked contacts of a day are rows of `segment_snapshots` with entity_type `contact`
and their company, persona and rank, written right after the segment's own members: the
contacts are picked among the companies of that very snapshot, so a company that enters
gets its contacts the same day, and a static segment that is not refreshed carries its
previous snapshot's contacts with its companies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlglot import exp

from segment_pipeline.compile.personas import (
    current_candidates,
    is_eligible,
    picked,
    ranking,
    ranking_table,
)
from segment_pipeline.compile.relations import versions_table
from segment_pipeline.compile.visible import FOREVER
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.definitions.sources import Sources
from segment_pipeline.evaluate.snapshot import SNAPSHOT_COLUMNS, SnapshotResult
from segment_pipeline.sql import col, lit, template
from segment_pipeline.warehouse.engine import Warehouse

#: The columns of a picked contact, beyond the segment and day.
PICK_COLUMNS = ["entity_id", "joined_at", "company_id", "persona", "persona_rank"]

#: How many companies without any persona match the coverage table lists.
UNCOVERED_SHOWN = 10


@dataclass(frozen=True)
class Coverage:
    """How well a day's picked contacts cover the segment's companies."""

    companies: int
    covered: int
    contacts_by_persona: dict[str, int]
    #: The first member companies where no persona finds anyone, with their number of
    #: eligible contacts (`company_id`, `eligible_contacts`).
    uncovered: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def contacts(self) -> int:
        """Picked contacts across personas."""
        return sum(self.contacts_by_persona.values())


def snapshot_rows(segment: str, snapshot_date: date, entity: str) -> exp.Select:
    """The rows of one segment's snapshot for a day, of one entity type."""
    return (
        exp.select("*")
        .from_("segment_snapshots")
        .where(col("segment").eq(lit(segment)))
        .where(col("snapshot_date").eq(lit(snapshot_date)))
        .where(col("entity_type").eq(lit(entity)))
    )


def pick(
    warehouse: Warehouse, segment: Segment, sources: Sources, companies: exp.Expr
) -> exp.Select:
    """Rank the candidates at `companies` (`entity_id`, `joined_at`) into the run's
    `ranking_table` (removal reasons read it) and return the picked ones (`PICK_COLUMNS`).

    Needs the run's visible contact versions (`MembershipRun.prepare`).
    """
    assert segment.personas is not None
    candidates = current_candidates(segment.personas, sources, versions_table("contact"))
    ranked = ranking(segment.personas, candidates.subquery(), companies)
    warehouse.create_relation(ranking_table(segment.name), ranked)
    return picked(segment.name)


def write_picked_contacts(
    warehouse: Warehouse, segment: Segment, sources: Sources, snapshot: SnapshotResult
) -> Coverage:
    """Add the day's picked contacts to the segment's snapshot (already holding its
    companies) and say how well they cover them.

    The segment's ranking of every candidate stays in the run's `ranking_table` for
    removal reasons (`pick`).
    """
    assert segment.personas is not None
    day = snapshot.snapshot_date
    if snapshot.refreshed:
        contacts = pick(
            warehouse, segment, sources, snapshot_rows(segment.name, day, "company").subquery()
        )
    else:
        assert snapshot.previous_date is not None
        contacts = exp.select(*PICK_COLUMNS).from_(
            snapshot_rows(segment.name, snapshot.previous_date, "contact").subquery()
        )
    rows = exp.select(
        exp.alias_(lit(day), "snapshot_date"),
        exp.alias_(lit(segment.name), "segment"),
        exp.alias_(lit("contact"), "entity_type"),
        "entity_id",
        "joined_at",
        exp.alias_(lit(segment.version), "definition_version"),
        "company_id",
        "persona",
        "persona_rank",
    ).from_(contacts.subquery("contacts"))
    warehouse.append("segment_snapshots", rows, SNAPSHOT_COLUMNS)
    return coverage(warehouse, segment, sources, day)


def coverage(warehouse: Warehouse, segment: Segment, sources: Sources, day: date) -> Coverage:
    """Companies, companies with a picked contact, contacts per persona and the first
    companies where no persona finds anyone, from the day's snapshot rows."""
    assert segment.personas is not None
    by_persona = dict.fromkeys((persona.name for persona in segment.personas.list), 0)
    contacts = snapshot_rows(segment.name, day, "contact")
    for persona, count in warehouse.rows(
        exp.select("persona", exp.func("count", exp.Star()))
        .from_(contacts.subquery("contacts"))
        .group_by("persona")
    ):
        by_persona[str(persona)] = int(str(count))
    eligible = (
        exp.select("company_id", exp.alias_(exp.func("count", exp.Star()), "eligible_contacts"))
        .from_(versions_table("contact"))
        .where(col("valid_to").eq(lit(FOREVER)))
        .where(is_eligible(sources))
        .group_by("company_id")
    )
    uncovered = template(
        """
        select m.entity_id as company_id, coalesce(e.eligible_contacts, 0) as eligible_contacts
        from :companies as m
        left join :eligible as e on e.company_id = m.entity_id
        where m.entity_id not in (select company_id from :contacts)
        order by m.entity_id
        """,
        companies=snapshot_rows(segment.name, day, "company").subquery(),
        eligible=eligible.subquery(),
        contacts=contacts.subquery(),
    )
    frame = warehouse.query(uncovered)
    companies = int(
        str(
            warehouse.scalar(
                exp.select(exp.func("count", exp.Star())).from_(
                    snapshot_rows(segment.name, day, "company").subquery()
                )
            )
        )
    )
    return Coverage(
        companies=companies,
        covered=companies - len(frame),
        contacts_by_persona=by_persona,
        uncovered=frame.head(UNCOVERED_SHOWN),
    )
