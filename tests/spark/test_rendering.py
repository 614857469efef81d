"""Every statement a full DuckDB run sends through the engine seam renders for Spark, with
sqlglot refusing (not silently mangling) anything Spark cannot express.

Statements are captured where the pipeline hands them to the warehouse (the `Warehouse`
methods); what an engine runs inside those methods (DuckDB's file readers, its catalog
queries) is its own and is not captured. The parity suite runs them on a real Spark.
"""

from __future__ import annotations

import functools
import inspect
import shutil
from collections.abc import Callable
from datetime import date

import pytest
from sqlglot import exp, parse_one
from sqlglot.errors import ErrorLevel

from segment_pipeline.compile.predicates import compile_predicate
from segment_pipeline.definitions.predicates import PredicateScope, parse_predicate
from segment_pipeline.definitions.sources import ColumnType
from segment_pipeline.generate import generate_landing
from segment_pipeline.orchestrate.launch import refresh_static, run_partitions
from segment_pipeline.settings import Settings
from segment_pipeline.sql import TextList
from segment_pipeline.warehouse.duckdb_engine import DuckDBWarehouse, PipelineDuckDB
from segment_pipeline.warehouse.engine import Warehouse
from segment_pipeline.warehouse.spark_sql import spark_sql

from .conftest import EXAMPLE_PROJECT, PARAMS, change_definition

pytestmark = pytest.mark.spark

FIRST, LAST = date(2026, 1, 1), date(2026, 1, 4)
#: Condition kinds the example project has no segment of, added to the run (company and
#: contact, so the company attribution of their events is rendered too).
EXTRA_SEGMENTS = {
    "returning_readers.yml": """
entity: contact
where:
  restarted: {event: page_viewed, gap_days: 1, within: {last_days: 2}}
""",
    "returning_accounts.yml": """
entity: company
where:
  not:
    restarted: {event: [feature_used, invite_sent], gap_days: 1}
""",
    "regular_readers.yml": """
entity: contact
where:
  regularly: {event: page_viewed, period_days: 1, periods: 3, at_least: 2}
""",
    "regular_accounts.yml": """
entity: company
where:
  any:
    - regularly: {event: {like: 'feature_%'}, period_days: 2, periods: 2, at_least: 2}
    - attribute: "employee_count >= 1000"
""",
}


def _capturing(
    method: Callable[..., object], captured: list[exp.Expression], depth: list[int]
) -> Callable[..., object]:
    """The method, recording the statements the pipeline passes it (not those the engine
    issues inside another seam method)."""

    @functools.wraps(method)
    def wrapper(self: Warehouse, *args: object, **kwargs: object) -> object:
        if not depth[0]:
            captured.extend(
                value.copy()
                for value in (*args, *kwargs.values())
                if isinstance(value, exp.Expression)
            )
        depth[0] += 1
        try:
            return method(self, *args, **kwargs)
        finally:
            depth[0] -= 1

    return wrapper


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[exp.Expression]:
    """Every statement the pipeline hands a DuckDB warehouse during the test."""
    statements: list[exp.Expression] = []
    depth = [0]
    for name, _ in inspect.getmembers(Warehouse, inspect.isfunction):
        if not name.startswith("_") and name not in {"open", "render"}:
            method = getattr(DuckDBWarehouse, name)
            monkeypatch.setattr(DuckDBWarehouse, name, _capturing(method, statements, depth))
    return statements


def test_every_statement_of_a_full_run_renders_for_spark(tmp_path, captured, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    project = tmp_path / "project"
    shutil.copytree(EXAMPLE_PROJECT, project)
    (project / "destinations.yml").unlink()
    for name, text in EXTRA_SEGMENTS.items():
        (project / "segments" / name).write_text(text)
    landing = tmp_path / "landing"
    generate_landing(landing, PARAMS.model_copy(update={"days": 4}))
    settings = Settings(project_dir=project, landing_dir=landing, warehouse=tmp_path / "w.duckdb")
    run_partitions(settings, FIRST, date(2026, 1, 3))
    change_definition(project)
    run_partitions(settings, LAST, LAST)
    refresh_static(settings, "january_trials", LAST)

    assert len(captured) > 500
    kinds = {type(statement).__name__ for statement in captured}
    assert {"Select", "Union"} <= kinds
    failures = []
    for statement in captured:
        try:
            spark_sql(statement, unsupported_level=ErrorLevel.RAISE)
        except Exception as error:  # every refusal is collected, then shown
            failures.append(f"{type(error).__name__}: {error} in {statement.sql()[:300]}")
    assert not failures, f"{len(failures)} statements do not render:\n" + "\n".join(
        dict.fromkeys(failures)
    )


LIST_SCOPE = PredicateScope(
    "company attributes", {"tech_stack": ColumnType.LIST_TEXT}, {"company_tags": ("tags",)}
)


@pytest.mark.parametrize(
    ("predicate", "duckdb", "spark"),
    [
        (
            "list_contains(tech_stack, 'stripe')",
            "ARRAY_CONTAINS(v.tech_stack, 'stripe')",
            "ARRAY_CONTAINS(v.tech_stack, 'stripe')",
        ),
        (
            "NOT list_contains(tech_stack, 'it''s')",
            "NOT ARRAY_CONTAINS(v.tech_stack, 'it''s')",
            "NOT ARRAY_CONTAINS(v.tech_stack, 'it\\'s')",
        ),
        (
            "list_has_any(tech_stack, ['hubspot', 'segment'])",
            "(ARRAY_CONTAINS(v.tech_stack, 'hubspot') OR ARRAY_CONTAINS(v.tech_stack, 'segment'))",
            "(ARRAY_CONTAINS(v.tech_stack, 'hubspot') OR ARRAY_CONTAINS(v.tech_stack, 'segment'))",
        ),
        (
            "NOT list_has_any(company_tags.tags, ['a'])",
            "NOT (ARRAY_CONTAINS(v.\"company_tags.tags\", 'a'))",
            "NOT (ARRAY_CONTAINS(v.`company_tags.tags`, 'a'))",
        ),
    ],
)
def test_list_tests_render_for_each_engine(predicate: str, duckdb: str, spark: str) -> None:
    """list_contains is sqlglot's ArrayContains, ARRAY_CONTAINS on both engines;
    list_has_any is compiled to one list_contains per value (sqlglot would write its own
    node as DuckDB's `&&`, which Spark lacks)."""
    compiled = compile_predicate(parse_predicate(predicate, LIST_SCOPE), table="v")
    assert compiled.sql(dialect=PipelineDuckDB) == duckdb
    rendered = spark_sql(compiled.copy(), unsupported_level=ErrorLevel.RAISE)
    assert rendered == spark
    assert parse_one(rendered, read="spark").sql("spark") == spark


def test_reading_a_list_renders_as_each_engine_parses_json() -> None:
    """The ingestion's list<text> typing: DuckDB's JSON functions, Spark's from_json after
    a check of the text's shape (the quarantine parity suite runs both)."""
    node = TextList(this=exp.column("tags", "s"))
    duckdb = node.sql(dialect=PipelineDuckDB)
    assert "JSON_VALID(s.tags)" in duckdb and "s.tags ->> '$[*]'" in duckdb
    spark = spark_sql(node.copy(), unsupported_level=ErrorLevel.RAISE)
    assert spark.startswith("CASE WHEN s.tags RLIKE '^")
    assert spark.endswith("THEN FROM_JSON(s.tags, 'array<string>') END")
    parse_one(spark, read="spark")
