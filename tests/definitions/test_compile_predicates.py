"""Predicates compiled to sqlglot: expected DuckDB SQL, other dialects, and real DuckDB runs."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot

from segment_pipeline.compile.predicates import compile_predicate
from segment_pipeline.definitions.predicates import PredicateScope, event_scope, parse_predicate
from segment_pipeline.definitions.segments import entity_scope
from segment_pipeline.definitions.sources import load_sources

from .conftest import EXAMPLE_PROJECT

SOURCES = load_sources(EXAMPLE_PROJECT)
COMPANY: PredicateScope = entity_scope("company", SOURCES, {})
CONTACT: PredicateScope = entity_scope("contact", SOURCES, {})
EVENT = event_scope()

#: (scope, predicate, table, expected DuckDB SQL)
CASES = [
    (COMPANY, "employee_count >= 500", None, "employee_count >= 500"),
    (COMPANY, "employee_count >= 500", "c", "c.employee_count >= 500"),
    (
        COMPANY,
        "employee_count>=500 AND country in ('GB','US')",
        "c",
        "c.employee_count >= 500 AND c.country IN ('GB', 'US')",
    ),
    (COMPANY, "country = 'GB'", "order", "\"order\".country = 'GB'"),
    (COMPANY, "country = 'GB'", "my table", "\"my table\".country = 'GB'"),
    (COMPANY, "\"country\" = 'GB'", "c", "c.\"country\" = 'GB'"),
    (CONTACT, "lower(title) LIKE '%growth%'", "p", "LOWER(p.title) LIKE '%growth%'"),
    (
        CONTACT,
        "NOT coalesce(is_former_employee, false)",
        "p",
        "NOT COALESCE(p.is_former_employee, FALSE)",
    ),
    (EVENT, "properties.plan = 'pro'", "e", "(e.properties ->> '$.plan') = 'pro'"),
    (EVENT, "properties.plan = 'pro'", None, "(properties ->> '$.plan') = 'pro'"),
    (EVENT, "properties.seats >= 3", "e", "TRY_CAST(e.properties ->> '$.seats' AS DOUBLE) >= 3"),
    (EVENT, "3 < properties.seats", "e", "3 < TRY_CAST(e.properties ->> '$.seats' AS DOUBLE)"),
    (EVENT, "properties.seats = -1", "e", "TRY_CAST(e.properties ->> '$.seats' AS DOUBLE) = -1"),
    (
        EVENT,
        "(properties.seats) <> 2",
        "e",
        "(TRY_CAST(e.properties ->> '$.seats' AS DOUBLE)) <> 2",
    ),
    (
        EVENT,
        "properties.seats BETWEEN 2 AND 10",
        "e",
        "TRY_CAST(e.properties ->> '$.seats' AS DOUBLE) BETWEEN 2 AND 10",
    ),
    (
        EVENT,
        "properties.seats IN (1, 2.5)",
        "e",
        "TRY_CAST(e.properties ->> '$.seats' AS DOUBLE) IN (1, 2.5)",
    ),
    (EVENT, "properties.seats IN ('1', '2')", "e", "(e.properties ->> '$.seats') IN ('1', '2')"),
    (COMPANY, "list_contains(tech_stack, 'stripe')", "c", "ARRAY_CONTAINS(c.tech_stack, 'stripe')"),
    (
        COMPANY,
        "NOT list_contains(tech_stack, 'stripe') AND tech_stack IS NOT NULL",
        "c",
        "NOT ARRAY_CONTAINS(c.tech_stack, 'stripe') AND NOT c.tech_stack IS NULL",
    ),
    (
        COMPANY,
        "list_has_any(tech_stack, ['hubspot', 'segment'])",
        "c",
        "(ARRAY_CONTAINS(c.tech_stack, 'hubspot') OR ARRAY_CONTAINS(c.tech_stack, 'segment'))",
    ),
    (
        EVENT,
        "properties.seats * 2 > 5",
        "e",
        "TRY_CAST(e.properties ->> '$.seats' AS DOUBLE) * 2 > 5",
    ),
    (
        EVENT,
        "properties.is_trial = true",
        "e",
        "TRY_CAST(e.properties ->> '$.is_trial' AS BOOLEAN) = TRUE",
    ),
    (EVENT, "properties.plan IS NULL", "e", "(e.properties ->> '$.plan') IS NULL"),
    (
        EVENT,
        "properties.\"odd key's\" = 'x'",
        "e",
        "(e.properties ->> '$.\"odd key''s\"') = 'x'",
    ),
    (
        EVENT,
        "event_name = 'signup' AND occurred_at >= DATE '2026-01-01'",
        "e",
        "e.event_name = 'signup' AND e.occurred_at >= CAST('2026-01-01' AS DATE)",
    ),
]


@pytest.mark.parametrize(("scope", "source", "table", "expected"), CASES)
def test_compiles_to(scope: PredicateScope, source: str, table: str | None, expected: str):
    predicate = parse_predicate(source, scope)
    assert compile_predicate(predicate, table=table).sql(dialect="duckdb") == expected


def test_properties_column_name():
    predicate = parse_predicate("properties.plan = 'pro'", EVENT)
    compiled = compile_predicate(predicate, table="e", properties_column="props")
    assert compiled.sql(dialect="duckdb") == "(e.props ->> '$.plan') = 'pro'"


def test_compiling_never_changes_the_predicate():
    predicate = parse_predicate("properties.seats >= 3", EVENT)
    before = predicate.sql
    first = compile_predicate(predicate, table="e")
    second = compile_predicate(predicate, table="x")
    assert predicate.sql == before
    assert first is not second
    assert first.sql() != second.sql()


@pytest.mark.parametrize("dialect", ["duckdb", "spark", "trino", "snowflake", "bigquery"])
@pytest.mark.parametrize(("scope", "source", "table", "expected"), CASES)
def test_renders_and_reparses_in_every_dialect(
    dialect: str, scope: PredicateScope, source: str, table: str | None, expected: str
):
    compiled = compile_predicate(parse_predicate(source, scope), table=table)
    rendered = compiled.sql(dialect=dialect)
    reparsed = sqlglot.parse_one(rendered, read=dialect)
    assert reparsed.sql(dialect=dialect) == rendered


@pytest.mark.parametrize(
    ("source", "expected_rows"),
    [
        ("properties.seats >= 3", ["e1"]),  # "4" as a JSON string, compared as a number
        ("properties.seats >= 2", ["e1", "e2"]),  # 2 as a JSON number
        ("properties.seats > 10", []),  # "lots" is not a number: NULL, not an error
        ("properties.plan = 'pro'", ["e1"]),
        ("properties.plan IN ('pro', 'free')", ["e1", "e3"]),
        ("properties.plan IS NULL", ["e2"]),
        ("properties.\"odd key's\" = 'x'", ["e2"]),
        ("properties.is_trial = true", ["e3"]),
    ],
)
def test_runs_in_duckdb(source: str, expected_rows: list[str]):
    with duckdb.connect() as connection:
        connection.execute("CREATE TABLE events (event_id VARCHAR, properties JSON)")
        connection.execute(
            """INSERT INTO events VALUES
            ('e1', '{"plan": "pro", "seats": "4"}'),
            ('e2', '{"seats": 2, "odd key''s": "x"}'),
            ('e3', '{"plan": "free", "seats": "lots", "is_trial": true}')"""
        )
        compiled = compile_predicate(parse_predicate(source, EVENT), table="e")
        query = (
            sqlglot.select("e.event_id")
            .from_("events AS e")
            .where(sqlglot.exp.func("coalesce", compiled, sqlglot.exp.false()))
            .order_by("e.event_id")
        )
        rows = connection.execute(query.sql(dialect="duckdb")).fetchall()
    assert [row[0] for row in rows] == expected_rows


@pytest.mark.parametrize(
    ("source", "expected_rows"),
    [
        ("list_contains(tech_stack, 'stripe')", ["co1", "co3"]),
        # NULL list: unknown, so NOT is unknown too (the leaf is false); an empty one: false.
        ("NOT list_contains(tech_stack, 'stripe')", ["co2", "co4"]),
        ("list_has_any(tech_stack, ['hubspot', 'zendesk'])", ["co1", "co2"]),
        ("list_has_any(tech_stack, ['nothing'])", []),
        ("tech_stack IS NULL", ["co5"]),
        ("list_contains(tech_stack, 'Stripe')", []),
    ],
)
def test_list_tests_run_in_duckdb(source: str, expected_rows: list[str]):
    with duckdb.connect() as connection:
        connection.execute("CREATE TABLE companies (company_id VARCHAR, tech_stack VARCHAR[])")
        connection.execute(
            """INSERT INTO companies VALUES ('co1', ['hubspot', 'stripe']), ('co2', ['zendesk']),
            ('co3', ['stripe', 'stripe']), ('co4', []), ('co5', NULL)"""
        )
        compiled = compile_predicate(parse_predicate(source, COMPANY), table="c")
        query = (
            sqlglot.select("c.company_id")
            .from_("companies AS c")
            .where(sqlglot.exp.func("coalesce", compiled, sqlglot.exp.false()))
            .order_by("c.company_id")
        )
        rows = connection.execute(query.sql(dialect="duckdb")).fetchall()
    assert [row[0] for row in rows] == expected_rows
