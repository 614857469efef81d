"""The predicate allow-list: what passes (and its canonical text) and what is refused, why."""

from __future__ import annotations

import pytest

from segment_pipeline.definitions.predicates import (
    PredicateError,
    PredicateScope,
    event_scope,
    parse_predicate,
)
from segment_pipeline.definitions.sources import ColumnType

FUNCTIONS = (
    "abs, cast, coalesce, day, dayofmonth, dayofweek, dayofyear, extract, hour, length, "
    "list_contains, list_has_any, lower, month, quarter, round, trim, try_cast, upper, week, "
    "year"
)

COMPANY = PredicateScope(
    "company attributes",
    {
        "company_id": ColumnType.TEXT,
        "name": ColumnType.TEXT,
        "industry": ColumnType.TEXT,
        "employee_count": ColumnType.INTEGER,
        "country": ColumnType.TEXT,
        "annual_revenue": ColumnType.DOUBLE,
        "founded_on": ColumnType.DATE,
        "is_customer": ColumnType.BOOLEAN,
    },
    tables={"company_fit": ("company_id", "score", "tier")},
)

ALLOWED = [
    ("employee_count>=500", "employee_count >= 500"),
    (
        "employee_count >= 500 and country in ('GB','US')",
        "employee_count >= 500 AND country IN ('GB', 'US')",
    ),
    ("country NOT IN ('JP')", "NOT country IN ('JP')"),
    ("lower(name) LIKE '%bank%'", "LOWER(name) LIKE '%bank%'"),
    ("name ILIKE 'acme%'", "name ILIKE 'acme%'"),
    ("name LIKE '50!%%' ESCAPE '!'", "name LIKE '50!%%' ESCAPE '!'"),
    ("industry IS NULL", "industry IS NULL"),
    ("industry IS NOT NULL", "NOT industry IS NULL"),
    ("employee_count BETWEEN 50 AND 5000", "employee_count BETWEEN 50 AND 5000"),
    ("annual_revenue / employee_count > 100000", "annual_revenue / employee_count > 100000"),
    ("abs(round(annual_revenue, -3)) >= 1e6", "ABS(ROUND(annual_revenue, -3)) >= 1e6"),
    ("length(trim(upper(name))) > 3", "LENGTH(TRIM(UPPER(name))) > 3"),
    ("coalesce(is_customer, false)", "COALESCE(is_customer, FALSE)"),
    ("is_customer", "is_customer"),
    ("NOT is_customer", "NOT is_customer"),
    ("year(founded_on) >= 2000", "YEAR(founded_on) >= 2000"),
    ("extract(month from founded_on) = 1", "EXTRACT(MONTH FROM founded_on) = 1"),
    ("founded_on >= DATE '2020-01-01'", "founded_on >= CAST('2020-01-01' AS DATE)"),
    ("founded_on >= '2020-01-01'", "founded_on >= '2020-01-01'"),
    (
        "CASE WHEN country = 'GB' THEN employee_count * 2 ELSE employee_count END > 100",
        "CASE WHEN country = 'GB' THEN employee_count * 2 ELSE employee_count END > 100",
    ),
    ("name || '!' = 'x!'", "name || '!' = 'x!'"),
    ("company_fit.score >= 70", "company_fit.score >= 70"),
    ('"employee_count" > 1', '"employee_count" > 1'),
    ("employee_count IS DISTINCT FROM 3", "employee_count IS DISTINCT FROM 3"),
]


@pytest.mark.parametrize(("source", "canonical"), ALLOWED)
def test_allowed(source: str, canonical: str):
    predicate = parse_predicate(source, COMPANY)
    assert predicate.source == source
    assert predicate.sql == canonical


@pytest.mark.parametrize(
    ("source", "canonical"),
    [
        ("properties.plan = 'pro'", "properties.plan = 'pro'"),
        (
            "properties.seats >= 3 and event_name = 'invite_sent'",
            "properties.seats >= 3 AND event_name = 'invite_sent'",
        ),
        (
            "occurred_at >= TIMESTAMP '2026-01-01 00:00:00'",
            "occurred_at >= CAST('2026-01-01 00:00:00' AS TIMESTAMP)",
        ),
        ('properties."odd key" IS NOT NULL', 'NOT properties."odd key" IS NULL'),
    ],
)
def test_allowed_on_events(source: str, canonical: str):
    assert parse_predicate(source, event_scope()).sql == canonical


