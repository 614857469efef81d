"""One local Spark session for the whole test session (starting one takes seconds), and
the pipeline run on both engines over the same generated landing zone."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from sqlglot import exp

from segment_pipeline.generate import GenerateParams, generate_landing
from segment_pipeline.orchestrate.launch import refresh_static, run_partitions
from segment_pipeline.settings import Settings
from segment_pipeline.warehouse import Warehouse, WarehouseSettings
from segment_pipeline.warehouse.engine import EngineName

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_PROJECT = REPO / "dbt_like_sql"
#: Every kind of output on a few segments: personas and a not-in_segment (engaged_enterprise,
#: quiet_accounts), a static segment (january_trials), a split (pro_plan_lookers_holdout),
#: a model value (top_fit_accounts over the company_fit model), a journey's trigger.
SEGMENTS = (
    "engaged_enterprise",
    "quiet_accounts",
    "january_trials",
    "engaged_trials",
    "high_fit_accounts",
    "pro_plan_lookers",
    "pro_plan_lookers_holdout",
    "top_fit_accounts",
)
#: Small, but with late and re-sent events and malformed rows in every format.
PARAMS = GenerateParams(companies=12, contacts=40, events=400, days=10)
FIRST, CHANGED, LAST = date(2026, 1, 1), date(2026, 1, 8), date(2026, 1, 10)


@pytest.fixture(scope="session")
def spark_session() -> Iterator[object]:
    """The local session every Spark warehouse of the test session opens on."""
    from segment_pipeline.warehouse.spark_session import spark_session as start

    session = start(WarehouseSettings(path=Path("unused"), engine="spark"))
    yield session
    session.stop()


def parity_project(target: Path) -> Path:
    """The example project cut down to `SEGMENTS`, the models they read and one journey."""
    shutil.copytree(EXAMPLE_PROJECT, target)
    (target / "destinations.yml").unlink()
    for path in (target / "segments").glob("*.yml"):
        if path.stem not in SEGMENTS:
            path.unlink()
    (target / "models" / "company_tags.sql").unlink()
    # Loosened so that a dozen generated companies have members with picked contacts.
    path = target / "segments" / "engaged_enterprise.yml"
    definition = yaml.safe_load(path.read_text())
    definition["where"]["all"][0] = {"attribute": "employee_count >= 10"}
    definition["where"]["all"][1]["count"] = {"at_least": 1}
    path.write_text(yaml.safe_dump(definition, sort_keys=False))
    return target


def change_definition(project: Path) -> None:
    """pro_plan_lookers now wants the enterprise plan: its version and its holdout's change,
    and the pro lookers leave with `definition_changed`."""
    path = project / "segments" / "pro_plan_lookers.yml"
    definition = yaml.safe_load(path.read_text())
    definition["where"]["last_event"]["matches"] = "properties.plan = 'enterprise'"
    path.write_text(yaml.safe_dump(definition, sort_keys=False))


def run_engine(root: Path, landing: Path, engine: EngineName) -> Settings:
    """Days 1-7, a definition change, days 8-10, then a static refresh on day 10."""
    project = parity_project(root / "project")
    settings = Settings(
        project_dir=project,
        landing_dir=landing,
        warehouse=root / ("warehouse.duckdb" if engine == "duckdb" else "warehouse"),
        engine=engine,
    )
    run_partitions(settings, FIRST, CHANGED.replace(day=CHANGED.day - 1))
    change_definition(project)
    run_partitions(settings, CHANGED, LAST)
    refresh_static(settings, "january_trials", LAST)
    return settings


@pytest.fixture(scope="session")
def parity_runs(
    tmp_path_factory: pytest.TempPathFactory, spark_session: object
) -> dict[EngineName, Settings]:
    """The same landing zone and project run on DuckDB and on Spark."""
    landing = tmp_path_factory.mktemp("landing")
    generate_landing(landing, PARAMS)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DAGSTER_HOME", raising=False)
        return {
            engine: run_engine(tmp_path_factory.mktemp(engine), landing, engine)
            for engine in ("duckdb", "spark")
        }


def table_rows(settings: Settings, table: str, skip: tuple[str, ...] = ()) -> list[dict]:
    """A table's rows read through its engine, in a canonical order, with comparable
    values (timestamps naive UTC; an engine that reads them zoned gives the same instant)."""
    with Warehouse.open(settings.warehouse_settings, read_only=True) as warehouse:
        if not warehouse.table_exists(table):
            return []
        columns = sorted(c for c in warehouse.columns(table) if c not in skip)
        select = exp.select(*(exp.column(c, quoted=True) for c in columns)).from_(table)
        data = warehouse.arrow(select)
    rows = [{key: _naive(value) for key, value in row.items()} for row in data.to_pylist()]
    return sorted(rows, key=lambda row: [(value is None, str(value)) for value in row.values()])


def _naive(value: object) -> object:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value
