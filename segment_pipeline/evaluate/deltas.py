"""`segment_deltas`: who was added and removed against the latest earlier snapshot, and why.

Removal reasons, the first that applies (SPEC 8): `deleted` (the record no longer exists),
`definition_changed` (the earlier snapshot was computed with another version),
`no_longer_matches` with the first failing leaf in words. Contacts picked as personas for
a company segment will get their own reasons from the personas step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import cast

import pandas as pd
from sqlglot import exp

from segment_pipeline.definitions.conditions import CompanyAttribute
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.evaluate.membership import MembershipRun
from segment_pipeline.evaluate.persona_reasons import contact_deltas
from segment_pipeline.evaluate.reasons import Explainer, Rows
from segment_pipeline.evaluate.snapshot import previous_run
from segment_pipeline.sql import col, lit, template
from segment_pipeline.warehouse.engine import Warehouse
from segment_pipeline.warehouse.schema import OUTPUT_TABLES

DELTA_COLUMNS = list(OUTPUT_TABLES["segment_deltas"])


@dataclass(frozen=True)
class DeltaResult:
    """A day's changes of one segment."""

    segment: str
    snapshot_date: date
    previous_date: date | None
    added: int
    removed_by_reason: dict[str, int] = field(default_factory=dict)
    preview: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Picked contacts of a company segment with personas: added, and removed by reason.
    contacts_added: int = 0
    contacts_removed_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def removed(self) -> int:
        """Removals across reasons."""
        return sum(self.removed_by_reason.values())


def _changes(segment: Segment, snapshot_date: date, previous: date | None) -> exp.Expr:
    """Added and removed members (the segment's own entity rows) with their old version."""
    return template(
        """
        with current_members as (
            select entity_id, joined_at from segment_snapshots
            where segment = :segment and snapshot_date = :day and entity_type = :entity
        ),
        previous_members as (
            select entity_id, joined_at, definition_version from segment_snapshots
            where segment = :segment and snapshot_date = :previous and entity_type = :entity
        )
        select 'added' as change, c.entity_id, c.joined_at,
               cast(null as varchar) as previous_version
        from current_members as c anti join previous_members as p using (entity_id)
        union all
        select 'removed', p.entity_id, p.joined_at, p.definition_version
        from previous_members as p anti join current_members as c using (entity_id)
        """,
        segment=lit(segment.name),
        entity=lit(segment.entity),
        day=lit(snapshot_date),
        previous=lit(previous),
    )


def _latest_versions(
    run: MembershipRun, entity: str, entity_ids: list[str], columns: list[str]
) -> pd.DataFrame:
    """Whether some entities' current (as-of) version is present, and its `columns`, by
    entity_id."""
    wanted = pd.DataFrame({"entity_id": pd.Series(entity_ids, dtype="str")})
    with run.warehouse.registered("wanted_versions", wanted) as ids:
        query = (
            exp.select("entity_id", "is_present", *columns)
            .from_(run.current_versions(entity))
            .where(col("entity_id").isin(query=exp.select("entity_id").from_(ids)))
        )
        return run.warehouse.query(query).set_index("entity_id")


