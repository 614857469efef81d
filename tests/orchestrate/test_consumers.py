"""Downstream users' view: `SegmentTables` and the example asset in definitions.py."""

from __future__ import annotations

import runpy
from datetime import date

import dagster as dg
import pandas as pd
import pytest

from segment_pipeline.orchestrate.consumers import SegmentTables
from segment_pipeline.orchestrate.warehouse_resource import WarehouseResource
from segment_pipeline.sql import lit, template
from segment_pipeline.warehouse import Warehouse

from .conftest import DAYS, REPO, Pipeline, failure_description

EXAMPLE = dg.AssetKey(["example_consumers", "enterprise_changes"])


def _tables(pipeline: Pipeline) -> SegmentTables:
    return SegmentTables(warehouse=WarehouseResource(path=str(pipeline.settings.warehouse)))


def _direct(pipeline: Pipeline, sql: str, **values: object) -> pd.DataFrame:
    """The same rows, straight from the table (order aside)."""
    with Warehouse.open(pipeline.settings.warehouse_settings) as warehouse:
        literals = {name: lit(value) for name, value in values.items()}  # type: ignore[arg-type]
        return warehouse.query(template(sql, **literals))


def _same_rows(left: pd.DataFrame, right: pd.DataFrame) -> None:
    assert list(left.columns) == list(right.columns)
    ordered = [
        frame.sort_values(list(frame.columns)).reset_index(drop=True) for frame in (left, right)
    ]
    pd.testing.assert_frame_equal(*ordered)


@pytest.mark.parametrize("segment", ["engaged_enterprise", "engaged_trials", "january_trials"])
def test_segment_tables_return_the_table_rows(pipeline: Pipeline, segment: str) -> None:
    tables = _tables(pipeline)
    day = DAYS[-1]
    _same_rows(
        tables.deltas(segment, day),
        _direct(
            pipeline,
            "select * from segment_deltas where segment = :s and snapshot_date = :d",
            s=segment,
            d=day,
        ),
    )
    snapshot = tables.snapshot(segment, day)
    assert len(snapshot) > 0
    _same_rows(
        snapshot,
        _direct(
            pipeline,
            "select * from segment_snapshots where segment = :s and snapshot_date = :d",
            s=segment,
            d=day,
        ),
    )
    _same_rows(
        tables.history(segment),
        _direct(pipeline, "select * from segment_history where segment = :s", s=segment),
    )


def test_a_day_never_computed_is_an_error_not_an_empty_frame(pipeline: Pipeline) -> None:
    with pytest.raises(
        dg.Failure, match=r"^segment engaged_enterprise has no snapshot for 2026-01-04"
    ):
        _tables(pipeline).deltas("engaged_enterprise", date(2026, 1, 4))


def _example_defs(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> dg.Definitions:
    for name, value in {
        "PROJECT_DIR": pipeline.project,
        "LANDING_DIR": pipeline.settings.landing_dir,
        "WAREHOUSE": pipeline.settings.warehouse,
        "START_DATE": pipeline.settings.start_date,
    }.items():
        monkeypatch.setenv(f"SEGMENT_PIPELINE_{name}", str(value))
    return runpy.run_path(str(REPO / "definitions.py"))["defs"]


def test_example_consumer_materialises(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    defs = _example_defs(pipeline, monkeypatch)
    day = DAYS[0]
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        asset_selection=[EXAMPLE],
        partition_key=day.isoformat(),
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    changes = _tables(pipeline).deltas("engaged_enterprise", day)
    companies = changes[changes["entity_type"] == "company"]
    assert metadata["dagster/row_count"].value == len(changes) > 0
    assert metadata["companies_added"].value == (companies["change"] == "added").sum()


def test_example_consumer_before_its_segment_fails_in_one_sentence(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    defs = _example_defs(pipeline, monkeypatch)
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        asset_selection=[EXAMPLE],
        partition_key="2026-01-04",
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    assert failure_description(result) == (
        "segment engaged_enterprise has no snapshot for 2026-01-04 yet: "
        "materialise segments/engaged_enterprise partition 2026-01-04 first"
    )
