"""One bad file does not stop the others: the code location loads, ingestion and every
segment not depending on the broken file run, and the broken ones fail with the mistake."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from segment_pipeline.definitions.validate import validate_project
from segment_pipeline.orchestrate.assets.ingest import INGEST_KEYS
from segment_pipeline.orchestrate.assets.segments import segment_key

from .conftest import DAYS, make_pipeline, materialize_range

BROKEN = "pro_plan_lookers"
DEPENDENT = "pro_plan_lookers_holdout"  # in_segment: pro_plan_lookers
FINE = "engaged_enterprise"


def _break(project: Path) -> Path:
    file = project / "segments" / f"{BROKEN}.yml"
    file.write_text("entity: contact\nwhere: [unclosed\n")
    return file


def test_a_broken_segment_file_leaves_the_rest_running(tmp_path: Path, landing: Path) -> None:
    pipeline = make_pipeline(tmp_path, landing, "http://127.0.0.1:9/unused")
    file = _break(pipeline.project)

    defs = pipeline.definitions()  # loads: the mistake does not fail the code location
    graph = defs.resolve_asset_graph()
    broken = graph.get(segment_key(BROKEN))
    assert str(file) in (broken.description or "")
    assert "not loaded" in (broken.description or "")
    assert f"refers to segment {BROKEN}" in (graph.get(segment_key(DEPENDENT)).description or "")
    assert "problems" in broken.metadata

    keys = [INGEST_KEYS["events"], segment_key(FINE), segment_key(BROKEN)]
    result = materialize_range(defs, [*graph.get_all_asset_keys()], DAYS[0], DAYS[0])
    assert not result.success
    materialised = {
        event.asset_key
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
    }
    assert {keys[0], keys[1]} <= materialised
    assert segment_key(BROKEN) not in materialised
    assert segment_key(DEPENDENT) not in materialised
    failures = [
        event.step_failure_data.user_failure_data.description
        for event in result.all_events
        if event.is_step_failure and event.step_failure_data.user_failure_data
    ]
    assert any(
        description.startswith(f"segments/{BROKEN} is not loaded: {file}")
        for description in failures
    ), failures

    project, lines = validate_project(pipeline.project)
    assert project is None
    assert any(line.startswith(str(file)) for line in lines), lines
