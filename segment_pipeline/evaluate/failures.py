"""Name what was being done when the warehouse refuses a statement.

An engine error says which binder or column failed, not which segment's evaluation or
which step of the day ran it; this wraps it in one sentence that does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from segment_pipeline.errors import EngineError, SegmentPipelineError


@contextmanager
def failing_as(segments: str | Iterable[str], purpose: str) -> Iterator[None]:
    """Re-raise any error but a user mistake as `EngineError` naming segments and purpose."""
    try:
        yield
    except SegmentPipelineError:
        raise
    except Exception as error:
        names = [segments] if isinstance(segments, str) else sorted(segments)
        which = f"segment {names[0]}" if len(names) == 1 else f"segments {', '.join(names)}"
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        cause = f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__
        raise EngineError(f"{which}: {purpose} failed in the warehouse ({cause})") from error
