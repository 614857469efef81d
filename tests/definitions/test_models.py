"""SQL models (SPEC 4.4, minimal): discovery, header, dependencies, columns and mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlglot import exp

from segment_pipeline.compile.predicates import compile_predicate
from segment_pipeline.definitions.models import load_models
from segment_pipeline.definitions.sources import load_sources
from segment_pipeline.definitions.validate import validate_project

from .conftest import Write

FIT = """
-- entity: company, key: company_id
with

companies as (select * from companies),

activity as (
    select company_id, count(*) as events from events group by company_id
),

final as (
    select
        companies.company_id,
        least(100, companies.employee_count / 10 + coalesce(activity.events, 0)) as score,
    from companies
    left join activity using (company_id)
)

select * from final
"""


def test_models_load_in_dependency_order(write: Write, project_dir: Path):
    write("models/marts/tiers.sql", "select company_id, score > 70 as is_top from company_fit\n")
    write("models/company_fit.sql", FIT)
    models, errors = load_models(project_dir, load_sources(project_dir))
    assert errors == []
    assert list(models) == ["company_fit", "tiers"]
    fit, tiers = models["company_fit"], models["tiers"]
    assert (fit.entity, fit.key, fit.columns, fit.depends_on) == (
        "company",
        "company_id",
        ("company_id", "score"),
        (),
    )
    assert isinstance(fit.sql, exp.Select)
    assert (tiers.entity, tiers.key, tiers.columns, tiers.depends_on) == (
        None,
        None,
        ("company_id", "is_top"),
        ("company_fit",),
    )
    assert fit.file == project_dir / "models" / "company_fit.sql"


def test_entity_models_are_usable_in_predicates(write: Write, project_dir: Path):
    write("models/company_fit.sql", FIT)
    write("segments/fit.yml", "entity: company\nwhere: {attribute: 'company_fit.score >= 70'}\n")
    write("segments/people.yml", "entity: contact\nwhere: {company: 'company_fit.score >= 70'}\n")
    project, lines = validate_project(project_dir)
    assert project is not None, lines
    assert project.segments["fit"].models == ("company_fit",)
    assert "models=company_fit" in lines[0]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"models/bad.sql": "select from where"},
            "project/models/bad.sql: line 1: cannot parse SQL: ",
        ),
        (
            {"models/two.sql": "select 1 as a;\nselect 2 as b"},
            "project/models/two.sql: line 2: must hold exactly one SELECT (put a UNION in a CTE)",
        ),
        (
            {"models/lost.sql": "-- lost\nselect *\nfrom nowhere"},
            "project/models/lost.sql: line 3: reads unknown table 'nowhere'; "
            "a model reads companies, contacts, events or another model",
        ),
        (
            {"models/a.sql": "select *\nfrom b", "models/b.sql": "select * from a"},
            "project/models/a.sql: line 2: models depend on each other: a -> b -> a",
        ),
        (
            {"models/upsert.sql": "insert into companies select * from contacts"},
            "project/models/upsert.sql: line 1: must hold exactly one SELECT",
        ),
        (
            {"models/dated.sql": "select company_id, updated_at as snapshot_date from companies"},
            "project/models/dated.sql: column snapshot_date is reserved",
        ),
        (
            {"models/events.sql": "select 1 as a"},
            "project/models/events.sql: model name 'events' must be a lower-case name "
            "([a-z][a-z0-9_]*) other than companies, contacts, events, properties",
        ),
        (
            {"models/x.sql": "-- entity: account\nselect 1 as a"},
            "project/models/x.sql: line 1: header '-- entity: account' must read "
            "-- entity: company, key: company_id (entity company or contact)",
        ),
        (
            {"models/x.sql": "-- entity: company\nselect 1 as id"},
            "project/models/x.sql: line 1: key company_id is not one of the model's columns: id",
        ),
        (
            {"models/x.sql": "select 1 as a", "models/sub/x.sql": "select 2 as a"},
            "project/models/x.sql: model name x is also used by project/models/sub/x.sql",
        ),
    ],
)
def test_model_mistakes(write: Write, project_dir: Path, files: dict[str, str], expected: str):
    for relative, text in files.items():
        write(relative, text)
    _, lines = validate_project(project_dir)
    assert len(lines) == 1
    assert lines[0].startswith(expected)


def test_predicates_check_model_columns_and_entity(write: Write, project_dir: Path):
    write("models/company_fit.sql", FIT)
    write("segments/a.yml", "entity: company\nwhere: {attribute: 'company_fit.scor >= 70'}\n")
    write("segments/b.yml", "entity: contact\nwhere: {attribute: 'company_fit.score >= 70'}\n")
    _, lines = validate_project(project_dir)
    assert lines == [
        "project/segments/a.yml: where.attribute: model company_fit has no column 'scor' "
        "(did you mean score?); its columns are: company_id, score",
        "project/segments/b.yml: where.attribute: unknown model 'company_fit' in "
        "'company_fit.score'; models usable here: none",
    ]


@pytest.mark.parametrize(
    ("sql", "depends_on"),
    [
        # CTE names shadow nothing and are not dependencies, even named like a model.
        ("with base as (select * from base_model) select * from base", ("base_model",)),
        ("with company_fit as (select 1 as a) select * from company_fit", ()),
        # subqueries in FROM, IN and EXISTS, and joins
        (
            "select * from (select * from base_model) s "
            "where s.a in (select a from other_model) "
            "and exists (select 1 from events e where e.company_id = s.a)",
            ("base_model", "other_model"),
        ),
        (
            "select b.a from base_model b join other_model o using (a) "
            "left join companies c on c.company_id = b.a",
            ("base_model", "other_model"),
        ),
        # quoted, upper-case and schema-qualified names are the same name
        (
            'select * from "BASE_MODEL" join main.Other_Model using (a)',
            ("base_model", "other_model"),
        ),
        # a nested CTE inside a subquery
        (
            "select * from (with inner_cte as (select * from other_model) select * from inner_cte)",
            ("other_model",),
        ),
    ],
)
def test_dependencies_come_from_the_sql(
    write: Write, project_dir: Path, sql: str, depends_on: tuple[str, ...]
):
    write("models/base_model.sql", "select company_id as a from companies\n")
    write("models/other_model.sql", "select company_id as a from companies\n")
    write("models/reader.sql", sql + "\n")
    models, errors = load_models(project_dir, load_sources(project_dir))
    assert errors == []
    assert models["reader"].depends_on == depends_on


def test_version_ignores_layout_and_case_and_follows_upstream(write: Write, project_dir: Path):
    write("models/base_model.sql", "select company_id as a from companies\n")
    write("models/reader.sql", "select a from base_model\n")
    before, _ = load_models(project_dir, load_sources(project_dir))
    write("models/base_model.sql", "-- a comment\nSELECT company_id AS a\n  FROM Companies\n")
    write("models/reader.sql", "select A from BASE_MODEL -- same\n")
    same, _ = load_models(project_dir, load_sources(project_dir))
    assert {n: m.version for n, m in same.items()} == {n: m.version for n, m in before.items()}
    write("models/base_model.sql", "select company_id as a from companies where false\n")
    edited, _ = load_models(project_dir, load_sources(project_dir))
    assert edited["base_model"].version != before["base_model"].version
    assert edited["reader"].version != before["reader"].version


def test_a_tag_test_renders_for_each_engine(write: Write, project_dir: Path):
    write(
        "models/company_tags.sql",
        "-- entity: company\nselect company_id, [] as tags from companies\n",
    )
    write(
        "segments/tagged.yml",
        "entity: company\nwhere: {attribute: \"list_contains(company_tags.tags, 'x')\"}\n",
    )
    project, lines = validate_project(project_dir)
    assert project is not None, lines
    (leaf,) = [project.segments["tagged"].where]
    compiled = compile_predicate(leaf.predicate)
    assert compiled.sql("duckdb") == "ARRAY_CONTAINS(\"company_tags.tags\", 'x')"
    assert compiled.sql("spark") == "ARRAY_CONTAINS(`company_tags.tags`, 'x')"


@pytest.mark.parametrize(
    "predicate", ["list_contains(industry, 'x')", "list_contains(properties.tags, 'x')"]
)
def test_list_contains_needs_a_list_column(write: Write, project_dir: Path, predicate: str):
    write("segments/tagged.yml", f'entity: company\nwhere: {{attribute: "{predicate}"}}\n')
    _, lines = validate_project(project_dir)
    assert len(lines) == 1 and "list_contains reads a list column" in lines[0]
