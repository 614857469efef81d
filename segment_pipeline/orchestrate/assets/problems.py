"""Definitions that did not load, shown where a person looks: each is an asset of its own.

A mistake in one file leaves out that file's segment (model, journey, destination) and what
depends on it; the rest of the project loads and runs. Each left-out definition keeps its
asset key, with the mistake as its description and a `problems` table (file, path, reason),
and materialising it fails its run with that sentence, so the daily job, a backfill or the
launchpad say what to fix instead of the whole code location failing to load.
"""

from collections.abc import Callable

import dagster as dg
import pandas as pd

from segment_pipeline.definitions.project import Broken
from segment_pipeline.errors import DefinitionError

#: The asset carrying a mistake that belongs to no single definition (sources.yml).
PROJECT_KEY = dg.AssetKey(["project_problems"])


def _table(errors: list[DefinitionError]) -> dg.MetadataValue:
    rows = [{"file": e.file, "path": e.path or "-", "reason": e.reason} for e in errors]
    return dg.MetadataValue.md(pd.DataFrame(rows).to_markdown(index=False))


def _placeholder(
    key: dg.AssetKey,
    group: str,
    sentence: str,
    errors: list[DefinitionError],
    partitions: dg.PartitionsDefinition,
) -> dg.AssetsDefinition:
    metadata = {"not_loaded": sentence, "problems": _table(errors)}
    decorate: Callable[[Callable[..., None]], dg.AssetsDefinition] = dg.multi_asset(
        name="__".join(["not_loaded", *key.path]),
        specs=[
            dg.AssetSpec(
                key, description=sentence, group_name=group, kinds={"sql"}, metadata=metadata
            )
        ],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )

    @decorate
    def not_loaded() -> None:
        """Fails with the definition's mistake."""
        raise dg.Failure(description=sentence, allow_retries=False)

    return not_loaded


def build_problem_assets(
    broken: Broken, partitions: dg.PartitionsDefinition
) -> list[dg.AssetsDefinition]:
    """One failing asset per definition that did not load, under its own key and group."""
    assets = []
    for kind, names in broken.by_kind.items():
        for name, errors in names.items():
            sentence = broken.reason(kind, name) or f"{kind}/{name} is not loaded"
            key = dg.AssetKey([kind, name])
            assets.append(_placeholder(key, kind, sentence, errors, partitions))
    return assets


def build_project_problem(
    errors: list[DefinitionError], partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    """The asset standing for a project that cannot load at all (sources.yml is broken)."""
    sentence = "; ".join(str(error) for error in errors)
    return _placeholder(PROJECT_KEY, "segments", sentence, errors, partitions)
