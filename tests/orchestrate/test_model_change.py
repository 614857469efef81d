"""Editing a model's SQL: the model, the models reading it and the segments using them change
code version (the UI shows them stale); nothing else does."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from sqlglot import exp

from segment_pipeline.orchestrate.assets.destinations import destination_key
from segment_pipeline.orchestrate.assets.models import model_key
from segment_pipeline.orchestrate.assets.segments import segment_key
from segment_pipeline.orchestrate.automation import DAILY_JOB
from segment_pipeline.sql import col, lit
from segment_pipeline.warehouse import Warehouse

from .conftest import DAYS, make_pipeline

LATEST = DAYS[-1]
#: An evaluation time at which LATEST is the latest complete partition.
NOW = datetime(2026, 1, 4, 2, 0, tzinfo=UTC)


def _versions(defs: dg.Definitions) -> dict[str, str | None]:
    return {"/".join(spec.key.path): spec.code_version for spec in defs.resolve_all_asset_specs()}


def test_a_model_edit_marks_its_dependents_stale(tmp_path: Path, landing: Path) -> None:
    pipeline = make_pipeline(tmp_path, landing, "http://127.0.0.1:9/unused")
    before = _versions(pipeline.definitions())
    model = pipeline.project / "models" / "company_fit.sql"
    # A comment or a layout change is not an edit.
    model.write_text("-- reworded\n" + model.read_text().replace("    ", "  "))
    assert _versions(pipeline.definitions()) == before
    model.write_text(model.read_text().replace("then 35", "then 30"))
    after = _versions(pipeline.definitions())
    changed = {key for key in before if before[key] != after[key]}
    assert changed == {
        "models/company_fit",
        "models/fit_tiers",
        "segments/top_fit_accounts",
        "segments/tier_a_leaders",
    }


@pytest.mark.slow
def test_the_automation_recalculates_the_latest_day_after_a_model_edit(
    tmp_path: Path, landing: Path
) -> None:
    pipeline = make_pipeline(tmp_path, landing, "http://127.0.0.1:9/unused")
    with dg.instance_for_test() as instance:
        before = pipeline.definitions()
        for day in DAYS[-2:]:
            run = before.resolve_job_def(DAILY_JOB).execute_in_process(
                partition_key=day.isoformat(), instance=instance
            )
            assert run.success
        tick = dg.evaluate_automation_conditions(
            defs=before, instance=instance, evaluation_time=NOW
        )
        model = pipeline.project / "models" / "company_fit.sql"
        model.write_text(model.read_text().replace("then 35", "then 30"))
        after = pipeline.definitions()
        tick = dg.evaluate_automation_conditions(
            defs=after, instance=instance, evaluation_time=NOW, cursor=tick.cursor
        )
        requested = {
            key
            for key in after.resolve_asset_graph().get_all_asset_keys()
            if tick.get_requested_partitions(key)
        }
        edited = {model_key("company_fit"), model_key("fit_tiers")}
        readers = {segment_key("top_fit_accounts"), segment_key("tier_a_leaders")}
        assert edited | readers <= requested
        assert not {key for key in requested if key.path[0] == "segments"} - readers
        assert all(tick.get_requested_partitions(key) == {LATEST.isoformat()} for key in requested)
        recalculated = after.resolve_job_def(DAILY_JOB).execute_in_process(
            partition_key=LATEST.isoformat(),
            instance=instance,
            asset_selection=sorted(requested - {destination_key("crm_webhook")}),
        )
        assert recalculated.success
    query = (
        exp.select("snapshot_date", "version")
        .from_("model_runs")
        .where(col("model").eq(lit("company_fit")))
    )
    with Warehouse.open(pipeline.settings.warehouse_settings, read_only=True) as warehouse:
        runs = warehouse.rows(query)
    # Both days recomputed with the new SQL: the earlier one too.
    new_version = after.resolve_assets_def(model_key("company_fit")).code_versions_by_key[
        model_key("company_fit")
    ]
    assert sorted(runs) == [(day, new_version) for day in DAYS[-2:]]
