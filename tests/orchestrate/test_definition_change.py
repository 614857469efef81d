"""Editing a segment's YAML: a new code version, the latest day requested, recalculated.

The automation sensor evaluates the same conditions as `dg.evaluate_automation_conditions`,
tick after tick with a cursor; here the first tick sees the shipped definitions, the
second the edited ones.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest
from sqlglot import exp

from segment_pipeline.orchestrate.assets.destinations import destination_key
from segment_pipeline.orchestrate.assets.journeys import journey_key
from segment_pipeline.orchestrate.assets.segments import segment_key
from segment_pipeline.orchestrate.automation import DAILY_JOB
from segment_pipeline.sql import col, lit
from segment_pipeline.warehouse import Warehouse

from .conftest import DAYS, Pipeline, make_pipeline

LATEST = DAYS[-1]
#: An evaluation time at which LATEST is the latest complete partition.
NOW = datetime(2026, 1, 4, 2, 0, tzinfo=UTC)
EDITED = "high_fit_accounts"
#: Segments whose definition references EDITED, directly or through another segment.
REFERENCING = {"engaged_trials", "demo_requesters"}


def _versions(defs: dg.Definitions) -> dict[str, str | None]:
    return {
        spec.key.path[-1]: spec.code_version
        for spec in defs.resolve_all_asset_specs()
        if spec.key.path[0] == "segments"
    }


def _stored_versions(pipeline: Pipeline, segment: str, day: date) -> set[str]:
    query = (
        exp.select(col("definition_version"))
        .distinct()
        .from_("segment_snapshot_runs")
        .where(col("segment").eq(lit(segment)), col("snapshot_date").eq(lit(day)))
    )
    with Warehouse.open(pipeline.settings.warehouse_settings, read_only=True) as warehouse:
        return {str(row[0]) for row in warehouse.rows(query)}


@pytest.mark.slow
def test_edited_definition_is_recalculated(tmp_path: Path, landing: Path) -> None:
    pipeline = make_pipeline(tmp_path, landing, "http://127.0.0.1:9/unused")
    with dg.instance_for_test() as instance:
        before = pipeline.definitions()
        first = before.resolve_job_def(DAILY_JOB).execute_in_process(
            partition_key=LATEST.isoformat(), instance=instance
        )
        assert first.success
        tick = dg.evaluate_automation_conditions(
            defs=before, instance=instance, evaluation_time=NOW
        )
        assert not any(tick.get_num_requested(segment_key(name)) for name in _versions(before)), (
            "nothing changed yet"
        )

        file = pipeline.project / "segments" / f"{EDITED}.yml"
        file.write_text(file.read_text().replace("BETWEEN 50 AND 20000", "BETWEEN 100 AND 20000"))
        after = pipeline.definitions()

        old, new = _versions(before), _versions(after)
        changed = {name for name in new if new[name] != old[name]}
        assert changed == {EDITED, *REFERENCING}
        stored = instance.get_latest_materialization_code_versions(
            [segment_key(name) for name in changed]
        )
        assert all(stored[segment_key(name)] == old[name] for name in changed), "UI shows stale"

        tick = dg.evaluate_automation_conditions(
            defs=after, instance=instance, evaluation_time=NOW, cursor=tick.cursor
        )
        requested = {
            key
            for key in after.resolve_asset_graph().get_all_asset_keys()
            if tick.get_requested_partitions(key)
        }
        assert requested == {
            *(segment_key(name) for name in changed),
            journey_key("trial_nurture"),  # its trigger engaged_trials references EDITED
            destination_key("exports"),
            destination_key("crm_webhook"),
        }
        assert all(tick.get_requested_partitions(key) == {LATEST.isoformat()} for key in requested)

        recalculated = after.resolve_job_def(DAILY_JOB).execute_in_process(
            partition_key=LATEST.isoformat(),
            instance=instance,
            asset_selection=sorted(requested - {destination_key("crm_webhook")}),
        )
        assert recalculated.success
        for name in changed:
            assert _stored_versions(pipeline, name, LATEST) == {new[name]}
        assert _stored_versions(pipeline, "engaged_enterprise", LATEST) == {
            old["engaged_enterprise"]
        }
        assert instance.get_latest_materialization_code_versions(
            [segment_key(name) for name in changed]
        ) == {segment_key(name): new[name] for name in changed}
