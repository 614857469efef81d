"""Which member companies a daily run picks contacts for anew, and which keep yesterday's.

A company's picks at `as_of` depend on its join time and on its candidates: the contacts
whose current version is at it, with their persona rank, first-seen time and stretch. A
contact with no version from `since` on (`RunPlan.since_of`: what the day's new and late
rows can change) has the same versions as the day before, so the same candidacy. So the
picks of a member company are the previous state's when its join time is the state's and
none of these contacts was at it from `since` on (in a version valid then, or picked there
the day before). A changed contact can also have left a company without a version saying
so (a late row replacing the one at that company): it was then not picked there, and
removing a contact that is not picked changes no picks (the cuts before it are the same,
and the ones after it stay past their limits).

The snapshot a day's delta compares with may hold other picks than the previous state
(a static segment's last refresh, a segment evaluated the day before only because another
references it): the companies where it holds a pick the state does not are picked anew
too, so every removed contact is at a company ranked today, which its removal reason reads.
"""

from __future__ import annotations

from datetime import datetime

from sqlglot import exp

from segment_pipeline.sql import col, lit, union


def repicked(
    members: str,
    previous: exp.Expr,
    picks: tuple[exp.Expr, exp.Query],
    versions: str,
    since: datetime,
) -> exp.Select:
    """The companies of `members` (`entity_id`, `joined_at`) picked anew.

    `previous` is the previous state's members, `picks` the previous state's picks
    (`PICK_COLUMNS`) and the picks the compared snapshot holds (`entity_id`,
    `company_id`); `versions` the run's visible contact versions.
    """
    kept, compared = picks
    changed = exp.select("entity_id").from_(versions).where(col("valid_from") > lit(since))

    def at(relation: exp.Expr, *conditions: exp.Expr) -> exp.Select:
        return (
            exp.select("company_id")
            .from_(relation)
            .where(col("entity_id").isin(query=changed.copy()), *conditions)
        )

    def pairs(relation: exp.Expr) -> exp.Select:
        return exp.select("entity_id", "company_id").from_(relation)

    # Picked in the compared snapshot, not in the state: where a removal may be.
    differing = exp.except_(pairs(compared.subquery("compared")), pairs(kept.copy()))
    affected = union(
        [
            at(exp.to_table(versions), col("valid_to") > lit(since)),
            at(kept),
            exp.select("company_id").from_(differing.subquery("differing")),
        ],
        distinct=False,
    )
    joined_as_before = exp.and_(
        col("entity_id", "p").eq(col("entity_id", "m")),
        col("joined_at", "p").eq(col("joined_at", "m")),
    )
    return (
        exp.select(col("entity_id", "m"), col("joined_at", "m"))
        .from_(exp.alias_(exp.to_table(members), "m"))
        .join(exp.alias_(previous, "p"), on=joined_as_before, join_type="left")
        .where(
            exp.or_(
                col("entity_id", "p").is_(exp.null()),
                col("entity_id", "m").isin(query=affected),
            )
        )
    )


def carried(members: str, repicked: str, kept: exp.Expr, columns: list[str]) -> exp.Select:
    """The previous state's picks (`kept`) at the member companies not picked anew."""
    return (
        exp.select(*columns)
        .from_(kept)
        .where(col("company_id").isin(query=exp.select("entity_id").from_(members)))
        .where(col("company_id").isin(query=exp.select("entity_id").from_(repicked)).not_())
    )
