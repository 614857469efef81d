"""Compile a company segment's personas into the SQL that picks its contacts (SPEC 7).

A contact's *persona key* at an instant is `(company_id, best-ranked persona)` while it is
eligible (present, with a company, not a former employee) and matches some persona, and
nothing otherwise. Contact versions are contiguous in time, so the contact's current
unbroken stretch with its current key starts at the earliest version of the run of
consecutive versions sharing that key: a gaps-and-islands pass over the versions, never a
loop per contact. The picking itself is two ranked cuts at the member companies: per
persona (`max_contacts`), then per company (`max_contacts_per_company`), each ordered by
persona rank, first-seen time and contact_id. A contact whose persona is full is cut in
the first pass and so never falls back to a lower-ranked persona.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from segment_pipeline.compile.predicates import compile_predicate
from segment_pipeline.compile.visible import FOREVER
from segment_pipeline.definitions.segments import Personas
from segment_pipeline.definitions.sources import Sources
from segment_pipeline.sql import col, lit, template

#: The columns of a persona ranking (every candidate at a member company) and of picks.
RANKING_COLUMNS = [
    "entity_id",
    "company_id",
    "persona",
    "persona_rank",
    "first_seen",
    "stretch_start",
    "company_joined_at",
    "in_persona",
    "in_company",
    "is_picked",
]


def ranking_table(segment: str) -> str:
    """The run's temp table of a segment's persona candidates at its member companies."""
    return f"persona_ranking__{segment}"


def best_rank(personas: Personas) -> exp.Expr:
    """The rank (1 first) of the first persona whose `where` holds on a contact version's
    columns, NULL when none does (a NULL predicate counts as false)."""
    return exp.Case(
        ifs=[
            exp.If(
                this=exp.func("coalesce", compile_predicate(persona.where), exp.false()),
                true=lit(rank),
            )
            for rank, persona in enumerate(personas.list, start=1)
        ]
    )


def _by_rank(personas: Personas, values: list[exp.Expr], rank: str = "persona_rank") -> exp.Expr:
    """`CASE rank WHEN 1 THEN values[0] ...`: a per-persona value for a rank column."""
    return exp.Case(
        ifs=[
            exp.If(this=col(rank).eq(lit(n)), true=value) for n, value in enumerate(values, start=1)
        ]
    )


def is_eligible(sources: Sources) -> exp.Expr:
    """A contact version eligible for personas: present, at a company, not a former
    employee (a NULL flag, or an undeclared column, counts as not former)."""
    attributes = sources.attributes("contact")
    conditions: list[exp.Expr] = [col("is_present")]
    if "company_id" not in attributes:
        return exp.false()
    conditions.append(col("company_id").is_(exp.null()).not_())
    if "is_former_employee" in attributes:
        conditions.append(exp.not_(exp.func("coalesce", col("is_former_employee"), exp.false())))
    return exp.and_(*conditions)


def rank_key(personas: Personas) -> tuple[str, ...]:
    """What a contact's persona rank depends on: the personas' `where`, in order. Segments
    whose personas share it share their candidates' columns (`candidates`)."""
    return tuple(persona.where.sql for persona in personas.list)


def _rank_column(index: int) -> str:
    return f"persona_rank_{index}"


def _stretch_column(index: int) -> str:
    return f"stretch_start_{index}"


def candidates(
    rank_sets: Sequence[Personas], sources: Sources, versions: str, contacts: exp.Query
) -> exp.Select:
    """Of `contacts` (a query of contact ids), those whose current version is eligible and
    matches a persona of some rank set: company, first-seen time, and for each rank set
    (index i) the persona rank (`persona_rank_i`, NULL when none matches) and the start
    of the current stretch with that key (`stretch_start_i`). `candidates_of` reads one
    set's columns.

    One pass over the contacts' versions for every rank set: the windows are the same
    (by contact, in time), only the keys differ. `versions` names a relation shaped like
    `visible_versions(..., "contact", ...)`.
    """
    company = col("company_id") if "company_id" in sources.attributes("contact") else exp.null()
    eligible = is_eligible(sources)
    indexes = range(len(rank_sets))
    keyed = (
        exp.select(
            "entity_id",
            "valid_from",
            "valid_to",
            exp.alias_(company, "company_id"),
            *(
                exp.alias_(
                    exp.Case(ifs=[exp.If(this=eligible.copy(), true=best_rank(personas))]),
                    _rank_column(i),
                )
                for i, personas in enumerate(rank_sets)
            ),
        )
        .from_(versions)
        .where(col("entity_id").isin(query=contacts))
    )
    same_key = (
        "case when lag(:rank) over by_time is not distinct from :rank"
        " and lag(company_id) over by_time is not distinct from company_id"
        " then false else true end"
    )
    starts = exp.select(
        "entity_id",
        "valid_from",
        "valid_to",
        "company_id",
        *(_rank_column(i) for i in indexes),
        exp.alias_(template("min(valid_from) over (partition by entity_id)"), "first_seen"),
        *(
            exp.alias_(template(same_key, rank=col(_rank_column(i))), f"starts_{i}")
            for i in indexes
        ),
    ).from_(keyed.subquery("keyed"))
    starts.set(
        "windows",
        [
            exp.Window(
                this=exp.to_identifier("by_time"),
                partition_by=[col("entity_id")],
                order=exp.Order(expressions=[exp.Ordered(this=col("valid_from"))]),
            )
        ],
    )
    stretch = (
        "max(case when :starts then valid_from end) over ("
        " partition by entity_id order by valid_from rows unbounded preceding)"
    )
    stretches = exp.select(
        "entity_id",
        "company_id",
        "first_seen",
        "valid_to",
        *(_rank_column(i) for i in indexes),
        *(
            exp.alias_(template(stretch, starts=col(f"starts_{i}")), _stretch_column(i))
            for i in indexes
        ),
    ).from_(starts.subquery("starts"))
    return (
        exp.select(
            "entity_id",
            "company_id",
            "first_seen",
            *(_rank_column(i) for i in indexes),
            *(_stretch_column(i) for i in indexes),
        )
        .from_(stretches.subquery("stretches"))
        .where(col("valid_to").eq(lit(FOREVER)))
        .where(exp.or_(*(col(_rank_column(i)).is_(exp.null()).not_() for i in indexes)))
    )


