"""Whole-history timelines for a few entities: the members a daily state cannot date.

A member whose stretch began before an incremental timeline starts, without the previous
state knowing when, is evaluated again on all its history: its own data, its companies'
and that of the segments its segments reference. The relations here narrow every input
of the run to those entities (`WHOLE_HISTORY` prefix) and stack the timelines on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from sqlglot import exp

from segment_pipeline.compile.event_pass import event_hits, event_reads
from segment_pipeline.compile.relations import (
    Relation,
    hits_table,
    timeline_table,
    versions_table,
)
from segment_pipeline.compile.spec import TimelineSpec
from segment_pipeline.compile.timeline import timeline
from segment_pipeline.compile.visible import visible_event_rows
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.sql import col, lit, union

#: The prefix of the run relations of entities re-evaluated on their whole history.
WHOLE_HISTORY = "whole_"


def whole_ids_table(entity: str) -> str:
    """The run's relation of the entities of a type evaluated on their whole history."""
    return f"{WHOLE_HISTORY}{entity}_ids"


def _union_all(queries: list[exp.Select]) -> exp.Query:
    """The rows of every query; none, with a VARCHAR `entity_id`, if there is no query."""
    if not queries:
        return exp.select(exp.alias_(exp.cast(exp.null(), "VARCHAR"), "entity_id")).where(
            exp.false()
        )
    return union(queries, distinct=False)


def whole_history_relations(
    needed: list[Segment],
    ids: dict[str, list[exp.Select]],
    snapshot_date: date,
    as_of: datetime,
    entities: Mapping[str, str],
) -> list[Relation]:
    """The timelines (`WHOLE_HISTORY` relations) of the `needed` segments (in dependency
    order) on all history, for a few entities (queries of their ids by entity type), with
    everything they read, in the order to materialise them."""
    asked = {
        entity: [exp.select("entity_id").from_(query.subquery()) for query in queries]
        for entity, queries in ids.items()
    }
    relations = [Relation(whole_ids_table("contact"), _union_all(asked.get("contact", [])))]
    contact_ids = exp.select("entity_id").from_(whole_ids_table("contact"))
    their_companies = (
        exp.select(exp.alias_(col("company_id"), "entity_id"))
        .from_(versions_table("contact"))
        .where(col("entity_id").isin(query=contact_ids.copy()))
    )
    companies = _union_all([*asked.get("company", []), their_companies])
    relations.append(Relation(whole_ids_table("company"), companies))
    company_ids = exp.select("entity_id").from_(whole_ids_table("company"))
    for entity, entity_ids in (("contact", contact_ids), ("company", company_ids)):
        relations.append(
            Relation(
                versions_table(entity, WHOLE_HISTORY),
                exp.select("*")
                .from_(versions_table(entity))
                .where(col("entity_id").isin(query=entity_ids.copy())),
            )
        )
    # The events that may be theirs, before the costly company lookup, then exactly.
    former_contacts = (
        exp.select("entity_id")
        .from_(versions_table("contact"))
        .where(col("company_id").isin(query=company_ids.copy()))
    )
    candidates = exp.or_(
        col("contact_id").isin(query=contact_ids.copy()),
        col("company_id").isin(query=company_ids.copy()),
        col("contact_id").isin(query=former_contacts),
    )
    events = visible_event_rows(snapshot_date).where(candidates)
    hits = event_hits(event_reads(needed, lambda _: None), events, versions_table("contact"))
    owned = exp.or_(
        col("contact_id").isin(query=contact_ids.copy()),
        col("company_id").isin(query=company_ids.copy()),
    )
    relations.append(
        Relation(
            hits_table(WHOLE_HISTORY),
            exp.select("*").from_(hits.subquery("hits", copy=False)).where(owned),
        )
    )
    for segment in needed:
        spec = TimelineSpec(segment, as_of, prefix=WHOLE_HISTORY)
        relations.append(
            Relation(timeline_table(segment.name, WHOLE_HISTORY), timeline(spec, entities))
        )
    return relations


def undated_members(members: str) -> exp.Select:
    """Members of an incremental evaluation whose join time the state could not give."""
    return exp.select("entity_id").from_(members).where(col("joined_at").is_(exp.null()))


def count_undated(undated: dict[str, exp.Select]) -> exp.Query:
    """(segment, number of undated members) for each segment's undated members query."""
    counts = [
        exp.select(lit(name), exp.func("count", exp.Star())).from_(query.subquery())
        for name, query in undated.items()
    ]
    return union(counts, distinct=False)
