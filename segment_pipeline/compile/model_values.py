"""Entity-model values as change points of the records they describe (SPEC 4.4).

A value computed for partition P holds from `as_of(P)` until the `as_of` of the next
materialised partition (of the model's current SQL); before the first one, and from a
partition that has no row for the key, it is NULL. Snapshot D reads the partitions up to D
only, so re-running D later gives the same answer.

The run's versions of an entity are cut at those instants and carry the model columns
(`"<model>.<column>"`, see `compile.predicates.model_column`): every part of the compiler
that reads versions (attribute leaves, `company` leaves through the contact's company,
pruning, reasons) then sees model values as one more attribute, and a member that
qualifies through one joins at the `as_of` of the partition that first gave it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from sqlglot import exp

from segment_pipeline.compile.model_query import MODEL_RUNS, model_table
from segment_pipeline.compile.predicates import model_column
from segment_pipeline.compile.visible import FOREVER
from segment_pipeline.definitions.models import PARTITION_COLUMN, Model
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.definitions.sources import EntityType
from segment_pipeline.sql import col, lit, template, union


def entity_models(
    models: Mapping[str, Model], segments: Iterable[Segment], entity: EntityType
) -> list[Model]:
    """The models of `entity` that any of the segments reads, in dependency order."""
    read = {name for segment in segments for name in segment.models}
    return [model for name, model in models.items() if name in read and model.entity == entity]


def model_steps(model: Model, snapshot_date: date) -> exp.Select:
    """Each key's values with the interval they hold on, one row per change:
    `entity_id, valid_from, valid_to` and the model's columns as `"<model>.<column>"`.

    Consecutive partitions giving a key the same values are one step: a value that did not
    change is no change point, so a daily run does not re-evaluate every record each day
    for the other segments that read the same versions.
    """
    assert model.key is not None
    next_run = template(
        "coalesce(lead(as_of) over (order by snapshot_date), :forever)", forever=lit(FOREVER)
    )
    runs = (
        exp.select(PARTITION_COLUMN, exp.alias_(col("as_of"), "valid_from"))
        .select(exp.alias_(next_run, "valid_to"))
        .from_(MODEL_RUNS)
        .where(col("model").eq(lit(model.name)))
        .where(col("version").eq(lit(model.version)))
        .where(col(PARTITION_COLUMN) <= lit(snapshot_date))
    )
    values = [model_column(model.name, name) for name in model.columns]
    per_partition = (
        exp.select(
            exp.alias_(col(model.key, "m"), "entity_id"),
            col("valid_from", "r"),
            col("valid_to", "r"),
            *(
                exp.alias_(col(name, "m"), value)
                for name, value in zip(model.columns, values, strict=True)
            ),
        )
        .from_(exp.alias_(exp.to_table(model_table(model.name)), "m"))
        .join(
            runs.subquery("r"),
            on=col(PARTITION_COLUMN, "m").eq(col(PARTITION_COLUMN, "r")),
        )
        .where(col(model.key, "m").is_(exp.null()).not_())
    )
    return _merged(per_partition, values)


def _merged(steps: exp.Select, values: list[str]) -> exp.Select:
    """Steps of a key that continue the previous one with the same values merged into it."""
    window = "over (partition by entity_id order by valid_from)"
    previous = [
        exp.alias_(template(f"lag(:c) {window}", c=col(value)), f"previous_{index}")
        for index, value in enumerate(values)
    ]
    with_previous = exp.select(
        "*", exp.alias_(template(f"lag(valid_to) {window}"), "previous_to"), *previous
    ).from_(steps.subquery("steps", copy=False))
    starts = exp.or_(
        col("previous_to").is_(exp.null()),
        col("previous_to").neq(col("valid_from")),
        *(
            exp.NullSafeNEQ(this=col(value), expression=col(f"previous_{index}"))
            for index, value in enumerate(values)
        ),
    )
    flagged = exp.select(
        "entity_id",
        "valid_from",
        "valid_to",
        *(col(value) for value in values),
        exp.alias_(starts, "is_start"),
    ).from_(with_previous.subquery("with_previous", copy=False))
    island = template(
        "sum(case when is_start then 1 else 0 end) over (partition by entity_id "
        "order by valid_from rows unbounded preceding)"
    )
    numbered = exp.select("*", exp.alias_(island, "island")).from_(
        flagged.subquery("flagged", copy=False)
    )
    island_end = template("max(valid_to) over (partition by entity_id, island)")
    ended = exp.select("*", exp.alias_(island_end, "island_end")).from_(
        numbered.subquery("numbered", copy=False)
    )
    return (
        exp.select(
            "entity_id",
            "valid_from",
            exp.alias_(col("island_end"), "valid_to"),
            *(col(value) for value in values),
        )
        .from_(ended.subquery("ended", copy=False))
        .where(col("is_start"))
    )


def with_model_values(
    versions: str, columns: list[str], models: list[Model], snapshot_date: date
) -> exp.Select:
    """The versions of `versions` cut at every model step, each piece with the version's
    `columns` (those besides its id and interval) and the model values in force at its
    start (NULL where none is)."""
    steps = {model.name: model_steps(model, snapshot_date) for model in models}
    starts: list[exp.Query] = [
        exp.select("entity_id", exp.alias_(col("valid_from"), "t")).from_(versions)
    ]
    for name, query in steps.items():
        starts.append(
            exp.select("entity_id", exp.alias_(col("valid_from"), "t")).from_(query.subquery(name))
        )
        starts.append(
            exp.select("entity_id", exp.alias_(col("valid_to"), "t"))
            .from_(query.subquery(name))
            .where(col("valid_to") < lit(FOREVER))
        )
    next_start = template(
        "coalesce(lead(t) over (partition by entity_id order by t), :forever)",
        forever=lit(FOREVER),
    )
    pieces = exp.select(
        "entity_id", exp.alias_(col("t"), "valid_from"), exp.alias_(next_start, "valid_to")
    ).from_(union(starts, distinct=True).subquery("starts", copy=False))

    def covers(alias: str) -> exp.Expr:
        return exp.and_(
            col("entity_id", alias).eq(col("entity_id", "p")),
            col("valid_from", alias) <= col("valid_from", "p"),
            col("valid_from", "p") < col("valid_to", alias),
        )

    query = (
        exp.select(
            col("entity_id", "p"),
            col("valid_from", "p"),
            col("valid_to", "p"),
            *(col(name, "v") for name in columns),
        )
        .from_(pieces.subquery("p", copy=False))
        .join(exp.alias_(exp.to_table(versions), "v"), on=covers("v"))
    )
    for model in models:
        query = query.select(
            *(col(model_column(model.name, name), model.name) for name in model.columns)
        )
        query = query.join(
            steps[model.name].subquery(model.name), on=covers(model.name), join_type="left"
        )
    return query
