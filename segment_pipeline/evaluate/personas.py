"""Picked contacts of company segments with personas: snapshot rows and coverage (SPEC 7).

The picked contacts of a day are rows of `segment_snapshots` with entity_type `contact`
and their company, persona and rank, written right after the segment's own members: the
contacts are picked among the companies of that very snapshot, so a company that enters
gets its contacts the same day, and a static segment that is not refreshed carries its
previous snapshot's contacts with its companies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd
from sqlglot import exp

from segment_pipeline.compile import persona_scope
from segment_pipeline.compile.personas import (
    candidates,
    candidates_of,
    contacts_at,
    is_eligible,
    picked,
    rank_key,
    ranking,
    ranking_table,
)
from segment_pipeline.compile.relations import (
    members_table,
    persona_candidates_table,
    picks_table,
    repicked_table,
    versions_table,
)
from segment_pipeline.compile.visible import FOREVER
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.definitions.sources import Sources
from segment_pipeline.evaluate.snapshot import SNAPSHOT_COLUMNS, SnapshotResult, previous_run
from segment_pipeline.evaluate.states import PICK_COLUMNS, previous_picks, previous_state
from segment_pipeline.sql import col, lit, template, union
from segment_pipeline.warehouse.engine import Warehouse

#: How many companies without any persona match the coverage table lists.
UNCOVERED_SHOWN = 10


@dataclass(frozen=True)
class Coverage:
    """How well a day's picked contacts cover the segment's companies."""

    companies: int
    covered: int
    contacts_by_persona: dict[str, int]
    #: Companies whose contacts were picked anew for the day; the others kept the previous
    #: day's picks (none re-picked when a static segment carries its last refresh).
    repicked: int
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
    `ranking_table` and return the picked ones (`PICK_COLUMNS`): one segment's picking
    at some companies, as `explain` shows it.

    Needs the run's visible contact versions (`MembershipRun.stage_versions`).
    """
    assert segment.personas is not None
    versions = versions_table("contact")
    at = contacts_at(versions, exp.select("entity_id").from_(companies.copy()))
    found = candidates([segment.personas], sources, versions, at)
    ranked = ranking(
        segment.personas,
        candidates_of(segment.personas, found.subquery("found"), 0).subquery(),
        companies,
    )
    warehouse.create_relation(ranking_table(segment.name), ranked)
    return picked(segment.name)


def pick_contacts(
    warehouse: Warehouse,
    sources: Sources,
    segments: Sequence[Segment],
    starts: Mapping[str, datetime],
    snapshot_date: date,
) -> dict[str, int]:
    """Pick the contacts of the run's segments with personas at their members (each
    segment's `members_table`) into their `picks_table`, and say how many companies each
    picked anew.

    A segment named in `starts` keeps the previous state's picks at the companies whose
    picks cannot have changed since the instant it maps to (`compile/persona_scope.py`);
    the others pick at every member. The candidates of all of them are found in one pass
    over the contacts at those companies, sharing columns where personas rank alike. The
    rankings stay in each `ranking_table`: removal reasons read them.
    """
    versions = versions_table("contact")
    for segment in segments:
        members = members_table(segment.name)
        since = starts.get(segment.name)
        scope: exp.Query = exp.select("entity_id", "joined_at").from_(members)
        if since is not None:
            previous = previous_run(warehouse, segment.name, snapshot_date)
            kept = previous_picks(segment, snapshot_date)
            compared: exp.Query = (
                exp.select("entity_id", "company_id").from_(kept.copy())
                if previous is None
                else exp.select("entity_id", "company_id").from_(
                    snapshot_rows(segment.name, previous[0], "contact").subquery()
                )
            )
            state = previous_state(segment, snapshot_date)
            scope = persona_scope.repicked(members, state, (kept, compared), versions, since)
        warehouse.create_relation(repicked_table(segment.name), scope)
    rank_sets = {rank_key(s.personas): s.personas for s in segments if s.personas is not None}
    index = {key: n for n, key in enumerate(rank_sets)}
    repicked = [exp.select("entity_id").from_(repicked_table(s.name)) for s in segments]
    contacts = contacts_at(versions, union(repicked, distinct=True))
    found = candidates(list(rank_sets.values()), sources, versions, contacts)
    warehouse.create_relation(persona_candidates_table(), found)
    for segment in segments:
        assert segment.personas is not None
        own = candidates_of(
            segment.personas, persona_candidates_table(), index[rank_key(segment.personas)]
        )
        companies = exp.to_table(repicked_table(segment.name))
        warehouse.create_relation(
            ranking_table(segment.name), ranking(segment.personas, own.subquery(), companies)
        )
        rows = [picked(segment.name)]
        if segment.name in starts:
            kept = previous_picks(segment, snapshot_date)
            rows.append(
                persona_scope.carried(
                    members_table(segment.name), repicked_table(segment.name), kept, PICK_COLUMNS
                )
            )
        warehouse.create_relation(picks_table(segment.name), union(rows, distinct=False))
    counts = [
        exp.select(
            exp.alias_(lit(segment.name), "segment"),
            exp.alias_(exp.func("count", exp.Star()), "companies"),
        ).from_(repicked_table(segment.name))
        for segment in segments
    ]
    return {str(name): int(count) for name, count in warehouse.rows(union(counts, distinct=False))}


def write_picked_contacts(
    warehouse: Warehouse,
    segment: Segment,
    sources: Sources,
    snapshot: SnapshotResult,
    repicked: int,
) -> Coverage:
    """Add the day's picked contacts to the segment's snapshot (already holding its
    companies) and say how well they cover them.

    A refreshed snapshot holds the evaluated members, so the run's picks at them
    (`pick_contacts`, which picked `repicked` companies anew); one that is not carries
    the previous snapshot's contacts with its companies.
    """
    assert segment.personas is not None
    day = snapshot.snapshot_date
    if snapshot.refreshed:
        contacts = exp.select(*PICK_COLUMNS).from_(picks_table(segment.name))
    else:
        assert snapshot.previous_date is not None
        contacts = exp.select(*PICK_COLUMNS).from_(
            snapshot_rows(segment.name, snapshot.previous_date, "contact").subquery()
        )
        repicked = 0
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
    return coverage(warehouse, segment, sources, day, repicked)


def coverage(
    warehouse: Warehouse, segment: Segment, sources: Sources, day: date, repicked: int
) -> Coverage:
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
        repicked=repicked,
        uncovered=frame.head(UNCOVERED_SHOWN),
    )
