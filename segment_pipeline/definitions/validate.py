"""`segment-pipeline validate`: check the whole project and say, in lines, what is wrong.

Either one line per problem (`file: path: reason`), or, when all is well, one summary
line per segment so a person can see at a glance what each segment is and its version.
"""

from __future__ import annotations

from pathlib import Path

from segment_pipeline.definitions.project import Project, load_project
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.errors import ConfigError, ProjectInvalid


def validate_project(project_dir: Path) -> tuple[Project | None, list[str]]:
    """The project (None when invalid) and the lines to print: errors or summaries."""
    try:
        project = load_project(project_dir)
    except ProjectInvalid as invalid:
        return None, [str(error) for error in invalid.errors]
    except ConfigError as error:
        return None, [str(error)]
    width = max((len(name) for name in project.segments), default=0)
    return project, [summary_line(segment, width) for segment in project.segments.values()]


def summary_line(segment: Segment, width: int = 0) -> str:
    """`name  entity=company  mode=dynamic  version=ab12cd34ef56  refs=churned_accounts`."""
    parts = [
        segment.name.ljust(width),
        f"entity={segment.entity}",
        f"mode={segment.mode}",
        f"version={segment.version}",
        f"refs={','.join(segment.references) or '-'}",
    ]
    if segment.models:
        parts.append(f"models={','.join(segment.models)}")
    return "  ".join(parts)
