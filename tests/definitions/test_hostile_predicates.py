"""Hostile predicates: each is refused, or compiles to one harmless boolean expression.

"Harmless" is checked, not assumed: the compiled predicate is rendered, re-parsed as exactly
one expression with no query or statement in it, and run in DuckDB against small tables,
which must still hold their rows afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from segment_pipeline.compile.predicates import compile_predicate
from segment_pipeline.definitions.predicates import (
    PredicateError,
    PredicateScope,
    event_scope,
    parse_predicate,
)
from segment_pipeline.definitions.segments import entity_scope
from segment_pipeline.definitions.sources import load_sources

from .conftest import EXAMPLE_PROJECT

COMPANY: PredicateScope = entity_scope("company", load_sources(EXAMPLE_PROJECT), {})

REFUSED = [
    "1=1; DROP TABLE events",
    "country = 'GB'; DROP TABLE companies",
    "country = 'GB'\n;COPY companies TO '/tmp/stolen.csv'",
    "x' OR '1'='1",
    "' OR '1'='1",
    "(select 1)",
    "(SELECT count(*) FROM companies) > 0",
    "country IN (SELECT country FROM companies)",
    "EXISTS (SELECT 1 FROM events)",
    "country = 'GB' UNION SELECT name FROM companies",
    "employee_count >= 500 -- ' or 1=1",
    "employee_count >= 500 /* ' or 1=1 */",
    "/* */ drop",
    "country = 'GB'/**/OR/**/1=1",
    "country = 'GB\\' OR 1=1 --'",
    "DROP TABLE companies",
    "DELETE FROM companies",
    "UPDATE companies SET name = 'x'",
    "INSERT INTO companies VALUES (1)",
    "CREATE TABLE x AS SELECT 1",
    "ATTACH 'other.duckdb'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "PRAGMA version",
    "SET memory_limit = '1GB'",
    "CALL pragma_version()",
    "COPY companies TO '/tmp/stolen.csv'",
    "emplo\u0443ee_count >= 500",  # Cyrillic u, looks like y
    "employee_count >= 5OO",  # letter O for zero
    "\uff43ountry = 'GB'",  # full-width c
    "country\u200b = 'GB'",  # zero-width space glued to the name
    "country = 'GB' \u037e DROP TABLE companies",  # Greek question mark, looks like ;
    "read_csv('/etc/passwd') IS NOT NULL",
    "read_csv('/etc/passwd')",
    "pg_sleep(1)",
    "employee_count > 1 AND sleep(5) IS NULL",
    "getenv('HOME') = 'x'",
    "current_setting('home_directory') = 'x'",
    "query('SELECT 1') IS NULL",
    "country = chr(39)",
    "founded_on < current_date",
    "founded_on < now()",
    "`employee_count` > 1",
    '"employee_count"" OR 1=1 --" > 1',
    '"employee_count" OR "1"="1"',
    "country = $$GB$$",
    "country = E'\\x27 OR 1=1'",
    "country = ?",
    "country = $1",
    "country = :country",
    "companies.country = 'GB'",
    "main.companies.country = 'GB'",
    "properties->>'$.plan' = 'pro'",
    "country = 'GB' INTO OUTFILE '/tmp/x'",
    "country = 'GB' QUALIFY 1",
    "(" * 200 + "country = 'GB'" + ")" * 200,
    "country = 'GB' OR " * 400 + "TRUE",
    "country = 'a' COLLATE nocase",
    "country = [1, 2]",
    "struct_pack(a := 1) IS NULL",
    "lambda x: x",
    "employee_count",
]

HARMLESS = [
    "country = 'GB' OR 1=1",
    "country = 'GB'' OR ''1''=''1'",
    "country = '; DROP TABLE companies; --'",
    "country = '/* */ DROP TABLE companies'",
    "name = 'Robert''); DROP TABLE companies;--'",
    "name LIKE '%\\%'",
    "name = 'emplo\u0443ee_count'",
    "\"country\" = 'GB'",
    "country\u00a0= 'GB'",
    "country = 'GB' AND\u2028employee_count > 1",
    "NOT NOT NOT country = 'GB'",
    "employee_count > 1e309",
    "employee_count > -(-1)",
    "CAST(country AS TEXT) = 'GB'",
]

EVENT_HARMLESS = [
    "properties.plan = 'x'' OR 1=1 --'",
    "properties.\"plan') OR 1=1 --\" = 'x'",
    "properties.\"$.a[0]\" = 'x'",
    'properties."a""b" >= 1',
    "properties.\"ключ\" = 'x'",
    "properties.seats >= 1 OR TRUE",
]


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    database = tmp_path_factory.mktemp("hostile") / "hostile.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            "CREATE TABLE companies (company_id VARCHAR, name VARCHAR, domain VARCHAR, "
            "industry VARCHAR, employee_count BIGINT, country VARCHAR, "
            "annual_revenue DOUBLE, founded_on DATE)"
        )
        connection.execute(
            "INSERT INTO companies VALUES "
            "('c1', 'Acme', 'acme.io', 'saas', 800, 'GB', 1e7, DATE '2001-02-03'), "
            "('c2', 'Beta', 'beta.io', 'retail', 12, 'US', NULL, NULL)"
        )
        connection.execute(
            "CREATE TABLE events (event_name VARCHAR, occurred_at TIMESTAMP, properties JSON)"
        )
        connection.execute(
            """INSERT INTO events VALUES
            ('pricing_viewed', TIMESTAMP '2026-01-02 10:00:00', '{"plan": "pro", "seats": "4"}'),
            ('invite_sent', TIMESTAMP '2026-01-03 10:00:00', '{"seats": 2, "a\\"b": 3}')"""
        )
        yield connection


@pytest.mark.parametrize("source", REFUSED)
def test_refused(source: str):
    with pytest.raises(PredicateError):
        parse_predicate(source, COMPANY)


@pytest.mark.parametrize("source", HARMLESS)
def test_harmless_company_predicate(source: str, connection: duckdb.DuckDBPyConnection):
    _assert_harmless(compile_predicate(parse_predicate(source, COMPANY), table="c"), connection)


@pytest.mark.parametrize("source", EVENT_HARMLESS)
def test_harmless_event_predicate(source: str, connection: duckdb.DuckDBPyConnection):
    compiled = compile_predicate(parse_predicate(source, event_scope()), table="e")
    _assert_harmless(compiled, connection, table="events", alias="e")


def _assert_harmless(
    compiled: exp.Expression,
    connection: duckdb.DuckDBPyConnection,
    table: str = "companies",
    alias: str = "c",
) -> None:
    rendered = compiled.sql(dialect="duckdb")
    statements = sqlglot.parse(rendered, read="duckdb")
    assert len(statements) == 1
    assert statements[0] is not None
    assert statements[0].find(exp.Query, exp.Command, exp.DDL, exp.DML) is None
    query = (
        exp.select(exp.func("count", exp.Star()))
        .from_(exp.to_table(table).as_(alias))
        .where(exp.func("coalesce", compiled, exp.false()))
    )
    before = _row_counts(connection)
    result = connection.execute(query.sql(dialect="duckdb")).fetchone()
    assert result is not None
    assert _row_counts(connection) == before


def _row_counts(connection: duckdb.DuckDBPyConnection) -> tuple[object, ...]:
    companies = connection.execute("SELECT count(*) FROM companies").fetchone()
    events = connection.execute("SELECT count(*) FROM events").fetchone()
    tables = connection.execute("SELECT count(*) FROM duckdb_tables()").fetchone()
    return (companies, events, tables, Path("/tmp/stolen.csv").exists())
