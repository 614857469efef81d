"""The data as of a snapshot date (SPEC 5): the one place that decides what is visible.

Partition D sees the rows landed on or before D whose `updated_at` / `occurred_at` is
before `as_of(D)`, so re-running D later gives the same answer whatever has landed since.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlglot import exp

from segment_pipeline.definitions.sources import (
    ENTITY_KEYS,
    EVENT_FIELDS,
    EVENT_PROPERTIES,
    EntityType,
    Sources,
)
from segment_pipeline.sql import col, lit, template
from segment_pipeline.warehouse.schema import history_table

#: The end of a version that nothing has replaced yet (portable, unlike 'infinity').
FOREVER = datetime(9999, 12, 31)
EVENT_COLUMNS = (*EVENT_FIELDS, EVENT_PROPERTIES)


def as_of(snapshot_date: date) -> datetime:
    """The instant partition D is evaluated at: D + 1 day, 00:00:00 UTC."""
    return datetime.combine(snapshot_date + timedelta(days=1), time())


def visible_versions(sources: Sources, entity: EntityType, snapshot_date: date) -> exp.Select:
    """Every visible version of an entity, one row per instant, with its validity interval.

    Columns: `entity_id`, `valid_from`, `valid_to` (exclusive; FOREVER for the latest),
    `is_present` (false for a deletion), the key under its own name too (predicates may
    name it, SPEC 4.1) and every stored attribute. Two versions with the
    same `updated_at`: the later landing date wins, then the later file and row.
    """
    key = ENTITY_KEYS[entity]
    attributes = [col(name) for name in sources.stored_attributes(entity)]
    # One ordering does both jobs: within an instant the winner sorts last, so a row is the
    # version of its instant exactly when the next row is of a later instant, and that
    # next instant is where it ends.
    next_stamp = template(
        "lead(updated_at) over (partition by :key "
        "order by updated_at, landed_on, source_file, source_line)",
        key=col(key),
    )
    landed = (
        exp.select("*", exp.alias_(next_stamp, "next_updated_at"))
        .from_(history_table(entity))
        .where(col("landed_on") <= lit(snapshot_date))
        .where(col("updated_at") < lit(as_of(snapshot_date)))
    )
    return (
        exp.select(
            exp.alias_(col(key), "entity_id"),
            exp.alias_(col("updated_at"), "valid_from"),
            exp.alias_(exp.func("coalesce", col("next_updated_at"), lit(FOREVER)), "valid_to"),
            exp.alias_(exp.not_(col("is_deleted")), "is_present"),
            col(key),
            *attributes,
        )
        .from_(landed.subquery("landed", copy=False))
        .where(
            exp.or_(
                col("next_updated_at").is_(exp.null()),
                col("next_updated_at") > col("updated_at"),
            )
        )
    )


def visible_event_rows(snapshot_date: date) -> exp.Select:
    """Visible events (first landed copy of each id) as they landed, before attribution."""
    return (
        exp.select(*EVENT_COLUMNS)
        .from_("events")
        .where(col("is_first_copy"))
        .where(col("landed_on") <= lit(snapshot_date))
        .where(col("occurred_at") < lit(as_of(snapshot_date)))
    )


def with_companies(
    events: exp.Select,
    columns: list[str],
    contact_versions: str,
    needs_company: exp.Expr,
) -> exp.Select:
    """`columns` of the events, each event attributed to a company.

    An event without `company_id` belongs to the company its contact belonged to when it
    happened: the contact's version valid at `occurred_at`, if that version exists.
    `contact_versions` names a relation shaped like `visible_versions(..., "contact", ...)`.
    Looking the version up is the costly part, so it is done only for the events that
    `needs_company` holds for (a condition on the events' columns); the others keep the
    company they came with, possibly none. They still go through the same left join, with
    a NULL key that matches nothing: one pass over the events, where a union of the two
    kinds would read them twice.
    """

    def of_event(node: exp.Expr) -> exp.Expr:
        return col(node.name, "e") if isinstance(node, exp.Column) else node

    looked_up = exp.and_(col("company_id", "e").is_(exp.null()), needs_company.transform(of_event))
    key = exp.Case(ifs=[exp.If(this=looked_up, true=col("contact_id", "e"))])
    company = exp.func("coalesce", col("company_id", "e"), col("company_id", "v"))
    return (
        exp.select(
            *(
                exp.alias_(company, name) if name == "company_id" else col(name, "e")
                for name in columns
            )
        )
        .from_(events.subquery("e", copy=False))
        .join(
            exp.alias_(exp.to_table(contact_versions), "v"),
            on=exp.and_(
                col("entity_id", "v").eq(key),
                template(
                    "v.is_present and v.valid_from <= e.occurred_at and e.occurred_at < v.valid_to"
                ),
            ),
            join_type="left",
        )
    )


def visible_events(snapshot_date: date, contact_versions: str) -> exp.Select:
    """Visible events, each attributed to a company (`with_companies`): the `events` a
    model reads."""
    return with_companies(
        visible_event_rows(snapshot_date), list(EVENT_COLUMNS), contact_versions, exp.true()
    )


def landed_rows_since(entity: EntityType, snapshot_date: date, since: datetime) -> exp.Select:
    """Every row of an entity D sees stamped from `since` on, including a row that a later
    landing with the same `updated_at` replaced: what changed, or was undone, from then on."""
    return (
        exp.select("*")
        .from_(history_table(entity))
        .where(col("landed_on") <= lit(snapshot_date))
        .where(col("updated_at") >= lit(since))
        .where(col("updated_at") < lit(as_of(snapshot_date)))
    )


def first_change(snapshot_date: date) -> exp.Select:
    """The earliest instant at which the data D sees differs from what D - 1 saw.

    Membership at t depends only on rows stamped at or before t, so every membership
    before this instant is what the previous day's snapshot computed. D sees, beyond what
    D - 1 saw, the rows landed on D and the rows landed earlier stamped from `as_of(D - 1)`
    on; a version landed on D also replaces an earlier one with the same `updated_at`, at
    that same instant. The answer is `as_of(D - 1)` unless a row landed on D is older.
    """
    day, previous_as_of = lit(snapshot_date), lit(as_of(snapshot_date - timedelta(days=1)))
    landed = [
        exp.select(exp.func("min", col(stamp)))
        .from_(table)
        .where(col("landed_on").eq(day))
        .where(col(stamp) < lit(as_of(snapshot_date)))
        for table, stamp in (
            (history_table("company"), "updated_at"),
            (history_table("contact"), "updated_at"),
            ("events", "occurred_at"),
        )
    ]
    landed[-1] = landed[-1].where(col("is_first_copy"))
    return exp.select(
        exp.func(
            "least",
            previous_as_of,
            *(exp.func("coalesce", query.subquery(), previous_as_of.copy()) for query in landed),
        )
    )
