"""A real `dagster dev` on a project with one broken segment file: the code location loads
and the UI shows the mistake (file and reason) on the broken segment's asset."""

from __future__ import annotations

from pathlib import Path

import pytest

from .server import SETTINGS, running_dagster_dev

pytestmark = pytest.mark.e2e

ASSET_QUERY = """
query Asset($path: [String!]!) {
  assetNodeOrError(assetKey: {path: $path}) {
    __typename
    ... on AssetNode { description }
  }
}
"""


def _break(project: Path) -> None:
    segments = project / SETTINGS["SEGMENT_PIPELINE_PROJECT_DIR"] / "segments"
    (segments / "pro_plan_lookers.yml").write_text("entity: contact\nwhere: [unclosed\n")


def test_the_ui_shows_a_broken_file_and_loads_the_rest(tmp_path: Path) -> None:
    with running_dagster_dev(tmp_path, prepare=_break) as server:
        broken = server.graphql(ASSET_QUERY, {"path": ["segments", "pro_plan_lookers"]})
        fine = server.graphql(ASSET_QUERY, {"path": ["segments", "engaged_enterprise"]})
    node = broken["assetNodeOrError"]
    assert node["__typename"] == "AssetNode", node
    assert node["description"].startswith("segments/pro_plan_lookers is not loaded: ")
    assert "segments/pro_plan_lookers.yml" in node["description"]
    assert fine["assetNodeOrError"]["__typename"] == "AssetNode"
