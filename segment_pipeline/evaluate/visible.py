"""The data as of a snapshot date (SPEC 5): the one place that decides what is visible.

Partition D sees the rows landed on or before D whose `updated_at` / `occurred_at` is
before `as_of(D)`, so re-running D later gives the same answer whatever has landed since.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlglot import exp

from segment_pipeline.definitions.sources import ENTITY_KEYS, EntityType, Sources
from segment_pipeline.sql import col, lit, template
from segment_pipeline.warehouse.schema import history_table

#: The end of a version that nothing has replaced yet (portable, unlike 'infinity').
FOREVER = datetime(9999, 12, 31)
EVENT_COLUMNS = ("event_id", "contact_id", "company_id", "event_name", "occurred_at", "properties")


def as_of(snapshot_date: date) -> datetime:
    """The instant partition D is evaluated at: D + 1 day, 00:00:00 UTC."""
    return datetime.combine(snapshot_date + timedelta(days=1), time())


def visible_versions(sources: Sources, entity: EntityType, snapshot_date: date) -> exp.Select:
    """Every visible version of an entity, one row per instant, with its validity interval.

    Columns: `entity_id`, `valid_from`, `valid_to` (exclusive; FOREVER for the latest),
    `is_present` (false for a deletion) and every declared attribute. Two versions with the
    same `updated_at`: the later landing date wins, then the later file and row.
    """
    key = ENTITY_KEYS[entity]
    attributes = [col(name) for name in sources.attributes(entity)]
    landed = (
        exp.select("*")
        .from_(history_table(entity))
        .where(col("landed_on") <= lit(snapshot_date))
        .where(col("updated_at") < lit(as_of(snapshot_date)))
        .qualify(
            template(
                "row_number() over (partition by :key, updated_at "
                "order by landed_on desc, source_file desc, source_line desc) = 1",
                key=col(key),
            )
        )
    )
    valid_to = template(
        "coalesce(lead(updated_at) over (partition by :key order by updated_at), :forever)",
        key=col(key),
        forever=lit(FOREVER),
    )
    return exp.select(
        exp.alias_(col(key), "entity_id"),
        exp.alias_(col("updated_at"), "valid_from"),
        exp.alias_(valid_to, "valid_to"),
        exp.alias_(exp.not_(col("is_deleted")), "is_present"),
        *attributes,
    ).from_(exp.alias_(landed.subquery(), "landed"))


def visible_events(
    snapshot_date: date,
    contact_versions: str,
    *,
    wanted: exp.Expression | None = None,
    attributed: exp.Expression | None = None,
) -> exp.Select:
    """Visible events (first landed copy of each id), each attributed to a company.

    An event without `company_id` belongs to the company its contact belonged to when it
    happened: the contact's version valid at `occurred_at`, if that version exists.
    `contact_versions` names a relation shaped like `visible_versions(..., "contact", ...)`.

    Looking up the contact's version is the costly part, so a caller can narrow both:
    `wanted` keeps only the events it reads, `attributed` looks the company up only for the
    events that need one (the others keep the company they came with, possibly none). Both
    are conditions on the events' own columns.
    """
    visible = (
        exp.select(*EVENT_COLUMNS)
        .from_("events")
        .where(col("is_first_copy"))
        .where(col("landed_on") <= lit(snapshot_date))
        .where(col("occurred_at") < lit(as_of(snapshot_date)))
    )
    if wanted is not None:
        visible = visible.where(wanted)
    needs_company = attributed if attributed is not None else exp.true()
    return template(
        """
        with visible as (:visible)
        select event_id, contact_id, company_id, event_name, occurred_at, properties
        from visible
        where company_id is not null or not coalesce(:needs_company, false)
        union all
        select e.event_id, e.contact_id, v.company_id, e.event_name, e.occurred_at,
               e.properties
        from visible as e
        left join :versions as v
          on v.entity_id = e.contact_id and v.is_present
         and v.valid_from <= e.occurred_at and e.occurred_at < v.valid_to
        where e.company_id is null and coalesce(:needs_company, false)
        """,
        visible=visible,
        versions=exp.to_table(contact_versions),
        needs_company=needs_company,
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
