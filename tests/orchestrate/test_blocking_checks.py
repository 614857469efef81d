"""The segment checks guard what is downstream: a day that fails one is not exported, and
the automation sensor does not hand it to a webhook.

The inconsistency is planted where a real one would hide: a member in the previous day's
kept state (`membership_states`) with a join time in the future. The next day starts from
that state, carries the member forward, and its snapshot fails `joined_at_not_after_as_of`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import dagster as dg
from sqlglot import exp

from segment_pipeline.evaluate.states import STATES
from segment_pipeline.orchestrate.assets.destinations import destination_key
from segment_pipeline.orchestrate.assets.segments import segment_key
from segment_pipeline.sql import col, lit
from segment_pipeline.warehouse import Warehouse

from .conftest import DAYS, Pipeline, materialize_range

DAY = date(2026, 1, 4)
SEGMENT = "high_fit_accounts"
GHOST = "planted_ghost"
EXPORTS = destination_key("exports")
WEBHOOK = destination_key("crm_webhook")


def _plant_future_member(pipeline: Pipeline) -> None:
    with Warehouse.open(pipeline.settings.warehouse_settings) as warehouse:
        version = warehouse.scalar(
            exp.select("definition_version")
            .from_(STATES)
            .where(col("segment").eq(lit(SEGMENT)))
            .where(col("snapshot_date").eq(lit(DAYS[-1])))
            .limit(1)
        )
        assert version is not None
        row = exp.select(
            lit(SEGMENT), lit(str(version)), lit(DAYS[-1]), lit(GHOST), lit(datetime(2030, 1, 1))
        )
        warehouse.execute(exp.insert(row, STATES))


def _remove_planted_member(pipeline: Pipeline) -> None:
    with Warehouse.open(pipeline.settings.warehouse_settings) as warehouse:
        warehouse.execute(exp.delete(STATES, where=col("entity_id").eq(lit(GHOST))))


def _daily_keys(defs: dg.Definitions) -> list[dg.AssetKey]:
    """What the daily job materialises: ingest, segments, CSV exports (no webhooks)."""
    return [key for key in defs.resolve_asset_graph().get_all_asset_keys() if key != WEBHOOK]


def _webhook_requested(defs: dg.Definitions, instance: dg.DagsterInstance, cursor=None):
    evaluated = dg.evaluate_automation_conditions(
        defs=defs,
        instance=instance,
        asset_selection=dg.AssetSelection.assets(WEBHOOK),
        evaluation_time=datetime.combine(DAY + timedelta(days=1), time(2), tzinfo=UTC),
        cursor=cursor,
    )
    return evaluated.get_requested_partitions(WEBHOOK), evaluated.cursor


def test_a_day_that_fails_a_check_is_neither_exported_nor_delivered(pipeline: Pipeline):
    _plant_future_member(pipeline)
    defs = pipeline.definitions()
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize_range(defs, _daily_keys(defs), DAY, DAY, instance=instance)

        assert not result.success
        checks = {
            evaluation.check_name: evaluation.passed
            for evaluation in result.get_asset_check_evaluations()
            if evaluation.asset_key == segment_key(SEGMENT)
        }
        assert checks["joined_at_not_after_as_of"] is False
        materialized = {event.asset_key for event in result.get_asset_materialization_events()}
        assert segment_key(SEGMENT) in materialized
        assert EXPORTS not in materialized
        assert not list(pipeline.csv_dir.glob(f"*/{DAY}.csv"))
        requested, cursor = _webhook_requested(defs, instance)
        assert DAY.isoformat() not in requested

        # The same day once its state is repaired: exported, and handed to the webhook.
        _remove_planted_member(pipeline)
        result = materialize_range(defs, _daily_keys(defs), DAY, DAY, instance=instance)
        assert result.success
        assert list(pipeline.csv_dir.glob(f"*/{DAY}.csv"))
        requested, _ = _webhook_requested(defs, instance, cursor)
        assert requested == {DAY.isoformat()}
