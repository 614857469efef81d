"""Journeys (SPEC 4.2): `journeys/<name>.yml`, members of a segment enrolled for N days."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from segment_pipeline.definitions.canonical import to_json, version_of
from segment_pipeline.definitions.yaml_files import (
    NAME_PATTERN,
    YamlDate,
    kind_of,
    read_yaml,
    validation_errors,
)
from segment_pipeline.errors import DefinitionError


class Journey(BaseModel):
    """A journey: whom it enrols (the trigger segment's members), from when, for how long."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    trigger_segment: str
    starts_on: date
    duration_days: int = Field(ge=1)
    allow_reentry: bool = False
    file: Path

    @property
    def version(self) -> str:
        """Short hash of what the journey means (not its file, comments or key order): the
        asset's code version, so the UI shows an edited journey as changed."""
        meaning = {
            "trigger_segment": self.trigger_segment,
            "starts_on": self.starts_on.isoformat(),
            "duration_days": self.duration_days,
            "allow_reentry": self.allow_reentry,
        }
        return version_of(to_json(meaning))


class _JourneyFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = Field(default=None, pattern=NAME_PATTERN)
    trigger_segment: str = Field(pattern=NAME_PATTERN)
    starts_on: YamlDate
    duration_days: Annotated[int, Field(strict=True, ge=1)]
    allow_reentry: StrictBool = False


def load_journey(file: Path) -> tuple[Journey | None, list[DefinitionError]]:
    """One journey file, or None and every mistake in it (the trigger is checked later)."""
    try:
        raw = read_yaml(file)
    except DefinitionError as error:
        return None, [error]
    if not isinstance(raw, dict):
        reason = f"a journey file must be a mapping with trigger_segment:, got {kind_of(raw)}"
        return None, [DefinitionError(file, "", reason)]
    errors: list[DefinitionError] = []
    if "name" not in raw and not re.fullmatch(NAME_PATTERN, file.stem):
        errors.append(
            DefinitionError(file, "name", f"the file name {file.stem!r} is not a journey name")
        )
    try:
        parsed = _JourneyFile.model_validate(raw)
    except ValidationError as error:
        return None, errors + validation_errors(file, error, _JourneyFile)
    if errors:
        return None, errors
    journey = Journey(
        name=parsed.name or file.stem,
        trigger_segment=parsed.trigger_segment,
        starts_on=parsed.starts_on,
        duration_days=parsed.duration_days,
        allow_reentry=parsed.allow_reentry,
        file=file,
    )
    return journey, []