def candidates_of(personas: Personas, candidates: str | exp.Expr, index: int) -> exp.Select:
    """One rank set's candidates (rank set `index` of a `candidates` relation):
    contact, company, persona and its rank, first-seen time and stretch start."""
    rank = _rank_column(index)
    names = [lit(persona.name) for persona in personas.list]
    return (
        exp.select(
            "entity_id",
            "company_id",
            exp.alias_(_by_rank(personas, names, rank), "persona"),
            exp.alias_(col(rank), "persona_rank"),
            "first_seen",
            exp.alias_(col(_stretch_column(index)), "stretch_start"),
        )
        .from_(candidates)
        .where(col(rank).is_(exp.null()).not_())
    )


def contacts_at(versions: str, companies: exp.Query) -> exp.Select:
    """The contacts whose current version is at one of `companies` (a query of ids): the
    only ones a picking at those companies reads."""
    return (
        exp.select("entity_id")
        .from_(versions)
        .where(col("valid_to").eq(lit(FOREVER)))
        .where(col("company_id").isin(query=companies))
    )


def ranking(personas: Personas, candidates: exp.Expr, companies: exp.Expr) -> exp.Select:
    """The candidates at member companies, ranked and cut (`RANKING_COLUMNS`).

    `companies` is a relation of the member companies (`entity_id`, `joined_at`). A picked
    contact's join time is the later of its company's and its stretch's start.
    """
    persona_limit = _by_rank(
        personas,
        [lit(p.max_contacts) if p.max_contacts else exp.null() for p in personas.list],
    )
    order = "order by persona_rank, first_seen, entity_id"
    at_members = (
        exp.select(
            "c.entity_id",
            "c.company_id",
            "c.persona",
            "c.persona_rank",
            "c.first_seen",
            "c.stretch_start",
            exp.alias_(col("joined_at", "m"), "company_joined_at"),
        )
        .from_(exp.alias_(candidates, "c"))
        .join(exp.alias_(companies, "m"), on=col("company_id", "c").eq(col("entity_id", "m")))
    )
    in_persona = template(f"row_number() over (partition by company_id, persona_rank {order})")
    ranked = exp.select(
        "*",
        exp.alias_(in_persona, "in_persona"),
        exp.alias_(persona_limit, "persona_limit"),
    ).from_(at_members.subquery("at_members"))
    fits_persona = template("persona_limit is null or in_persona <= persona_limit")
    in_company = template(
        f"case when :fits then row_number() over (partition by company_id, :fits {order}) end",
        fits=fits_persona,
    )
    company_limit = personas.max_contacts_per_company
    picked = (
        fits_persona.copy()
        if company_limit is None
        else exp.and_(fits_persona.copy(), col("in_company") <= lit(company_limit))
    )
    with_company = exp.select(
        *[c for c in RANKING_COLUMNS if c not in ("in_company", "is_picked")],
        exp.alias_(in_company, "in_company"),
        "persona_limit",
    ).from_(ranked.subquery("ranked"))
    return exp.select(
        *RANKING_COLUMNS[:-1], exp.alias_(exp.func("coalesce", picked, exp.false()), "is_picked")
    ).from_(with_company.subquery("with_company"))


def picked(segment: str) -> exp.Select:
    """The picked contacts of a segment's ranking, as snapshot columns."""
    return (
        exp.select(
            "entity_id",
            exp.alias_(
                exp.func("greatest", col("company_joined_at"), col("stretch_start")), "joined_at"
            ),
            "company_id",
            "persona",
            "persona_rank",
        )
        .from_(ranking_table(segment))
        .where(col("is_picked"))
    )
