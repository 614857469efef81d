"""The whole user project loaded at once: sources, models, segments, journeys, destinations.

Loading never stops at the first mistake: every file is read and every problem collected,
then raised together as `ProjectInvalid`, so a person fixes them all in one go
(`load_project`, what `validate` runs), or kept beside the part that loads
(`load_usable_project`, what Dagster runs, so one bad file does not stop the others).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Broken:
    """What did not load, by kind (`segments`, `models`, `journeys`, `destinations`) and
    name, each with the sentences saying why; `errors` is every mistake, as `validate`
    reports them (a definition left out only because it depends on a broken one is in
    `by_kind`, not in `errors`)."""

    errors: list[DefinitionError] = field(default_factory=list)
    by_kind: dict[str, dict[str, list[DefinitionError]]] = field(default_factory=dict)

    def reason(self, kind: str, name: str) -> str | None:
        """Why `kind/name` did not load, in one sentence, or None when it loaded."""
        reasons = self.by_kind.get(kind, {}).get(name)
        if not reasons:
            return None
        return f"{kind}/{name} is not loaded: {'; '.join(map(str, reasons))}"


def load_project(project_dir: Path) -> Project:
    """Load and validate everything under `project_dir`.

    Raises:
        ConfigError: the directory does not exist.
        ProjectInvalid: with every `DefinitionError` found.
    """
    project, broken = load_usable_project(project_dir)
    if broken.errors:
        raise ProjectInvalid(broken.errors)
    return project


def load_usable_project(project_dir: Path) -> tuple[Project, Broken]:
    """The part of the project that loads, and what does not with why.

    A mistake in one file leaves out that file's definition and those depending on it;
    everything else loads, so one bad segment does not stop the others.

    Raises:
        ConfigError: the directory does not exist.
        ProjectInvalid: sources.yml has a mistake (nothing can be read without it).
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
    broken = Broken()
    models, errors = load_models(project_dir, sources)
    model_files = sorted((project_dir / "models").glob("**/*.sql"))
    _mark(broken, "models", {f.stem: f for f in model_files if f.stem not in models}, errors)
    loaded, declared, files = _load_segments(project_dir, sources, models, errors)
    _, reference_errors = check_references(loaded, declared, sources.contacts_have_company)
    errors.extend(reference_errors)
    usable = _usable_segments(loaded, files, errors, broken)
    order, _ = check_references(usable, declared, sources.contacts_have_company)
    loaded_journeys = _load_journeys(project_dir, declared, errors)
    journeys = _usable_journeys(loaded_journeys, usable, errors, broken)
    destinations, destination_errors = load_destinations(
        project_dir / "destinations.yml", set(declared), set(loaded_journeys)
    )
    errors.extend(destination_errors)
    destinations = _usable_destinations(destinations, usable, journeys, destination_errors, broken)
    broken.errors.extend(errors)
    project = Project(
        directory=project_dir,
        sources=sources,
        segments=_with_versions(usable, order, models),
        journeys=journeys,
        destinations=destinations,
        models=models,
    )
    return project, broken


def _mark(broken: Broken, kind: str, names: dict[str, Path], errors: list[DefinitionError]) -> None:
    """Record `names` (name: file) as broken, with their files' mistakes as reasons."""
    for name, file in names.items():
        reasons = [error for error in errors if Path(error.file) == file]
        broken.by_kind.setdefault(kind, {})[name] = reasons or [
            DefinitionError(file, "", "depends on a definition with a mistake")
        ]


def _usable_segments(
    loaded: dict[str, Segment],
    files: dict[str, Path],
    errors: list[DefinitionError],
    broken: Broken,
) -> dict[str, Segment]:
    """The loaded segments whose files have no mistake and whose references all load."""
    with_errors = {Path(error.file) for error in errors}
    bad = {name: file for name, file in files.items() if name not in loaded or file in with_errors}
    _mark(broken, "segments", bad, errors)
    usable = {name: segment for name, segment in loaded.items() if name not in bad}
    changed = True
    while changed:
        changed = False
        for name, segment in list(usable.items()):
            missing = [ref for ref in segment.references if ref not in usable]
            if missing:
                del usable[name]
                changed = True
                broken.by_kind.setdefault("segments", {})[name] = [
                    DefinitionError(
                        segment.file,
                        "where",
                        f"refers to segment {missing[0]}, which is not loaded; "
                        f"fix {files.get(missing[0], 'its file')}",
                    )
                ]
    return usable


def _usable_journeys(
    journeys: dict[str, Journey],
    segments: dict[str, Segment],
    errors: list[DefinitionError],
    broken: Broken,
) -> dict[str, Journey]:
    with_errors = {Path(error.file) for error in errors}
    usable: dict[str, Journey] = {}
    for name, journey in journeys.items():
        if Path(journey.file) in with_errors:
            _mark(broken, "journeys", {name: Path(journey.file)}, errors)
        elif journey.trigger_segment not in segments:
            broken.by_kind.setdefault("journeys", {})[name] = [
                DefinitionError(
                    journey.file,
                    "trigger_segment",
                    f"segment {journey.trigger_segment} is not loaded; fix its file",
                )
            ]
        else:
            usable[name] = journey
    return usable


def _usable_destinations(
    destinations: tuple[Destination, ...],
    segments: dict[str, Segment],
    journeys: dict[str, Journey],
    errors: list[DefinitionError],
    broken: Broken,
) -> tuple[Destination, ...]:
    """Destinations without a mistake of their own, naming only segments and journeys that
    load."""
    usable: list[Destination] = []
    for destination in destinations:
        missing = [
            f"segment {name}" for name in destination.segments or () if name not in segments
        ] + [f"journey {name}" for name in destination.journeys if name not in journeys]
        if missing:
            broken.by_kind.setdefault("destinations", {})[destination.name] = [
                DefinitionError(
                    "destinations.yml",
                    destination.name,
                    f"{missing[0]} is not loaded; fix its file",
                )
            ]
        else:
            usable.append(destination)
    return tuple(usable)


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
) -> tuple[dict[str, Segment], dict[str, EntityType | None], dict[str, Path]]:
    """Segments without mistakes, every declared name (even with mistakes) with its
    entity, and every declared name's file."""
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
    declared = {name: result.entity for name, result in seen.items()}
    return loaded, declared, {name: result.file for name, result in seen.items()}


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