REFUSED = [
    ("", "is empty: write a condition such as employee_count >= 500"),
    ("   ", "is empty: write a condition such as employee_count >= 500"),
    (
        "employee_count",
        "must be a true/false condition such as employee_count >= 500, got 'employee_count'",
    ),
    (
        "employee_count + 1",
        "must be a true/false condition such as employee_count >= 500, got 'employee_count + 1'",
    ),
    ("'GB'", "must be a true/false condition such as employee_count >= 500, got \"'GB'\""),
    (
        "employees > 1",
        "unknown column 'employees' (did you mean employee_count?); company attributes are: "
        "annual_revenue, company_id, country, employee_count, founded_on, industry, "
        "is_customer, name",
    ),
    ("country = 5", "country is text: compare it with text such as 'GB'"),
    ("employee_count = 'many'", "employee_count is a number: compare it with a number such as 500"),
    (
        "employee_count IN (1, 'x')",
        "employee_count is a number: compare it with a number such as 500",
    ),
    ("fit.score > 1", "unknown model 'fit' in 'fit.score'; models usable here: company_fit"),
    (
        "company_fit.scor > 1",
        "model company_fit has no column 'scor' (did you mean score?); "
        "its columns are: company_id, score, tier",
    ),
    ("a.b.c = 1", "'a.b.c': write a column as name or table.name"),
    (
        "now() > founded_on",
        f"unknown function now(); allowed functions: {FUNCTIONS}",
    ),
    (
        "founded_on < current_date",
        f"function current_date() is not allowed; allowed functions: {FUNCTIONS}",
    ),
    ("extract(epoch from founded_on) > 1", "'EPOCH' is not a column or a date part"),
    ("CAST(name AS STRUCT(a INT)) IS NULL", "casting to STRUCT<a INT> is not allowed"),
    ("country IN (SELECT country FROM companies)", "subqueries are not allowed"),
    ("EXISTS (SELECT 1)", "subqueries are not allowed"),
    ("country = ?", "parameters (?, $1, :name) are not allowed: write the value itself"),
    ("country = $1", "parameters (?, $1, :name) are not allowed: write the value itself"),
    ("country foo", "unexpected word 'foo' after the condition (a missing AND or OR?)"),
    ("country = 'GB';", "';' is not allowed: a predicate is one expression"),
    (
        "country = 'GB' -- note",
        "SQL comments (-- or /* */) are not allowed in a predicate; "
        "use a YAML # comment outside the quotes",
    ),
    (
        "DROP TABLE companies",
        "SQL statements are not allowed: a predicate is a condition such as employee_count >= 500",
    ),
    ("SELECT 1", "subqueries are not allowed"),
    ("properties.plan = 'pro'", "properties.<key> is only allowed in an event condition's where"),
    ("name->>'$.x' = 'y'", "JSON operators are not allowed: write properties.<key>"),
]


@pytest.mark.parametrize(("source", "reason"), REFUSED)
def test_refused(source: str, reason: str):
    with pytest.raises(PredicateError) as raised:
        parse_predicate(source, COMPANY)
    assert str(raised.value) == reason


def test_event_predicates_see_event_columns_only():
    with pytest.raises(PredicateError, match="unknown column 'employee_count'"):
        parse_predicate("employee_count > 1", event_scope())
    with pytest.raises(PredicateError, match=r"written properties\.plan"):
        parse_predicate("plan = 'pro'", event_scope())
    with pytest.raises(PredicateError, match="unknown model 'company_fit'"):
        parse_predicate("company_fit.score > 1", event_scope())


def test_parse_error_says_where():
    with pytest.raises(PredicateError, match=r"^cannot parse 'country = = 1': .* near column"):
        parse_predicate("country = = 1", COMPANY)
