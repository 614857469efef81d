"""Editing a model's SQL: the model, the models reading it and the segments using them change
code version (the UI shows them stale); nothing else does."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from .conftest import make_pipeline


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