def removal_reasons(run: MembershipRun, segment: Segment, removed: pd.DataFrame) -> pd.DataFrame:
    """`reason` and `reason_detail` for removed members.

    Only the columns the sentences show are read: removals are many on a busy day, and
    the versions are wide.
    """
    removed = removed.copy()
    ids = removed["entity_id"].tolist()
    explainer = Explainer(segment.where)
    reads_company = segment.entity == "contact" and any(
        isinstance(leaf, CompanyAttribute) for _, leaf in explainer.leaves
    )
    columns = explainer.attribute_columns
    if reads_company and "company_id" not in columns:
        columns = [*columns, "company_id"]
    versions = _latest_versions(run, segment.entity, ids, columns)
    present = versions["is_present"].reindex(ids).fillna(False).astype(bool).to_numpy()
    changed = (removed["previous_version"] != segment.version).to_numpy()
    removed["reason"] = "no_longer_matches"
    removed.loc[changed, "reason"] = "definition_changed"
    removed.loc[~present, "reason"] = "deleted"
    removed["reason_detail"] = None
    unmatched = removed["reason"] == "no_longer_matches"
    if unmatched.any():
        unmatched_ids = removed.loc[unmatched, "entity_id"].tolist()
        companies = pd.DataFrame()
        if reads_company:
            company_ids = versions["company_id"].dropna().unique().tolist()
            companies = _latest_versions(run, "company", company_ids, explainer.company_columns)
        removed.loc[unmatched, "reason_detail"] = _details(
            run, segment, explainer, unmatched_ids, versions, companies
        )
    return removed


def _counts(reasons: pd.Series[str]) -> dict[str, int]:
    """How many rows give each reason. pandas-stubs key `to_dict` by Hashable; these are text."""
    return cast(dict[str, int], reasons.value_counts().to_dict())


def _details(
    run: MembershipRun,
    segment: Segment,
    explainer: Explainer,
    ids: list[str],
    versions: pd.DataFrame,
    companies: pd.DataFrame,
) -> list[str]:
    # pandas-stubs key columns by Hashable; these frames' columns are named by text.
    values_of = cast(Rows, run.leaf_values(segment, ids, explainer.value_columns).to_dict("index"))
    versions_of = cast(Rows, versions.to_dict("index"))
    companies_of = cast(Rows, companies.to_dict("index"))
    details = []
    for entity_id in ids:
        attributes = versions_of.get(entity_id, {})
        company = companies_of.get(attributes.get("company_id"))
        if company is not None and not company["is_present"]:
            company = None
        details.append(explainer.explain(values_of[entity_id], attributes, company))
    return details


def write_deltas(run: MembershipRun, segment: Segment, snapshot_date: date) -> DeltaResult:
    """Replace the segment's delta for the day (the snapshot must be written first)."""
    warehouse: Warehouse = run.warehouse
    previous = previous_run(warehouse, segment.name, snapshot_date)
    previous_date = previous[0] if previous else None
    changes = warehouse.query(_changes(segment, snapshot_date, previous_date))
    added = changes[changes["change"] == "added"].assign(reason=None, reason_detail=None)
    removed = removal_reasons(run, segment, changes[changes["change"] == "removed"])
    frames = [added.assign(entity_type=segment.entity), removed.assign(entity_type=segment.entity)]
    contacts = pd.DataFrame(columns=["change", "reason"])
    if segment.personas is not None:
        dates = (snapshot_date, previous_date)
        contacts = contact_deltas(warehouse, segment, run.project.sources, dates, removed)
        frames.append(contacts)
    changed = [frame for frame in frames if len(frame)]
    rows = pd.concat(changed, ignore_index=True) if changed else pd.DataFrame()
    rows = rows.reindex(columns=DELTA_COLUMNS).assign(
        snapshot_date=snapshot_date, segment=segment.name, definition_version=segment.version
    )
    rows = rows.sort_values(["entity_type", "change", "entity_id", "company_id"], ignore_index=True)
    day = exp.and_(
        col("segment").eq(lit(segment.name)), col("snapshot_date").eq(lit(snapshot_date))
    )
    with warehouse.registered("delta_rows", rows) as new_rows:
        warehouse.replace_rows("segment_deltas", day, exp.select(*DELTA_COLUMNS).from_(new_rows))
    return DeltaResult(
        segment=segment.name,
        snapshot_date=snapshot_date,
        previous_date=previous_date,
        added=len(added),
        removed_by_reason=_counts(removed["reason"]),
        preview=rows.head(10),
        contacts_added=int((contacts["change"] == "added").sum()),
        contacts_removed_by_reason=_counts(contacts.loc[contacts["change"] == "removed", "reason"]),
    )
