"""Group `ingest`: the landing zone's files as full-history tables, one partition per day."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd

from segment_pipeline.ingest.audits import orphan_events
from segment_pipeline.ingest.landing import (
    IngestSummary,
    ingest_landing_date,
    require_landing_root,
)
from segment_pipeline.orchestrate.partitions import partition_dates
from segment_pipeline.orchestrate.resources import (
    ProjectResource,
    user_errors,
)
from segment_pipeline.orchestrate.warehouse_resource import (
    WAREHOUSE_POOL,
    WarehouseResource,
    engine_limits,
)

TABLES = {
    "companies_history": ("companies", "Every landed version of every company (SCD2)."),
    "contacts_history": ("contacts", "Every landed version of every contact (SCD2)."),
    "events": ("events", "Every landed event copy; the first copy of an id counts."),
    "quarantine": (None, "Rows that could not be ingested, with file, line and reason."),
}
INGEST_KEYS = {name: dg.AssetKey(["ingest", name]) for name in TABLES}


def _day_table(summaries: list[IngestSummary], source: str | None) -> pd.DataFrame:
    rows = []
    for summary in summaries:
        for name, part in summary.sources.items():
            if source is None or name == source:
                rows.append(
                    {
                        "landed_on": summary.landed_on.isoformat(),
                        "source": name,
                        "files": ", ".join(part.files) or "-",
                        "kept": part.rows_kept,
                        "quarantined": part.rows_quarantined,
                        "ignored columns": ", ".join(part.ignored_columns) or "-",
                    }
                )
    return pd.DataFrame(rows)


def build_ingest_assets(
    partitions: dg.PartitionsDefinition, quarantine_warn_share: float
) -> dg.AssetsDefinition:
    """The ingestion multi-asset with its checks (quarantine share, orphan events)."""

    @dg.multi_asset(
        name="ingest_landing_zone",
        specs=[
            dg.AssetSpec(key, group_name="ingest", kinds={"sql"}, description=TABLES[name][1])
            for name, key in INGEST_KEYS.items()
        ],
        check_specs=[
            dg.AssetCheckSpec(
                "quarantine_share",
                asset=INGEST_KEYS["quarantine"],
                description=f"At most {quarantine_warn_share:.1%} of landed rows quarantined.",
            ),
            dg.AssetCheckSpec(
                "orphan_events",
                asset=INGEST_KEYS["events"],
                description="Events of contacts never seen in the CRM.",
            ),
        ],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
    )
    def ingest_landing_zone(
        context: dg.AssetExecutionContext, project: ProjectResource, engine: WarehouseResource
    ) -> Iterator[dg.MaterializeResult[Any] | dg.AssetCheckResult]:
        """Ingest each landing date of the run, in date order, replacing what it held."""
        sources = project.sources()
        days = partition_dates(context)
        with user_errors():
            require_landing_root(project.landing)
        with user_errors(), engine.open(sources) as warehouse:
            summaries = [
                ingest_landing_date(warehouse, sources, project.landing, day) for day in days
            ]
            orphans = orphan_events(warehouse, days)
            limits = engine_limits(warehouse)
        for name, key in INGEST_KEYS.items():
            source = TABLES[name][0]
            table = _day_table(summaries, source)
            count_column = "quarantined" if source is None else "kept"
            total = int(table[count_column].sum()) if len(table) else 0
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "dagster/row_count": total,
                    "days": dg.MetadataValue.md(
                        table.to_markdown(index=False) if len(table) else "-"
                    ),
                    **limits,
                },
            )
        read = sum(s.rows_kept + s.rows_quarantined for s in summaries)
        quarantined = sum(s.rows_quarantined for s in summaries)
        share = quarantined / read if read else 0.0
        yield dg.AssetCheckResult(
            asset_key=INGEST_KEYS["quarantine"],
            check_name="quarantine_share",
            passed=share <= quarantine_warn_share,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"quarantined": quarantined, "rows_read": read, "share": share},
        )
        yield dg.AssetCheckResult(
            asset_key=INGEST_KEYS["events"],
            check_name="orphan_events",
            passed=orphans == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"orphan_events": orphans},
        )

    return ingest_landing_zone
