"""Changes of a company segment's picked contacts, and why each removed one left (SPEC 8).

A picked contact is keyed by contact and company, so a contact that moves from one member
company to another is removed (`left_company`) and added at the new company, while one
whose persona changes at the same company is no change at all. The reason of a removal
is the first that applies: `company_removed` (its company left the segment),
`left_company` (deleted, moved, or a former employee), `persona_mismatch` (no persona
matches it any more) and `better_contact` (still a candidate, displaced by contacts
ordered before it). A definition change gives picked contacts one of these too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import cast

import pandas as pd
from sqlglot import exp

from segment_pipeline.compile.personas import ranking_table
from segment_pipeline.compile.relations import versions_table
from segment_pipeline.compile.visible import FOREVER, as_of
from segment_pipeline.definitions.segments import Personas, Segment
from segment_pipeline.definitions.sources import Sources
from segment_pipeline.evaluate.reasons import Rows, is_missing, value_words
from segment_pipeline.evaluate.snapshot import last_refresh
from segment_pipeline.sql import col, lit, template
from segment_pipeline.warehouse.engine import Warehouse

#: The columns of a picked contact's change, before the segment's day and version.
CHANGE_COLUMNS = [
    "change",
    "entity_id",
    "company_id",
    "persona",
    "persona_rank",
    "joined_at",
    "previous_version",
]


def contact_changes(
    warehouse: Warehouse, segment: str, snapshot_date: date, previous: date | None
) -> pd.DataFrame:
    """Picked contacts added and removed (by contact and company) against `previous`."""
    return warehouse.query(
        template(
            """
            with current_contacts as (
                select entity_id, company_id, persona, persona_rank, joined_at
                from segment_snapshots
                where segment = :segment and snapshot_date = :day and entity_type = 'contact'
            ),
            previous_contacts as (
                select entity_id, company_id, persona, persona_rank, joined_at,
                       definition_version
                from segment_snapshots
                where segment = :segment and snapshot_date = :previous
                  and entity_type = 'contact'
            )
            select 'added' as change, c.entity_id, c.company_id, c.persona, c.persona_rank,
                   c.joined_at, cast(null as varchar) as previous_version
            from current_contacts as c
            anti join previous_contacts as p using (entity_id, company_id)
            union all
            select 'removed', p.entity_id, p.company_id, p.persona, p.persona_rank,
                   p.joined_at, p.definition_version
            from previous_contacts as p
            anti join current_contacts as c using (entity_id, company_id)
            """,
            segment=lit(segment),
            day=lit(snapshot_date),
            previous=lit(previous),
        )
    )[CHANGE_COLUMNS]


def contact_deltas(
    warehouse: Warehouse,
    segment: Segment,
    sources: Sources,
    dates: tuple[date, date | None],
    company_removals: pd.DataFrame,
) -> pd.DataFrame:
    """The day's changes of picked contacts with their reasons, as delta rows (without
    the segment, day and version). `company_removals` are the segment's removed
    companies of the day with their reasons."""
    snapshot_date, previous = dates
    changes = contact_changes(warehouse, segment.name, snapshot_date, previous)
    added = changes[changes["change"] == "added"].assign(reason=None, reason_detail=None)
    removed = changes[changes["change"] == "removed"]
    if len(removed):
        assert previous is not None
        reasons = dict(zip(company_removals["entity_id"], company_removals["reason"], strict=True))
        removed = removal_reasons(
            warehouse, segment, sources, (snapshot_date, previous), removed, reasons
        )
    else:
        removed = removed.assign(reason=None, reason_detail=None)
    return pd.concat([added, removed], ignore_index=True).assign(entity_type="contact")


def persona_columns(personas: Personas) -> list[str]:
    """The contact attribute columns the personas read, in order of appearance."""
    names: list[str] = []
    for persona in personas.list:
        for column in persona.where.expression.find_all(exp.Column):
            if not column.table and column.name not in names:
                names.append(column.name)
    return names


def _versions(
    warehouse: Warehouse, ids: exp.Table, columns: list[str], at: exp.Expr
) -> pd.DataFrame:
    """The removed contacts' versions matching `at` (a condition on validity), by id."""
    wanted = ["is_present", *dict.fromkeys(["company_id", *columns])]
    query = (
        exp.select("entity_id", *wanted)
        .from_(versions_table("contact"))
        .where(at)
        .where(col("entity_id").isin(query=exp.select("entity_id").from_(ids)))
    )
    return warehouse.query(query).set_index("entity_id")


