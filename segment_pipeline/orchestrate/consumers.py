"""Read the pipeline's outputs as pandas DataFrames, in the destinations and in users' assets.

A team building on the segments declares a dependency on `segments/<name>` and asks for
the `segment_tables` resource (SPEC 10)::

    @dg.asset(deps=[segment_key("engaged_enterprise")], partitions_def=..., pool=WAREHOUSE_POOL)
    def enterprise_changes(
        context: dg.AssetExecutionContext, segment_tables: SegmentTables
    ) -> dg.MaterializeResult:
        day = date.fromisoformat(context.partition_key)
        deltas = segment_tables.deltas("engaged_enterprise", day)
        ...

`definitions.py` at the repository root holds a complete example. The resource reads
through the same `WarehouseResource` as the pipeline, so it opens the same warehouse on
the same engine; run such assets in `WAREHOUSE_POOL`, because DuckDB lets one process at a
time hold the file, readers included.

Asking for a day that was never computed is an error, not an empty frame: "no changes"
and "not computed yet" must not look alike to a consumer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import dagster as dg
import pandas as pd
from sqlglot import exp

from segment_pipeline.deliver.feeds import JOURNEY_ENTRANTS
from segment_pipeline.errors import NotMaterialized
from segment_pipeline.evaluate.journeys import ENTRANTS_VIEW
from segment_pipeline.orchestrate.warehouse_resource import WarehouseResource
from segment_pipeline.sql import col, lit
from segment_pipeline.warehouse.engine import Warehouse
from segment_pipeline.warehouse.schema import OUTPUT_TABLES

#: The table that records which segment days were computed, members or not.
RUNS_TABLE = "segment_snapshot_runs"


def _require(warehouse: Warehouse, segment: str, day: date | None) -> None:
    """Raise NotMaterialized unless the segment (on `day`, when given) was computed."""
    where = [col("segment").eq(lit(segment))]
    if day is not None:
        where.append(col("snapshot_date").eq(lit(day)))
    computed = warehouse.table_exists(RUNS_TABLE) and bool(
        warehouse.scalar(exp.select(exp.func("count", exp.Star())).from_(RUNS_TABLE).where(*where))
    )
    if computed:
        return
    when = f" for {day.isoformat()}" if day is not None else ""
    partition = f" partition {day.isoformat()}" if day is not None else ""
    raise NotMaterialized(
        f"segment {segment} has no snapshot{when} yet: materialise segments/{segment}{partition} "
        "first"
    )


def _select(table: str, order: tuple[str, ...], *where: exp.Expr) -> exp.Select:
    columns = [col(name) for name in OUTPUT_TABLES[table]]
    return exp.select(*columns).from_(table).where(*where).order_by(*(col(c) for c in order))


def read_deltas(warehouse: Warehouse, segment: str, day: date) -> pd.DataFrame:
    """The segment's changes on `day` (`segment_deltas` columns), removals first, by entity.

    A contact picked for a company segment carries its company and persona: an added one
    those of the day's snapshot, a removed one those of the snapshot it left. Every other
    row leaves them NULL, a contact segment's own members too: they are not picked contacts.
    """
    _require(warehouse, segment, day)
    query = _select(
        "segment_deltas",
        ("change", "entity_type", "entity_id"),
        col("segment").eq(lit(segment)),
        col("snapshot_date").eq(lit(day)),
    )
    return warehouse.query(query)


def read_entrants(warehouse: Warehouse, journey: str, trigger: str, day: date) -> pd.DataFrame:
    """Who entered `journey` on `day` (`journey_entrants` columns), by entity.

    Enrolment keeps no record of its own runs, so "computed" is judged by the trigger's
    snapshot of the day (a journey day needs it) and by the view existing at all.
    """
    _require(warehouse, trigger, day)
    if not warehouse.table_exists(ENTRANTS_VIEW):
        raise NotMaterialized(
            f"journey {journey} has no enrolments yet: materialise journeys/{journey} "
            f"partition {day.isoformat()} first"
        )
    query = (
        exp.select(*(col(name) for name in JOURNEY_ENTRANTS.columns))
        .from_(ENTRANTS_VIEW)
        .where(col("journey").eq(lit(journey)), col("entered_on").eq(lit(day)))
        .order_by(*(col(name) for name in JOURNEY_ENTRANTS.order))
    )
    return warehouse.query(query)


def read_snapshot(warehouse: Warehouse, segment: str, day: date) -> pd.DataFrame:
    """The segment's members on `day` (`segment_snapshots` columns), by entity."""
    _require(warehouse, segment, day)
    query = _select(
        "segment_snapshots",
        ("entity_type", "entity_id"),
        col("segment").eq(lit(segment)),
        col("snapshot_date").eq(lit(day)),
    )
    return warehouse.query(query)


def read_picked_contacts(warehouse: Warehouse, segment: str, day: date) -> pd.DataFrame:
    """The contacts picked for a company segment on `day` (`segment_snapshots` columns), by
    company, persona rank and contact; empty for a segment without personas. A contact
    segment's members are never among them (`read_snapshot` has those)."""
    _require(warehouse, segment, day)
    query = _select(
        "segment_snapshots",
        ("company_id", "persona_rank", "entity_id"),
        col("segment").eq(lit(segment)),
        col("snapshot_date").eq(lit(day)),
        col("persona").is_(exp.null()).not_(),
    )
    return warehouse.query(query)


def read_history(warehouse: Warehouse, segment: str) -> pd.DataFrame:
    """Every stretch of membership of the segment (`segment_history` columns), by entity."""
    _require(warehouse, segment, None)
    query = _select(
        "segment_history",
        ("entity_type", "entity_id", "added_on"),
        col("segment").eq(lit(segment)),
    )
    return warehouse.query(query)


# ConfigurableResource is generic in its value, which for it is the resource itself:
# subscripting it would make a new pydantic class, so it stays bare.
class SegmentTables(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Segment outputs as DataFrames for downstream assets, read from the pipeline's DuckDB."""

    warehouse: WarehouseResource

    def _read(self, read: Callable[[Warehouse], pd.DataFrame]) -> pd.DataFrame:
        """Run `read` on a fresh connection; a day not computed fails the asset in one sentence."""
        with self.warehouse.open() as warehouse:
            try:
                return read(warehouse)
            except NotMaterialized as error:
                raise dg.Failure(description=str(error), allow_retries=False) from None

    def deltas(self, segment: str, day: date) -> pd.DataFrame:
        """The segment's changes on `day`: who was added or removed, why, and their join time."""
        return self._read(lambda warehouse: read_deltas(warehouse, segment, day))

    def snapshot(self, segment: str, day: date) -> pd.DataFrame:
        """The segment's members on `day`, with join times (and picked contacts' personas)."""
        return self._read(lambda warehouse: read_snapshot(warehouse, segment, day))

    def picked_contacts(self, segment: str, day: date) -> pd.DataFrame:
        """The contacts a company segment's personas picked on `day`, with company and
        persona (a contact segment's members are `snapshot`)."""
        return self._read(lambda warehouse: read_picked_contacts(warehouse, segment, day))

    def history(self, segment: str) -> pd.DataFrame:
        """Every stretch of membership of the segment; `removed_on` is empty while it lasts."""
        return self._read(lambda warehouse: read_history(warehouse, segment))
