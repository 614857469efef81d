"""Compute SQL models per daily partition and keep them in the warehouse (SPEC 4.4).

Each model has a table (`model_<name>`: the partition date, then the model's columns) and
every computed partition a row in `model_runs` with the model's code version and the
partition's `as_of`: segments read a model value as a step function over these runs.
Replacing a partition replaces its rows. When a model's SQL changed, every partition it
had computed is computed again with the new SQL before anything else (its table is
rebuilt), so a segment's recalculation dates members as if the new SQL had always run.
The visible versions of D are staged once for all the models of that partition.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlglot import exp

from segment_pipeline.compile.model_query import (
    MODEL_PREFIX,
    MODEL_RUNS,
    model_query,
    model_relations,
    model_table,
)
from segment_pipeline.compile.relations import versions_table
from segment_pipeline.compile.visible import as_of, visible_versions
from segment_pipeline.definitions.models import PARTITION_COLUMN, Model
from segment_pipeline.definitions.project import Project
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.errors import SegmentPipelineError
from segment_pipeline.sql import col, lit
from segment_pipeline.warehouse.engine import Warehouse

MODEL_RUN_COLUMNS = {
    "model": "VARCHAR",
    PARTITION_COLUMN: "DATE",
    "version": "VARCHAR",
    "as_of": "TIMESTAMP",
    "row_count": "BIGINT",
}
_PARTITION_ROWS = "model_partition_rows"


class ModelError(SegmentPipelineError):
    """A model cannot be computed or read as asked: the message names the model and the fix."""


@dataclass(frozen=True)
class ModelPartition:
    """One computed partition of a model."""

    model: str
    snapshot_date: date
    rows: int


def ensure_model_runs(warehouse: Warehouse) -> None:
    """Create `model_runs` if it does not exist yet."""
    warehouse.ensure_table(MODEL_RUNS, MODEL_RUN_COLUMNS)


def computed_dates(warehouse: Warehouse, model: Model, *, current: bool) -> list[date]:
    """Partitions of a model computed with its current version (or with any other)."""
    same = col("version").eq(lit(model.version))
    query = (
        exp.select(PARTITION_COLUMN)
        .from_(MODEL_RUNS)
        .where(col("model").eq(lit(model.name)))
        .where(same if current else exp.not_(same))
        .order_by(PARTITION_COLUMN)
    )
    return [row[0] for row in warehouse.rows(query)]


def require_partition(warehouse: Warehouse, model: Model, snapshot_date: date, reader: str) -> None:
    """Fail with one sentence unless the model's partition D is computed with its current SQL.

    Raises:
        ModelError: naming the model, the day and what to materialise.
    """
    if warehouse.table_exists(MODEL_RUNS) and snapshot_date in computed_dates(
        warehouse, model, current=True
    ):
        return
    raise ModelError(
        f"{reader} reads model {model.name}, which has no partition {snapshot_date} computed "
        f"with its current SQL ({model.file}): materialise models/{model.name} for that day "
        "first (segment-pipeline run does both)"
    )


def require_list_columns(warehouse: Warehouse, segment: Segment) -> None:
    """Fail with one sentence when `list_contains` or `list_has_any` reads a model column
    that holds no list.

    A model column's type is only known once the model ran; checked here, before any SQL
    of the segment runs, so the mistake never surfaces as an engine error. (A `list<text>`
    attribute is typed by sources.yml, and checked when the definition is loaded.)

    Raises:
        ModelError: naming the segment, the column and its type.
    """
    for predicate in segment.entity_predicates():
        for node in predicate.expression.find_all(exp.ArrayContains, exp.ArrayOverlaps):
            subject = node.this.unnest()
            model, column = subject.table, subject.name
            if not model:
                continue
            test = "list_contains" if isinstance(node, exp.ArrayContains) else "list_has_any"
            types = (
                warehouse.column_types(model_table(model))
                if warehouse.table_exists(model_table(model))
                else {}
            )
            kind = types.get(column, "")
            if not kind.startswith("ARRAY"):
                raise ModelError(
                    f"{segment.file}: {test}({model}.{column}, ...) needs a list column, "
                    f"but model {model} gives {column} as {kind or 'nothing yet'}; "
                    f"compare it with = or IN instead, or make the model return a list"
                )


def materialize_models(
    warehouse: Warehouse, project: Project, names: Collection[str], days: list[date]
) -> list[ModelPartition]:
    """Compute the named models for each day, in date and dependency order.

    A model whose stored partitions were computed by other SQL (or whose table no longer
    has its columns) has its table rebuilt with every partition it had, plus `days`.
    """
    ensure_model_runs(warehouse)
    models = [model for name, model in project.models.items() if name in names]
    todo: dict[date, list[Model]] = {}
    for model in models:
        dates = set(days)
        if computed_dates(warehouse, model, current=False) or not _has_columns(warehouse, model):
            dates.update(computed_dates(warehouse, model, current=True))
            dates.update(computed_dates(warehouse, model, current=False))
            with warehouse.transaction():
                warehouse.drop_table(model_table(model.name))
                no_runs = exp.select(*MODEL_RUN_COLUMNS).from_(MODEL_RUNS).where(exp.false())
                warehouse.replace_rows(MODEL_RUNS, col("model").eq(lit(model.name)), no_runs)
        for day in dates:
            todo.setdefault(day, []).append(model)
    done: list[ModelPartition] = []
    for day in sorted(todo):
        _stage_versions(warehouse, project, day)
        for model in todo[day]:
            done.append(_compute(warehouse, project, model, day))
    return done


def _has_columns(warehouse: Warehouse, model: Model) -> bool:
    """Whether the model's table is absent or holds exactly its columns (a `*` over a
    source whose declared columns changed changes them without changing the SQL)."""
    table = model_table(model.name)
    if not warehouse.table_exists(table):
        return True
    return sorted(warehouse.columns(table)) == sorted([PARTITION_COLUMN, *model.columns])


def _stage_versions(warehouse: Warehouse, project: Project, day: date) -> None:
    for entity in ("company", "contact"):
        warehouse.create_relation(
            versions_table(entity, MODEL_PREFIX), visible_versions(project.sources, entity, day)
        )


def _compute(warehouse: Warehouse, project: Project, model: Model, day: date) -> ModelPartition:
    """One partition of one model: computed once into a staging table, checked, then
    written in place of the partition's rows together with its run."""
    for upstream in model.depends_on:
        require_partition(warehouse, project.models[upstream], day, f"model {model.name}")
    query = model_query(model, model_relations(project.sources, project.models, day))
    try:
        warehouse.create_relation(_PARTITION_ROWS, query)
    except Exception as error:  # the user's SQL: whatever the engine refuses is their fix
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
        raise ModelError(
            f"{model.file}: model {model.name} failed on {day}: {first_line}"
        ) from error
    if model.key is not None:
        _check_one_row_per_key(warehouse, model, day)
    table = model_table(model.name)
    rows = exp.select(
        exp.alias_(lit(day), PARTITION_COLUMN), *(col(name) for name in model.columns)
    ).from_(_PARTITION_ROWS)
    count = warehouse.scalar(exp.select(exp.func("count", exp.Star())).from_(_PARTITION_ROWS))
    values: tuple[str | date | datetime | int, ...] = (
        model.name,
        day,
        model.version,
        as_of(day),
        int(count or 0),
    )
    run = exp.select(
        *(
            exp.alias_(lit(value), name)
            for value, name in zip(values, MODEL_RUN_COLUMNS, strict=True)
        )
    )
    this_day = col(PARTITION_COLUMN).eq(lit(day))
    with warehouse.transaction():
        if not warehouse.table_exists(table):
            empty = rows.copy().where(exp.false())
            warehouse.create_table_as(table, empty, partitioned_by=PARTITION_COLUMN)
        warehouse.replace_rows(table, this_day, rows)
        run_of_day = exp.and_(col("model").eq(lit(model.name)), this_day.copy())
        warehouse.replace_rows(MODEL_RUNS, run_of_day, run)
    return ModelPartition(model.name, day, int(count or 0))


def _check_one_row_per_key(warehouse: Warehouse, model: Model, day: date) -> None:
    """An entity model gives each record one value: two rows for a key is the model's bug."""
    assert model.key is not None
    repeated = (
        exp.select(col(model.key), exp.func("count", exp.Star()))
        .from_(_PARTITION_ROWS)
        .where(col(model.key).is_(exp.null()).not_())
        .group_by(col(model.key))
        .having(exp.func("count", exp.Star()) > lit(1))
        .limit(1)
    )
    found = warehouse.rows(repeated)
    if found:
        key, count = found[0]
        raise ModelError(
            f"{model.file}: model {model.name} gives {count} rows for {model.key} {key!r} on "
            f"{day}; an entity model needs one row per {model.key} (aggregate or filter it)"
        )
