"""Group `models`: one asset per SQL model (`models/<name>`), computed per daily partition.

Each model's code version hashes its normalised SQL (and its upstream models' versions), so
an edit shows the model, the models reading it and the segments using it as changed, and
the automation condition recalculates the latest partition; computing it again first
recomputes every partition the old SQL had computed (`evaluate/models.py`). Lineage comes
from the SQL: the ingestion tables and the models it reads.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg

from segment_pipeline.compile.model_query import model_table
from segment_pipeline.definitions.models import MODEL_DIALECT, Model
from segment_pipeline.definitions.project import Project
from segment_pipeline.evaluate.models import materialize_models
from segment_pipeline.orchestrate.assets.ingest import INGEST_KEYS
from segment_pipeline.orchestrate.partitions import RECALCULATE_ON_CHANGE, partition_dates
from segment_pipeline.orchestrate.resources import (
    ProjectResource,
    user_errors,
)
from segment_pipeline.orchestrate.warehouse_resource import WAREHOUSE_POOL, WarehouseResource

_SOURCE_ASSETS = {"companies": "companies_history", "contacts": "contacts_history"}


def model_key(name: str) -> dg.AssetKey:
    """The asset key of a model."""
    return dg.AssetKey(["models", name])


def _spec(model: Model) -> dg.AssetSpec:
    deps = [
        dg.AssetDep(INGEST_KEYS[_SOURCE_ASSETS.get(table, table)]) for table in model.source_tables
    ]
    deps += [dg.AssetDep(model_key(name)) for name in model.depends_on]
    kind = f"{model.entity} model keyed by {model.key}" if model.entity else "model"
    return dg.AssetSpec(
        model_key(model.name),
        deps=deps,
        description=f"SQL {kind}: {model.file.name}",
        group_name="models",
        code_version=model.version,
        kinds={"sql"},
        tags={"entity": model.entity} if model.entity else {},
        metadata={
            "file": str(model.file),
            "table": model_table(model.name),
            "columns": ", ".join(model.columns),
            "sql": dg.MetadataValue.md(f"```sql\n{model.sql.sql(MODEL_DIALECT, pretty=True)}\n```"),
        },
        automation_condition=RECALCULATE_ON_CHANGE,
    )


def build_model_assets(
    project: Project, partitions: dg.PartitionsDefinition
) -> list[dg.AssetsDefinition]:
    """All models of the project as one subsettable multi-asset (none without models)."""
    if not project.models:
        return []

    @dg.multi_asset(
        name="model_partitions",
        specs=[_spec(model) for model in project.models.values()],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=True,
        pool=WAREHOUSE_POOL,
    )
    def model_partitions(
        context: dg.AssetExecutionContext, project: ProjectResource, engine: WarehouseResource
    ) -> Iterator[dg.MaterializeResult[Any]]:
        """Each selected model for each partition, over the data visible as of that day."""
        selected = [key.path[-1] for key in context.selected_asset_keys]
        current = project.load("models", selected)
        names = [name for name in current.models if name in selected]
        days = partition_dates(context)
        with user_errors(), engine.open(current.sources) as warehouse:
            done = materialize_models(warehouse, current, names, days)
        for name in names:
            computed = [part for part in done if part.model == name]
            last = max(computed, key=lambda part: part.snapshot_date)
            yield dg.MaterializeResult(
                asset_key=model_key(name),
                metadata={
                    "dagster/row_count": last.rows,
                    "partitions_computed": len(computed),
                    "recomputed_earlier": len([p for p in computed if p.snapshot_date < min(days)]),
                },
            )

    return [model_partitions]
