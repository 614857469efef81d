"""Loading `destinations.yml` (SPEC 4.3) into `Destination` models, every mistake reported.

Each list item is validated on its own against the model its `type` names, so a mistake
reads `[1].url: ...` rather than pydantic's list of every union member it tried.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from pydantic import ValidationError

from segment_pipeline.definitions.destinations import (
    CsvDestination,
    Destination,
    WebhookDestination,
)
from segment_pipeline.definitions.yaml_files import (
    did_you_mean,
    join_path,
    kind_of,
    read_yaml,
    show,
    validation_errors,
)
from segment_pipeline.errors import DefinitionError

DESTINATION_TYPES: dict[str, type[WebhookDestination] | type[CsvDestination]] = {
    "webhook": WebhookDestination,
    "csv": CsvDestination,
}


def _unknown(
    file: Path, path: str, kind: str, names: tuple[str, ...], known: Collection[str]
) -> list[DefinitionError]:
    """A mistake for each name under `<path>.<kind>s` that is not one of `known`."""
    return [
        DefinitionError(
            file,
            join_path(join_path(path, f"{kind}s"), position),
            f"unknown {kind} {name!r}{did_you_mean(name, known)}",
        )
        for position, name in enumerate(names)
        if name not in known
    ]


def load_destinations(
    file: Path, segments: Collection[str], journeys: Collection[str]
) -> tuple[tuple[Destination, ...], list[DefinitionError]]:
    """Every destination in `file` (none when the file is absent) and every mistake,
    including a name in `segments:` (`journeys:`) that is not one of `segments`
    (`journeys`)."""
    if not file.is_file():
        return (), []
    try:
        raw = read_yaml(file)
    except DefinitionError as error:
        return (), [error]
    if raw is None:
        return (), []
    if not isinstance(raw, list):
        reason = f"must be a list of destinations (- name: ..., type: ...), got {kind_of(raw)}"
        return (), [DefinitionError(file, "", reason)]
    destinations: list[Destination] = []
    errors: list[DefinitionError] = []
    names: set[str] = set()
    for index, item in enumerate(raw):
        path = join_path("", index)
        kind = item.get("type") if isinstance(item, dict) else None
        model = DESTINATION_TYPES.get(kind) if isinstance(kind, str) else None
        if model is None:
            if not isinstance(item, dict):
                reason = f"must be a mapping with name: and type:, got {kind_of(item)}"
            else:
                reason = f"type must be one of {', '.join(DESTINATION_TYPES)}, got {show(kind)}"
            errors.append(DefinitionError(file, path, reason))
            continue
        try:
            destination = model.model_validate(item)
        except ValidationError as error:
            errors.extend(validation_errors(file, error, model, prefix=path))
            continue
        errors.extend(_unknown(file, path, "segment", destination.segments or (), segments))
        errors.extend(_unknown(file, path, "journey", destination.journeys, journeys))
        if destination.name in names:
            errors.append(
                DefinitionError(
                    file, join_path(path, "name"), f"destination {destination.name} is listed twice"
                )
            )
        names.add(destination.name)
        destinations.append(destination)
    return tuple(destinations), errors