def removal_reasons(
    warehouse: Warehouse,
    segment: Segment,
    sources: Sources,
    dates: tuple[date, date],
    removed: pd.DataFrame,
    company_reasons: Mapping[str, str],
) -> pd.DataFrame:
    """`reason` and `reason_detail` for removed picked contacts.

    `dates` are the snapshot's and the earlier one it is compared with. The day's ranking
    must be in the run's `ranking_table` (contacts are only removed when re-picked), and
    `company_reasons` holds the removal reasons of the companies that left today.
    """
    assert segment.personas is not None
    snapshot_date, previous = dates
    removed = removed.copy()
    columns = persona_columns(segment.personas)
    declared = sources.attributes("contact")
    wanted = [*columns, *(["is_former_employee"] if "is_former_employee" in declared else [])]
    ids = pd.DataFrame({"entity_id": pd.Series(removed["entity_id"].unique(), dtype="str")})
    companies = pd.DataFrame({"company_id": pd.Series(removed["company_id"].unique(), dtype="str")})
    with (
        warehouse.registered("removed_contacts", ids) as contact_ids,
        warehouse.registered("removed_companies", companies) as company_ids,
    ):
        now = _versions(warehouse, contact_ids, wanted, col("valid_to").eq(lit(FOREVER)))
        # The values the contact was picked with: of the snapshot that picked it.
        before = lit(as_of(last_refresh(warehouse, segment.name, previous)))
        then = _versions(
            warehouse,
            contact_ids,
            wanted,
            exp.and_(col("valid_from") < before, col("valid_to") >= before.copy()),
        )
        at_companies = col("company_id").isin(query=exp.select("company_id").from_(company_ids))
        ranked = warehouse.query(
            exp.select("*").from_(ranking_table(segment.name)).where(at_companies)
        )
        earlier = warehouse.rows(
            exp.select("entity_id", "company_id")
            .from_(_snapshot_contacts(segment.name, previous).subquery())
            .where(at_companies.copy())
        )
    members = {str(row[0]) for row in warehouse.rows(_member_companies(segment, snapshot_date))}
    picked_before = {(str(contact), str(company)) for contact, company in earlier}
    ranks = Ranking(segment.personas, ranked, picked_before)
    # pandas-stubs key columns by Hashable; these frames' columns are named by text.
    now_of = cast(Rows, now.to_dict("index"))
    then_of = cast(Rows, then.to_dict("index"))
    reasons: list[str] = []
    details: list[str] = []
    for row in removed.itertuples(index=False):
        company, contact = str(row.company_id), str(row.entity_id)
        version = now_of.get(contact)
        left = _left(version, company)
        if company not in members:
            why = company_reasons.get(company)
            reason = "company_removed"
            detail = f"company {company} left the segment" + (f" ({why})" if why else "")
        elif left is not None:
            reason, detail = "left_company", left
        elif not ranks.is_candidate(contact, company):
            reason = "persona_mismatch"
            detail = _mismatch(str(row.persona), columns, version or {}, then_of.get(contact) or {})
        else:
            reason, detail = "better_contact", ranks.displaced(contact, company)
        reasons.append(reason)
        details.append(detail)
    removed["reason"] = reasons
    removed["reason_detail"] = details
    return removed


def _snapshot_contacts(segment: str, day: date) -> exp.Select:
    return (
        exp.select("entity_id", "company_id")
        .from_("segment_snapshots")
        .where(col("segment").eq(lit(segment)))
        .where(col("snapshot_date").eq(lit(day)))
        .where(col("entity_type").eq(lit("contact")))
    )


def _member_companies(segment: Segment, day: date) -> exp.Select:
    return (
        exp.select("entity_id")
        .from_("segment_snapshots")
        .where(col("segment").eq(lit(segment.name)))
        .where(col("snapshot_date").eq(lit(day)))
        .where(col("entity_type").eq(lit("company")))
    )


def _left(version: Mapping[str, object] | None, company: str) -> str | None:
    """Why a contact is no longer at its company, or None if it still is (and eligible)."""
    if version is None or not version["is_present"]:
        return "the contact was deleted"
    now = version.get("company_id")
    if is_missing(now):
        return f"the contact left company {company} and has no company now"
    if str(now) != company:
        return f"the contact moved from company {company} to company {now}"
    if version.get("is_former_employee") is True:
        return f"the contact is a former employee of company {company}"
    return None


def _mismatch(
    persona: str, columns: list[str], now: Mapping[str, object], then: Mapping[str, object]
) -> str:
    """`no persona matches any more (was <persona>): <column> is now <value>, ...`: the
    persona columns whose value changed since the snapshot that picked the contact (the
    earlier one, or a static segment's last refresh; all of them when none did, e.g.
    after a definition change)."""

    changed = [
        name for name in columns if value_words(now.get(name)) != value_words(then.get(name))
    ]
    shown = ", ".join(f"{name} is now {value_words(now.get(name))}" for name in changed or columns)
    return f"no persona matches any more (was {persona}): {shown}"


class Ranking:
    """The day's ranking at the companies some removed contacts were picked at."""

    def __init__(
        self, personas: Personas, ranked: pd.DataFrame, picked_before: set[tuple[str, str]]
    ) -> None:
        self.personas = personas
        self.rows = {
            (str(row["entity_id"]), str(row["company_id"])): row
            for row in ranked.to_dict("records")
        }
        self.picked_before = picked_before

    def is_candidate(self, contact: str, company: str) -> bool:
        """Whether the contact is eligible there and matches a persona."""
        return (contact, company) in self.rows

    def displaced(self, contact: str, company: str) -> str:
        """The contact that displaced it: of the picked contacts of the cut that left it
        out (its persona when that was full, else the company), the first newly picked
        one, or the last one when all were picked before."""
        own = self.rows[(contact, company)]
        rank = int(own["persona_rank"])
        persona = self.personas.list[rank - 1]
        by_persona = persona.max_contacts is not None and own["in_persona"] > persona.max_contacts
        cut = sorted(
            (
                row
                for (_, at), row in self.rows.items()
                if at == company
                and row["is_picked"]
                and (not by_persona or int(row["persona_rank"]) == rank)
            ),
            key=lambda row: (row["persona_rank"], row["first_seen"], row["entity_id"]),
        )
        if not cut:
            # Its persona was full of contacts the company's limit left out in turn.
            by_persona = False
            cut = [row for (_, at), row in self.rows.items() if at == company and row["is_picked"]]
            cut.sort(key=lambda row: (row["persona_rank"], row["first_seen"], row["entity_id"]))
        new = [row for row in cut if (str(row["entity_id"]), company) not in self.picked_before]
        winner = new[0] if new else cut[-1]
        limit = (
            f"persona {persona.name} takes at most {persona.max_contacts}"
            if by_persona
            else f"a company takes at most {self.personas.max_contacts_per_company}"
        )
        return (
            f"displaced by contact {winner['entity_id']} ({winner['persona']}) "
            f"at company {company}: {limit}"
        )
