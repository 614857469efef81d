"""A model's SELECT over the data as of a partition (SPEC 4.4), as one sqlglot expression.

A model names `companies`, `contacts`, `events` and other models by bare name. Each of
those table references (never a CTE's name) is replaced, in the parsed tree, by the
relation it means for partition D: the records' versions in force at `as_of(D)` (one row
per existing key), the visible deduplicated events (attributed to a company as segments
see them), and the upstream model's rows for D. The result is an expression like any
other, so it renders for whichever engine runs it; no SQL text is pasted together.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlglot import exp

from segment_pipeline.compile.relations import versions_table
from segment_pipeline.compile.visible import FOREVER, visible_events
from segment_pipeline.definitions.models import PARTITION_COLUMN, Model, table_reads
from segment_pipeline.definitions.sources import ENTITY_KEYS, EntityType, Sources
from segment_pipeline.sql import col, lit

#: One row per computed partition of a model, with the code version that computed it and
#: the `as_of` from which its values hold (written by `evaluate/models.py`).
MODEL_RUNS = "model_runs"
#: The run relations a model computation stages (visible versions as of D).
MODEL_PREFIX = "models_"

_SOURCE_ENTITIES: dict[str, EntityType] = {"companies": "company", "contacts": "contact"}


def model_table(name: str) -> str:
    """The warehouse table holding a model's rows, one set per partition."""
    return f"model_{name}"


def current_records(sources: Sources, entity: EntityType) -> exp.Select:
    """`companies` / `contacts` as a model reads them: each existing record's version in
    force at `as_of`, one row per key, with its `updated_at` and declared attributes."""
    return (
        exp.select(
            exp.alias_(col("entity_id"), ENTITY_KEYS[entity]),
            exp.alias_(col("valid_from"), "updated_at"),
            *(col(name) for name in sources.attributes(entity)),
        )
        .from_(versions_table(entity, MODEL_PREFIX))
        .where(col("valid_to").eq(lit(FOREVER)))
        .where(col("is_present"))
    )


def upstream_rows(model: Model, snapshot_date: date) -> exp.Select:
    """Another model's rows for the same partition, without the partition column."""
    return (
        exp.select(*(col(name) for name in model.columns))
        .from_(model_table(model.name))
        .where(col(PARTITION_COLUMN).eq(lit(snapshot_date)))
    )


def model_relations(
    sources: Sources, models: Mapping[str, Model], snapshot_date: date
) -> dict[str, exp.Query]:
    """Every table a model may read, for partition D (versions staged under MODEL_PREFIX)."""
    relations: dict[str, exp.Query] = {
        table: current_records(sources, entity) for table, entity in _SOURCE_ENTITIES.items()
    }
    relations["events"] = visible_events(snapshot_date, versions_table("contact", MODEL_PREFIX))
    relations.update({name: upstream_rows(model, snapshot_date) for name, model in models.items()})
    return relations


def model_query(model: Model, relations: Mapping[str, exp.Query]) -> exp.Query:
    """The model's SELECT with each table it reads replaced by its relation for D.

    The table's alias (or its bare name) stays the subquery's alias, so `companies.x` and
    `c.x` keep meaning what they meant.
    """
    tree = model.sql.copy()
    for table in table_reads(tree):
        alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(table.name))
        table.replace(exp.Subquery(this=relations[table.name].copy(), alias=alias.copy()))
    return tree
