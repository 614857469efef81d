"""`segment-pipeline init DIR`: a new project from the example shipped with the package.

The template is the repository's own example (`dbt_like_sql/`, `definitions.py`,
`workspace.yaml`, `dagster_home/dagster.yaml`), packaged under
`segment_pipeline/project_template/`, so what `init` writes is what the tests run.
"""

from __future__ import annotations

import shutil
from importlib.resources import as_file, files
from pathlib import Path

from segment_pipeline.errors import ConfigError

#: What a project folder holds, as the template names it.
PROJECT = "dbt_like_sql"
FILES = ("definitions.py", "workspace.yaml")
DAGSTER_HOME = "dagster_home"


def scaffold(
    target: Path, project_dir: Path | None = None, *, keep_existing: bool = False
) -> list[Path]:
    """Write the example project into `target` and return what was written.

    Args:
        target: the folder of `definitions.py` and `workspace.yaml` (created if absent).
        project_dir: where the analytics project goes (default `target/dbt_like_sql`).
        keep_existing: write only what is missing (what `demo` does) instead of refusing.

    Raises:
        ConfigError: `target` holds a file of a project already, or cannot be created.
    """
    project = project_dir or target / PROJECT
    wanted = [project, *(target / name for name in FILES)]
    existing = [path for path in wanted if path.exists()]
    if existing and not keep_existing:
        raise ConfigError(
            f"{existing[0]} already exists: choose an empty folder for the new project"
        )
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"cannot create {target}: {error.strerror}") from None
    written = [path for path in wanted if path not in existing]
    with as_file(files("segment_pipeline") / "project_template") as template:
        for path in written:
            source = template / (PROJECT if path == project else path.name)
            if source.is_dir():
                shutil.copytree(source, path)
            else:
                shutil.copy2(source, path)
    ensure_dagster_home(target / DAGSTER_HOME)
    return written


def ensure_dagster_home(home: Path) -> Path:
    """A `DAGSTER_HOME` folder with the instance settings (one warehouse run at a time)."""
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists():
        with as_file(files("segment_pipeline") / "project_template") as template:
            shutil.copy2(template / "dagster.yaml", settings)
    return home
