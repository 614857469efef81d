"""Dagster entry point (`dagster dev` loads this through workspace.yaml).

The pipeline's assets come from the package; below them is an example of a team's own
asset built on a segment's output, the way SPEC 10 asks for: depend on `segments/<name>`,
take the `segment_tables` resource, get DataFrames.
"""

from datetime import date
from typing import Any

import dagster as dg

from segment_pipeline.orchestrate.assets.segments import segment_key
from segment_pipeline.orchestrate.consumers import SegmentTables
from segment_pipeline.orchestrate.definitions import build_definitions
from segment_pipeline.orchestrate.partitions import daily_partitions
from segment_pipeline.orchestrate.warehouse_resource import WAREHOUSE_POOL
from segment_pipeline.settings import Settings

settings = Settings()


@dg.asset(
    key_prefix="example_consumers",
    group_name="example_consumers",
    deps=[segment_key("engaged_enterprise")],
    partitions_def=daily_partitions(settings.start_date),
    pool=WAREHOUSE_POOL,
    kinds={"pandas"},
)
def enterprise_changes(
    context: dg.AssetExecutionContext, segment_tables: SegmentTables
) -> dg.MaterializeResult[Any]:
    """The day's engaged_enterprise arrivals and departures, for the account team's review."""
    day = date.fromisoformat(context.partition_key)
    changes = segment_tables.deltas("engaged_enterprise", day)
    companies = changes[changes["entity_type"] == "company"]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(changes),
            "companies_added": int((companies["change"] == "added").sum()),
            "companies_removed": int((companies["change"] == "removed").sum()),
            "preview": dg.MetadataValue.md(
                companies.head(10).to_markdown(index=False) if len(companies) else "no changes"
            ),
        }
    )


defs = dg.Definitions.merge(
    build_definitions(settings), dg.Definitions(assets=[enterprise_changes])
)
