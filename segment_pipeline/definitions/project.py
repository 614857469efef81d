"""The whole user project loaded at once: sources, models, segments, journeys, destinations.

Loading never stops at the first mistake: every file is read and every problem collected,
then raised together as `ProjectInvalid`, so a person fixes them all in one go.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from segment_pipeline.definitions.destination_files import load_destinations
from segment_pipeline.definitions.destinations import Destination
from segment_pipeline.definitions.journeys import Journey, load_journey
from segment_pipeline.definitions.models import Model, load_models
from segment_pipeline.definitions.references import check_references
from segment_pipeline.definitions.segments import Segment, SegmentFile, load_segment
from segment_pipeline.definitions.sources import EntityType, Sources, load_sources
from segment_pipeline.definitions.yaml_files import did_you_mean
from segment_pipeline.errors import ConfigError, DefinitionError, ProjectInvalid


class Project(BaseModel):
    """A valid project. `segments` is in dependency order: referenced segments first."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    directory: Path
    sources: Sources
    segments: dict[str, Segment]
    journeys: dict[str, Journey]
    destinations: tuple[Destination, ...]
    models: dict[str, Model]


def load_project(project_dir: Path) -> Project:
    """Load and validate everything under `project_dir`.

    Raises:
        ConfigError: the directory does not exist.
        ProjectInvalid: with every `DefinitionError` found.
    """
    if not project_dir.is_dir():
        raise ConfigError(
            f"project directory {project_dir} does not exist "
            "(set --project-dir or SEGMENT_PIPELINE_PROJECT_DIR)"
        )
    try:
        sources = load_sources(project_dir)
    except DefinitionError as error:
        raise ProjectInvalid([error]) from error
    models, errors = load_models(project_dir, sources)
    loaded, declared = _load_segments(project_dir, sources, models, errors)
    order, reference_errors = check_references(loaded, declared, sources.contacts_have_company)
    errors.extend(reference_errors)
    journeys = _load_journeys(project_dir, declared, errors)
    destinations, destination_errors = load_destinations(
        project_dir / "destinations.yml", set(declared)
    )
    errors.extend(destination_errors)
    if errors:
        raise ProjectInvalid(errors)
    return Project(
        directory=project_dir,
        sources=sources,
        segments=_with_versions(loaded, order, models),
        journeys=journeys,
        destinations=destinations,
        models=models,
    )


def definition_files(directory: Path) -> list[Path]:
    """`*.yml` and `*.yaml` files of a directory, sorted by name."""
    if not directory.is_dir():
        return []
    return sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")])


def _load_segments(
    project_dir: Path,
    sources: Sources,
    models: dict[str, Model],
    errors: list[DefinitionError],
) -> tuple[dict[str, Segment], dict[str, EntityType | None]]:
    """Segments without mistakes, and every declared name (even with mistakes)."""
    loaded: dict[str, Segment] = {}
    seen: dict[str, SegmentFile] = {}
    for file in definition_files(project_dir / "segments"):
        result = load_segment(file, sources, models)
        errors.extend(result.errors)
        if result.name in seen:
            errors.append(
                DefinitionError(
                    file,
                    "name",
                    f"segment name {result.name} is already used by {seen[result.name].file}",
                )
            )
            continue
        seen[result.name] = result
        if result.segment is not None:
            loaded[result.name] = result.segment
    return loaded, {name: result.entity for name, result in seen.items()}


def _load_journeys(
    project_dir: Path, segments: Iterable[str], errors: list[DefinitionError]
) -> dict[str, Journey]:
    names = set(segments)
    journeys: dict[str, Journey] = {}
    for file in definition_files(project_dir / "journeys"):
        journey, journey_errors = load_journey(file)
        errors.extend(journey_errors)
        if journey is None:
            continue
        if journey.name in journeys:
            errors.append(
                DefinitionError(
                    file,
                    "name",
                    f"journey name {journey.name} is already used by {journeys[journey.name].file}",
                )
            )
            continue
        if journey.trigger_segment not in names:
            errors.append(
                DefinitionError(
                    file,
                    "trigger_segment",
                    f"unknown segment {journey.trigger_segment!r}"
                    f"{did_you_mean(journey.trigger_segment, names)}",
                )
            )
        journeys[journey.name] = journey
    return journeys


def _with_versions(
    segments: dict[str, Segment], order: list[str], models: dict[str, Model]
) -> dict[str, Segment]:
    """Segments in dependency order, each carrying the versions of what it refers to."""
    final: dict[str, Segment] = {}
    versions: dict[str, str] = {}
    for name in order:
        segment = segments[name]
        segment = segment.model_copy(
            update={
                "reference_versions": tuple((ref, versions[ref]) for ref in segment.references),
                "model_versions": tuple((model, models[model].version) for model in segment.models),
            }
        )
        final[name] = segment
        versions[name] = segment.version
    return final
