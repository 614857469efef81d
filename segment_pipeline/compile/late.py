"""The entities late rows can affect: what a daily run re-evaluates from the first change.

A daily run starts from the previous day's state. For most entities nothing D - 1 saw
before `as_of(D - 1)` has changed, so their timelines start there. A late row, landed on D
but stamped before `as_of(D - 1)` (an event that arrived days after it happened, a
correction), changes earlier data, but only for the entities whose timelines read it: those
are evaluated from the first change on instead (`MembershipRun` holds both instants).

Each segment gets its own set (`late_table`), a superset on purpose: an entity evaluated
from earlier than needed gets the same answer, an entity missed would not.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from sqlglot import exp

from segment_pipeline.compile.event_pass import names_test
from segment_pipeline.compile.relations import late_table, reached_table
from segment_pipeline.compile.visible import as_of, landed_rows_since
from segment_pipeline.definitions.conditions import (
    CompanyAttribute,
    InSegment,
    event_filters,
    iter_leaves,
)
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.sql import col, lit, union
from segment_pipeline.warehouse.schema import history_table


def _late_rows(table: str, stamp: str, snapshot_date: date) -> exp.Select:
    """Rows landed on D stamped before `as_of(D - 1)`: data D - 1 could have seen."""
    rows = (
        exp.select("*")
        .from_(table)
        .where(col("landed_on").eq(lit(snapshot_date)))
        .where(col(stamp) < lit(as_of(snapshot_date - timedelta(days=1))))
    )
    return rows.where(col("is_first_copy")) if table == "events" else rows


def _ids(query: exp.Select, column: str) -> exp.Select:
    """One column of a query, renamed `entity_id`, without NULLs."""
    return (
        exp.select(exp.alias_(col(column), "entity_id"))
        .from_(query.subquery("rows", copy=False))
        .where(col(column).is_(exp.null()).not_())
    )


class LateScopes:
    """Builds each segment's late set for one run: snapshot date D, the instant `since`
    just before the first change, and the run's visible contact versions."""

    def __init__(self, snapshot_date: date, since: datetime, contact_versions: str) -> None:
        self.snapshot_date = snapshot_date
        self.since = since
        self.contact_versions = contact_versions

    def reached(self, segment: Segment, entities: Mapping[str, str]) -> exp.Query:
        """Entities whose inputs late rows change: their own late rows, late events the
        segment counts, late rows of their companies (contacts' `company` leaves), and
        entities reached in a referenced segment (its `reached_table`, made first)."""
        own = "contact_id" if segment.entity == "contact" else "company_id"
        parts = [
            _ids(_late_rows(history_table(segment.entity), "updated_at", self.snapshot_date), own)
        ]
        filters = [
            events for _, leaf in iter_leaves(segment.where) for events in event_filters(leaf)
        ]
        if filters:
            parts += self._event_owners(segment.entity, names_test(filters))
        for _, leaf in iter_leaves(segment.where):
            if isinstance(leaf, CompanyAttribute):
                companies = _late_rows(history_table("company"), "updated_at", self.snapshot_date)
                parts.append(self.contacts_of(_ids(companies, "company_id")))
            elif isinstance(leaf, InSegment):
                referenced = exp.select("entity_id").from_(reached_table(leaf.segment))
                same = entities[leaf.segment] == segment.entity
                parts.append(referenced if same else self.contacts_of(referenced))
        return union(parts, distinct=True)

    def _event_owners(self, entity: str, names: exp.Expr) -> list[exp.Select]:
        """Owners of late events of these names. A company also owns its contacts' events
        (through the contact's company over the span), and a late contact row moves them
        between companies: every company of that contact from `since` on, and of rows a
        later landing replaced."""
        events = _late_rows("events", "occurred_at", self.snapshot_date).where(names)
        if entity == "contact":
            return [_ids(events, "contact_id")]
        contacts_rows = _late_rows(history_table("contact"), "updated_at", self.snapshot_date)
        moved = _ids(contacts_rows, "contact_id")
        replaced = landed_rows_since("contact", self.snapshot_date, self.since).where(
            col("contact_id").isin(query=moved.copy())
        )
        unattributed = events.copy().where(col("company_id").is_(exp.null()))
        return [
            _ids(events, "company_id"),
            self.companies_of(_ids(unattributed, "contact_id")),
            self.companies_of(moved),
            _ids(replaced, "company_id"),
        ]

    def contacts_of(self, companies: exp.Select) -> exp.Select:
        """Contacts of these companies in a version valid from `since` on."""
        return (
            exp.select("entity_id")
            .from_(self.contact_versions)
            .where(col("valid_to") > lit(self.since))
            .where(col("company_id").isin(query=companies))
        )

    def companies_of(self, contacts: exp.Select) -> exp.Select:
        """Companies of these contacts in a version valid from `since` on."""
        return (
            exp.select(exp.alias_(col("company_id"), "entity_id"))
            .from_(self.contact_versions)
            .where(col("valid_to") > lit(self.since))
            .where(col("company_id").is_(exp.null()).not_())
            .where(col("entity_id").isin(query=contacts))
        )

    def read_by(self, dependent: Segment, segment: Segment) -> exp.Select:
        """The segment's entities a dependent's late entities read: its timeline must
        start from the first change for them too."""
        dependents = exp.select("entity_id").from_(late_table(dependent.name))
        if dependent.entity == segment.entity:
            return dependents
        return self.companies_of(dependents)
