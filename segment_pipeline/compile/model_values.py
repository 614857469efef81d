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
    """Each key's value per computed partition up to D, with the interval it holds on:
    `entity_id, valid_from, valid_to` and the model's columns as `"<model>.<column>"`."""
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
    return (
        exp.select(
            exp.alias_(col(model.key, "m"), "entity_id"),
            col("valid_from", "r"),
            col("valid_to", "r"),
            *(exp.alias_(col(name, "m"), model_column(model.name, name)) for name in model.columns),
        )
        .from_(exp.alias_(exp.to_table(model_table(model.name)), "m"))
        .join(
            runs.subquery("r"),
            on=col(PARTITION_COLUMN, "m").eq(col(PARTITION_COLUMN, "r")),
        )
        .where(col(model.key, "m").is_(exp.null()).not_())
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

    def covers(alias: str) -> exp.Expression:
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
