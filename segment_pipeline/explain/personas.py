"""A contact of a company segment with personas explained: the persona it matches, its
place in its company's ranking and the contacts ranked before it, why it is picked or
not, and its company's own explanation (SPEC 7).

It ranks with the picking's own code (`evaluate.personas.pick`): the candidates at the
contact's company, if that company is a member of the day's snapshot, ranked and cut into
the run's ranking table exactly as the snapshot's contacts were. A static segment's
snapshot carries the contacts of its last refresh, so the ranking is that day's.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlglot import exp

from segment_pipeline.compile.personas import best_rank, is_eligible, ranking_table
from segment_pipeline.compile.relations import versions_table
from segment_pipeline.compile.visible import FOREVER, as_of
from segment_pipeline.definitions.segments import Personas, Segment
from segment_pipeline.errors import ConfigError
from segment_pipeline.evaluate.membership import MembershipRun
from segment_pipeline.evaluate.persona_reasons import persona_columns
from segment_pipeline.evaluate.personas import pick, snapshot_rows
from segment_pipeline.evaluate.planning import required_segments
from segment_pipeline.evaluate.reasons import value_words
from segment_pipeline.evaluate.snapshot import last_refresh
from segment_pipeline.explain.explanation import Explanation, Line
from segment_pipeline.explain.membership import Explaining, membership, no_record
from segment_pipeline.explain.sentences import stamp
from segment_pipeline.sql import col, lit
from segment_pipeline.warehouse.engine import Warehouse

#: How many contacts ranked before it an explanation names.
SHOWN_BEFORE = 10

Record = Mapping[Hashable, Any]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _contacts(n: int) -> str:
    return "1 contact" if n == 1 else f"{n} contacts"


def _snapshot_version(warehouse: Warehouse, segment: str, day: date) -> str:
    """The definition version of the segment's snapshot of `day`; a missing snapshot is a
    user mistake (picked contacts are read from it)."""
    version = warehouse.scalar(
        exp.select("definition_version")
        .from_("segment_snapshot_runs")
        .where(col("segment").eq(lit(segment)))
        .where(col("snapshot_date").eq(lit(day)))
    )
    if version is None:
        raise ConfigError(
            f"segment {segment} has no snapshot of {day}, which its picked contacts are read "
            f"from: run that day first (`segment-pipeline run --start {day} --end {day}`)"
        )
    return str(version)


def _current(context: Explaining, segment: Segment, contact_id: str) -> Record | None:
    """The contact's latest visible version: company, eligibility, best-ranked persona
    (the picking's own expressions) and the columns the personas read."""
    assert segment.personas is not None
    sources = context.project.sources
    declared = sources.attributes("contact")
    shown = [name for name in persona_columns(segment.personas) if name in declared]
    former = ["is_former_employee"] if "is_former_employee" in declared else []
    query = (
        exp.select(
            "is_present",
            "company_id",
            *former,
            *dict.fromkeys(name for name in shown if name != "company_id"),
            exp.alias_(is_eligible(sources), "is_eligible"),
            exp.alias_(best_rank(segment.personas), "best_rank"),
        )
        .from_(versions_table("contact"))
        .where(col("entity_id").eq(lit(contact_id)))
        .where(col("valid_to").eq(lit(FOREVER)))
    )
    frame = context.warehouse.query(query)
    return None if frame.empty else frame.to_dict("records")[0]


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _persona_line(personas: Personas, version: Record, at: datetime) -> Line:
    """The persona the contact's current version matches first, or none."""
    if _missing(version["best_rank"]):
        columns = [name for name in persona_columns(personas) if name in version]
        values = ", ".join(f"{name} is {value_words(version[name])}" for name in columns)
        return Line(
            at=at, leaf="persona", holds=False, sentence=f"persona: none matches ({values})"
        )
    rank = int(version["best_rank"])
    persona = personas.list[rank - 1]
    before = " (no persona ranked before it matches)" if rank > 1 else ""
    return Line(
        at=at,
        leaf="persona",
        holds=True,
        count=rank,
        sentence=f"persona: {persona.name}, rank {rank} of {len(personas.list)}: "
        f"{persona.where.words} holds{before}",
    )


def _not_eligible(version: Record) -> str | None:
    """Why the contact is not a candidate at any company, or None when it is eligible."""
    if not version["is_present"]:
        return "the contact is deleted"
    if _missing(version["company_id"]):
        return "the contact has no company"
    if not version["is_eligible"]:
        return f"the contact is a former employee of company {version['company_id']}"
    return None


class CompanyRanking:
    """The ranking of the candidates at one member company (`RANKING_COLUMNS`)."""

    def __init__(self, personas: Personas, company: str, ranked: pd.DataFrame) -> None:
        self.personas = personas
        self.company = company
        self.rows = {str(row["entity_id"]): row for row in ranked.to_dict("records")}

    def before(self, contact: str) -> list[Record]:
        """The candidates ranked before `contact`: of a better persona, or of its own and
        placed before it (`in_persona`, the picking's order), best first."""
        own = self.rows[contact]

        def place(row: Record) -> tuple[int, int]:
            return int(row["persona_rank"]), int(row["in_persona"])

        return sorted((row for row in self.rows.values() if place(row) < place(own)), key=place)

    def verdict(self, contact: str) -> str:
        """Picked, or which cut left it out, with its place."""
        own = self.rows[contact]
        in_persona = int(own["in_persona"])
        persona = self.personas.list[int(own["persona_rank"]) - 1]
        if own["is_picked"]:
            return (
                f"picked: yes, {_ordinal(int(own['in_company']))} of the contacts picked at "
                f"company {self.company}, {_ordinal(in_persona)} of persona {persona.name}"
            )
        if persona.max_contacts is not None and in_persona > persona.max_contacts:
            return (
                f"picked: no, cut by max_contacts: persona {persona.name} takes at most "
                f"{_contacts(persona.max_contacts)} per company and it ranks "
                f"{_ordinal(in_persona)} of that persona at company {self.company}"
            )
        return (
            f"picked: no, cut by max_contacts_per_company: a company takes at most "
            f"{_contacts(self.personas.max_contacts_per_company or 0)} and it ranks "
            f"{_ordinal(int(own['in_company']))} at company {self.company} among the "
            "contacts within their persona's max_contacts"
        )

    def before_sentence(self, contact: str) -> str:
        """`ranked before it at company c: ct_1 (champion, first seen ..., picked), ...`."""
        before = self.before(contact)
        if not before:
            return f"ranked before it at company {self.company}: nobody"
        named = ", ".join(
            f"{row['entity_id']} ({row['persona']}, first seen "
            f"{stamp(pd.Timestamp(row['first_seen']).to_pydatetime())}, "
            f"{'picked' if row['is_picked'] else 'not picked'})"
            for row in before[:SHOWN_BEFORE]
        )
        more = len(before) - SHOWN_BEFORE
        tail = f" and {more} more" if more > 0 else ""
        return (
            f"ranked before it at company {self.company} (by persona rank, first seen, "
            f"contact_id): {named}{tail}"
        )


def _joined_line(ranking: CompanyRanking, pick: tuple[Any, ...]) -> Line:
    """The picked contact's join: the later of its company's and the start of its stretch
    with this persona at this company (the picking's `joined_at`)."""
    contact, joined_at, company, persona = (str(pick[0]), pick[1], str(pick[2]), str(pick[3]))
    own = ranking.rows[contact]
    why = (
        "its company joined then"
        if own["company_joined_at"] >= own["stretch_start"]
        else f"it became eligible there with {persona} as its best-ranked persona then "
        "(its company was a member already)"
    )
    instant = pd.Timestamp(joined_at).to_pydatetime()
    return Line(
        at=instant,
        flip="joined",
        leaf="persona",
        holds=True,
        count=int(pick[4]),
        sentence=f"{stamp(instant)} joined: picked as {persona} at company {company}: {why}",
    )


def _company_line(
    context: Explaining,
    segment: Segment,
    company: str,
    member_since: datetime | None,
    at: datetime,
) -> Line:
    """The contact's company, a member or not, with its own explanation nested."""
    if member_since is None:
        words = f"not a member on {context.snapshot_date}"
    else:
        words = f"a member since {stamp(member_since)}"
    found = membership(context, segment, company)
    return Line(
        at=at,
        leaf="company",
        holds=member_since is not None,
        sentence=f"company: {company}, {words}",
        nested=[found or no_record(context, segment.name, "company", company)],
    )


def _snapshot_line(context: Explaining, segment: Segment, version: str, at: datetime) -> Line:
    """A warning that the day's snapshot was picked under another definition."""
    return Line(
        at=at,
        leaf="snapshot",
        sentence=f"snapshot: the snapshot of {context.snapshot_date} was made with definition "
        f"version {version}, the definition on disk is version {segment.version}: "
        "materialise that day again to pick with it",
    )


def _picking(
    context: Explaining, segment: Segment, day: date, contact_id: str, version: Record
) -> tuple[list[Line], list[Line], datetime | None]:
    """The joined line (if picked), the lines on its picking, and its company's join time
    in the snapshot of `day` (None when it is not a member)."""
    assert segment.personas is not None
    at = as_of(context.snapshot_date)
    lines = [_persona_line(segment.personas, version, at)]
    company = None if _missing(version["company_id"]) else str(version["company_id"])
    if not version["is_present"] or company is None:
        return [], [*lines, _not_picked(_not_eligible(version) or "", at)], None
    members = snapshot_rows(segment.name, day, "company").where(col("entity_id").eq(lit(company)))
    rows = context.warehouse.rows(exp.select("joined_at").from_(members.subquery("members")))
    member_since = pd.Timestamp(rows[0][0]).to_pydatetime() if rows else None
    reason = _not_eligible(version)
    if member_since is None:
        reason = f"its company {company} is not a member of {segment.name} on {day}"
    elif reason is None and _missing(version["best_rank"]):
        reason = "no persona matches"
    if reason is not None:
        return [], [*lines, _not_picked(reason, at)], member_since
    picks = pick(context.warehouse, segment, context.project.sources, members.subquery())
    ranking = CompanyRanking(
        segment.personas,
        company,
        context.warehouse.query(exp.select("*").from_(ranking_table(segment.name))),
    )
    joined = context.warehouse.rows(picks.where(col("entity_id").eq(lit(contact_id))))
    flipped = [_joined_line(ranking, joined[0])] if joined else []
    before = ranking.before(contact_id)
    lines += [
        Line(at=at, leaf="picked", holds=bool(joined), sentence=ranking.verdict(contact_id)),
        Line(
            at=at,
            leaf="ranked_before",
            count=len(before),
            sentence=ranking.before_sentence(contact_id),
        ),
    ]
    return flipped, lines, member_since


def _not_picked(reason: str, at: datetime) -> Line:
    return Line(at=at, leaf="picked", holds=False, sentence=f"picked: no, {reason}")


def picked_contact(context: Explaining, segment: Segment, contact_id: str) -> Explanation | None:
    """The contact's picking by the segment's personas on the snapshot date, then its
    company's own explanation; None when the contact has no visible record."""
    warehouse = context.warehouse
    day = last_refresh(warehouse, segment.name, context.snapshot_date)
    MembershipRun(warehouse, context.project, day).stage_versions(
        required_segments(context.project, [segment.name])
    )
    version = _current(context, segment, contact_id)
    if version is None:
        return None
    snapshot_version = _snapshot_version(warehouse, segment.name, context.snapshot_date)
    flipped, now, member_since = _picking(context, segment, day, contact_id, version)
    at = as_of(context.snapshot_date)
    if not _missing(version["company_id"]):
        now.append(_company_line(context, segment, str(version["company_id"]), member_since, at))
    if snapshot_version != segment.version:
        now.append(_snapshot_line(context, segment, snapshot_version, at))
    refreshed = "" if day == context.snapshot_date else f", carried from its refresh of {day}"
    return Explanation(
        segment.name,
        "contact",
        contact_id,
        f"contact {contact_id} in {segment.name}, picked by its personas on the snapshot of "
        f"{context.snapshot_date}{refreshed}",
        flipped,
        now,
        now_title="its picking",
        no_flips=f"not picked on {context.snapshot_date}",
    )
