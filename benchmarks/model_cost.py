"""The cost of an entity model (issue 21): the example project's weighted fit score over
companies and events, computed once for the measured day as the pipeline computes it for
all segments, against the same SELECT run alone on the engine.

`python -m benchmarks.model_cost CONFIG` runs both in one process on the benchmark's
warehouse and prints one result line. The SELECT alone reads hand-written tables as of the
day (`baselines/model_alone.sql`); the ratio is given over the SELECT alone and over the
SELECT with those tables, and both must give the pipeline's scores, company by company.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

from benchmarks.baselines.duckdb_sql import as_of
from benchmarks.baselines.tables import connect
from benchmarks.measure import RESULT_MARKER
from benchmarks.steps import PROJECT_DIR, StepConfig, _warehouse

MODEL = "company_fit"
#: The example project's fit score: size, industry, country and engagement from events.
MODEL_FILE = PROJECT_DIR.parent / "dbt_like_sql" / "models" / f"{MODEL}.sql"
TABLES = Path(__file__).with_name("baselines") / "model_alone.sql"


def _project(config: StepConfig) -> Path:
    """The benchmark's project plus the fit-score model, under the work folder."""
    folder = config.root / "model_project"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(PROJECT_DIR / "segments", folder / "segments")
    shutil.copy(PROJECT_DIR / "sources.yml", folder / "sources.yml")
    (folder / "models").mkdir()
    shutil.copy(MODEL_FILE, folder / "models" / MODEL_FILE.name)
    return folder


def in_pipeline(config: StepConfig) -> tuple[float, pd.DataFrame]:
    """The model's partition for the measured day, computed and stored by the pipeline."""
    from segment_pipeline.compile.model_query import model_table
    from segment_pipeline.definitions.project import load_project
    from segment_pipeline.evaluate.models import materialize_models

    project = load_project(_project(config))
    with _warehouse(config) as warehouse:
        started = time.perf_counter()
        materialize_models(warehouse, project, [MODEL], [config.day])
        seconds = time.perf_counter() - started
    with connect(config) as connection:
        scores = connection.execute(
            f"select company_id, score from {model_table(MODEL)} where snapshot_date = $day",
            {"day": config.day},
        ).df()
    return seconds, scores


def alone(config: StepConfig) -> tuple[float, float, pd.DataFrame]:
    """Seconds of the as-of tables, of the model's SELECT over them, and its scores."""
    with connect(config, schema="w") as connection:
        values: dict[str, object] = {"day": config.day, "as_of": as_of(config.day)}
        started = time.perf_counter()
        for statement in connection.extract_statements(TABLES.read_text()):
            wanted = {name: values[name] for name in statement.named_parameters}
            connection.execute(statement, wanted)
        staged = time.perf_counter()
        connection.execute(f"create temp table scores as {MODEL_FILE.read_text()}")
        done = time.perf_counter()
        scores = connection.execute("select company_id, score from scores").df()
    return staged - started, done - staged, scores


def _equal(ours: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    def rows(frame: pd.DataFrame) -> set[tuple[str, float]]:
        return set(zip(frame["company_id"], frame["score"].astype(float), strict=True))

    return rows(ours) == rows(theirs)


def measure(config: StepConfig) -> dict[str, object]:
    """Both sides, their ratios, and whether their scores agree."""
    pipeline_seconds, pipeline_scores = in_pipeline(config)
    tables_seconds, select_seconds, alone_scores = alone(config)
    return {
        "pipeline_seconds": round(pipeline_seconds, 3),
        "as_of_tables_seconds": round(tables_seconds, 3),
        "select_alone_seconds": round(select_seconds, 3),
        "companies_scored": len(pipeline_scores),
        "over_select_alone": round(pipeline_seconds / select_seconds, 2),
        "over_tables_and_select": round(pipeline_seconds / (tables_seconds + select_seconds), 2),
        "scores_agree": _equal(pipeline_scores, alone_scores),
    }


def main(argv: list[str]) -> None:
    """Measure and print the result line (`seconds` is the pipeline's)."""
    (config_path,) = argv
    started, cpu_started = time.perf_counter(), time.process_time()
    result = measure(StepConfig.load(Path(config_path)))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    line = {"seconds": seconds, "cpu_seconds": cpu_seconds, **result}
    print(RESULT_MARKER + json.dumps(line), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
