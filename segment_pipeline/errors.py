"""One error hierarchy: every user mistake is a `SegmentPipelineError` with one clear sentence.

The CLI and the Dagster assets print these messages as they are, without a traceback;
anything that is not a `SegmentPipelineError` is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from pathlib import Path


class SegmentPipelineError(Exception):
    """A mistake a user can fix: the message names the file, the place and the fix."""


class ConfigError(SegmentPipelineError):
    """A setting (directory, warehouse path, date) is missing or malformed."""


class IngestError(SegmentPipelineError):
    """A landing file cannot be read at all (bad rows are quarantined, not raised)."""


class DefinitionError(SegmentPipelineError):
    """One mistake in a definition file, located by file and path inside it."""

    def __init__(self, file: Path | str, path: str, reason: str) -> None:
        self.file = str(file)
        self.path = path
        self.reason = reason
        location = f"{self.file}: {path}" if path else self.file
        super().__init__(f"{location}: {reason}")


class ProjectInvalid(SegmentPipelineError):
    """Every mistake found in a project, so a user can fix them all in one go."""

    def __init__(self, errors: list[DefinitionError]) -> None:
        self.errors = errors
        first = errors[0] if errors else "no details"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{first}{more}")


class DeliveryError(SegmentPipelineError):
    """A destination did not take a day's changes: names the destination, batch and cause."""


class JourneyError(SegmentPipelineError):
    """A journey cannot enrol a day: its trigger's snapshot is missing or out of date."""


class EngineError(SegmentPipelineError):
    """The warehouse refused a statement the pipeline built: names the segment and what the
    statement was for; the engine's own error is chained for the traceback."""


class PredicateError(SegmentPipelineError):
    """A predicate failed to parse or to pass the allow-list; the message is the reason (the
    loader wraps it in a `DefinitionError` naming the file and the path)."""


def format_cycle(cycle: Iterable[Hashable]) -> str:
    """`a -> b -> a`."""
    return " -> ".join(str(node) for node in cycle)


class CycleError(SegmentPipelineError):
    """A graph has a cycle; `cycle` lists it with the first node repeated at the end."""

    def __init__(self, cycle: list[Hashable]) -> None:
        self.cycle = cycle
        super().__init__(f"cycle: {format_cycle(cycle)}")


class RunFailed(SegmentPipelineError):
    """A Dagster run failed; the message is the failing step's own sentence."""


class NotMaterialized(SegmentPipelineError):
    """A segment, or a day of it, has not been computed yet; the message says what to run."""
