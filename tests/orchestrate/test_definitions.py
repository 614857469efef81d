"""The definitions load, and the asset graph matches the reviewed snapshot.

`asset_graph.txt` lists every asset of `definitions.py` over the shipped project with its
group, kinds, automation, whether the daily job runs it, and its dependencies, so a change
to the graph shows up in review. After an intended change, regenerate it with
`UPDATE_ASSET_GRAPH=1 pytest tests/orchestrate/test_definitions.py`.
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path

import dagster as dg
import pytest

from segment_pipeline.orchestrate.assets.destinations import destination_key
from segment_pipeline.orchestrate.automation import DAILY_JOB

from .conftest import EXAMPLE_PROJECT, REPO

SNAPSHOT = Path(__file__).with_name("asset_graph.txt")
HEADER = """\
# Asset graph of definitions.py over the shipped dbt_like_sql project.
# Regenerate after an intended change: UPDATE_ASSET_GRAPH=1 pytest tests/orchestrate
"""


@pytest.fixture
def shipped_defs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dg.Definitions:
    """`definitions.py` as `dagster dev` loads it, on the shipped project."""
    monkeypatch.setenv("SEGMENT_PIPELINE_PROJECT_DIR", str(EXAMPLE_PROJECT))
    monkeypatch.setenv("SEGMENT_PIPELINE_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("SEGMENT_PIPELINE_START_DATE", "2026-01-01")
    return runpy.run_path(str(REPO / "definitions.py"))["defs"]


def _dependency(dep: dg.AssetDep) -> str:
    mapping = dep.partition_mapping
    if isinstance(mapping, dg.TimeWindowPartitionMapping):
        note = f" (partition offset {mapping.start_offset})"
    else:
        note = "" if mapping is None else f" ({type(mapping).__name__})"
    return f"  <- {dep.asset_key.to_user_string()}{note}"


def graph_text(defs: dg.Definitions) -> str:
    """One stable block per asset, sorted by key."""
    in_job = defs.resolve_job_def(DAILY_JOB).asset_layer.selected_asset_keys
    blocks = []
    for spec in sorted(defs.resolve_all_asset_specs(), key=lambda s: s.key.to_user_string()):
        condition = spec.automation_condition
        automation = condition.get_label() if condition is not None else None
        line = (
            f"{spec.key.to_user_string()}  group={spec.group_name}"
            f" kinds={','.join(sorted(spec.kinds))}"
            f" daily_job={'yes' if spec.key in in_job else 'no'}"
            f" automation={automation or '-'}"
        )
        deps = sorted(_dependency(dep) for dep in spec.deps)
        blocks.append("\n".join([line, *deps]))
    return HEADER + "\n".join(blocks) + "\n"


def test_definitions_load(shipped_defs: dg.Definitions) -> None:
    dg.Definitions.validate_loadable(shipped_defs)
    assert shipped_defs.resolve_job_def(DAILY_JOB).partitions_def is not None
    assert set(shipped_defs.resources) >= {"project", "engine", "segment_tables"}


def test_asset_graph_matches_snapshot(shipped_defs: dg.Definitions) -> None:
    text = graph_text(shipped_defs)
    if os.environ.get("UPDATE_ASSET_GRAPH") == "1":
        SNAPSHOT.write_text(text)
    assert SNAPSHOT.read_text() == text, (
        "the asset graph changed: review the diff, then regenerate asset_graph.txt with "
        "UPDATE_ASSET_GRAPH=1"
    )


def test_webhooks_are_left_to_the_automation_sensor(shipped_defs: dg.Definitions) -> None:
    """The daily job exports CSV but never POSTs; the sensor watches every destination."""
    in_job = shipped_defs.resolve_job_def(DAILY_JOB).asset_layer.selected_asset_keys
    assert destination_key("exports") in in_job
    assert destination_key("crm_webhook") not in in_job
    sensor = shipped_defs.resolve_sensor_def("segment_definition_changes")
    assert isinstance(sensor, dg.AutomationConditionSensorDefinition)
    watched = sensor.asset_selection.resolve(shipped_defs.resolve_asset_graph())
    assert {destination_key("exports"), destination_key("crm_webhook")} <= watched
