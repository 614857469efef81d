"""Whatever `validate` accepts, `run` evaluates (SPEC 4.1).

One project uses every predicate node and function the allow-list admits, every declared
column type, the entity keys and every condition kind, count and window form; it is
validated and then run for real through the CLI. The coverage asserts compute what the
catalogue uses from the parsed definitions, so a construct added to the validator without a
segment here fails this test instead of reaching users untried.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
import sqlglot
import yaml
from click.testing import CliRunner

from segment_pipeline.cli import main
from segment_pipeline.definitions.condition_loader import CONDITION_KEYS
from segment_pipeline.definitions.condition_values import COUNT_KEYS, WINDOW_KEYS
from segment_pipeline.definitions.conditions import iter_leaves
from segment_pipeline.definitions.event_conditions import EventCondition
from segment_pipeline.definitions.predicate_rules import ALLOWED_FUNCTIONS, ALLOWED_NODES
from segment_pipeline.definitions.project import load_project
from segment_pipeline.definitions.sources import ColumnType, Sources
from segment_pipeline.errors import EngineError
from segment_pipeline.evaluate.daily import materialize_day
from segment_pipeline.generate import GenerateParams, generate_landing
from segment_pipeline.warehouse import Warehouse, WarehouseSettings

REPO = Path(__file__).resolve().parents[2]

COMPANY_PREDICATES = [
    "company_id IN ('co_0001', 'co_0002') OR employee_count >= 10",
    "annual_revenue > 1000.5 AND annual_revenue <= 1e12",
    "founded_on < CAST('2020-01-01' AS DATE) OR founded_on >= DATE '2021-01-01'",
    "name LIKE 'A%' OR name ILIKE '%inc%' OR name LIKE 'a!%%' ESCAPE '!'",
    "NOT (country = 'JP') AND country <> 'US'",
    "employee_count BETWEEN 1 AND 100000",
    "industry IS NULL OR industry IS NOT NULL",
    "CASE WHEN employee_count > 100 THEN true ELSE false END",
    "IF(employee_count < 100, 1, 0) = 1",
    "employee_count % 2 = 0 AND employee_count * 2 - 1 + 3 / 1 > -5",
    "name || '!' = 'x!' OR name IS DISTINCT FROM 'x' OR name IS NOT DISTINCT FROM 'y'",
    "coalesce(lower(name), upper(name), trim(name)) = 'x' OR length(name) > 3",
    "abs(employee_count) > 1 AND round(annual_revenue) > 0",
    "year(founded_on) > 1900 AND quarter(founded_on) >= 1 AND month(founded_on) >= 1",
    "week(founded_on) >= 0 AND day(founded_on) >= 1 AND dayofmonth(founded_on) >= 1",
    "dayofweek(founded_on) >= 0 AND dayofyear(founded_on) >= 1",
    "extract(year FROM founded_on) > 1900 AND try_cast(employee_count AS DOUBLE) > 0",
    "coalesce(industry, NULL) IS NULL OR true",
    "tech_stack IS NULL OR NOT list_contains(tech_stack, 'stripe') "
    "OR list_has_any(tech_stack, ['hubspot', 'segment'])",
]
CONTACT_PREDICATES = [
    "contact_id IN ('ct_00001', 'ct_00002') OR company_id IS NOT NULL",
    "is_former_employee",
    "signed_up_at >= TIMESTAMP '2025-01-01 00:00:00' AND hour(signed_up_at) >= 0",
    "seniority IN ('manager', 'director') OR title IS NULL",
]
EVENT_PREDICATES = [
    "properties.seats >= 3 OR properties.plan = 'pro' OR properties.plan IN ('a', 'b')",
    "properties.flag = true OR event_name = 'feature_used' OR occurred_at > '2020-01-01'",
    "properties.seats BETWEEN 1 AND 9 OR properties.seats + 1 > 2",
]


def _segments() -> dict[str, dict[str, object]]:
    segments: dict[str, dict[str, object]] = {}
    for index, predicate in enumerate(COMPANY_PREDICATES):
        segments[f"company_{index}"] = {"entity": "company", "where": {"attribute": predicate}}
    for index, predicate in enumerate(CONTACT_PREDICATES):
        segments[f"contact_{index}"] = {"entity": "contact", "where": {"attribute": predicate}}
    for index, predicate in enumerate(EVENT_PREDICATES):
        segments[f"event_{index}"] = {
            "entity": "contact",
            "where": {"event": "feature_used", "where": predicate},
        }
    segments["windows_and_counts"] = {
        "entity": "company",
        "where": {
            "any": [
                {"event": "pricing_viewed", "within": {"last_days": 7}},
                {"event": "feature_used", "count": {"at_least": 2}},
                {"event": "page_viewed", "count": {"at_most": 3}},
                {"event": "invite_sent", "count": {"exactly": 1}},
                {
                    "event": "demo_requested",
                    "within": {"from": "2026-01-01", "to": "2026-01-31"},
                    "count": {"between": [1, 3]},
                },
            ]
        },
    }
    segments["combined"] = {
        "entity": "contact",
        "where": {
            "all": [
                {"not": {"in_segment": "contact_1"}},
                {"any": [{"in_segment": "company_0"}, {"company": "employee_count >= 50"}]},
                {"in_segment": "event_0"},
            ]
        },
    }
    segments["sequences_and_lifecycle"] = {
        "entity": "contact",
        "where": {
            "any": [
                {
                    "sequence": {
                        "steps": [
                            {"event": "trial_started"},
                            {"event": "pricing_viewed", "where": "properties.plan = 'pro'"},
                            {"event": ["feature_used", "invite_sent"]},
                        ],
                        "within_days": 3,
                        "within": {"last_days": 30},
                    }
                },
                {"restarted": {"event": "feature_used", "gap_days": 2}},
                {"restarted": {"event": "page_viewed", "gap_days": 1, "within": {"last_days": 7}}},
                {
                    "regularly": {
                        "event": {"like": "feature%"},
                        "where": "properties.seats >= 1",
                        "period_days": 2,
                        "periods": 3,
                        "at_least": 2,
                    }
                },
                {
                    "regularly": {
                        "event": ["feature_used", "page_viewed"],
                        "where": "properties.plan IS NULL",
                        "period_days": 2,
                        "periods": 3,
                        "at_least": 2,
                    }
                },
            ]
        },
    }
    segments["referencing_company"] = {
        "entity": "company",
        "where": {"all": [{"in_segment": "windows_and_counts"}, {"in_segment": "company_1"}]},
    }
    return segments


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("constructs")
    # The example project shows each condition kind and model use once; the catalogue
    # below adds every predicate form.
    shutil.copytree(REPO / "dbt_like_sql", root / "project")
    for name, definition in _segments().items():
        path = root / "project" / "segments" / f"{name}.yml"
        path.write_text(yaml.safe_dump(definition, sort_keys=False))
    params = GenerateParams(companies=20, contacts=80, events=600, days=2)
    generate_landing(root / "landing", params)
    return root


def test_the_catalogue_uses_every_construct_the_validator_accepts(project):
    loaded = load_project(project / "project")
    nodes: set[type] = set()
    kinds: set[str] = set()
    counts: set[str] = set()
    windows: set[str] = set()
    column_types: set[ColumnType] = set()
    sources: Sources = loaded.sources
    for segment in loaded.segments.values():
        raw = yaml.safe_load(segment.file.read_text())
        kinds |= _condition_keys(raw["where"])
        for _, leaf in iter_leaves(segment.where):
            predicates = [getattr(leaf, "predicate", None)]
            if isinstance(leaf, EventCondition):
                predicates = [leaf.where]
                counts |= _keys_under(raw["where"], "count")
                windows |= _keys_under(raw["where"], "within")
            for predicate in filter(None, predicates):
                for node in predicate.expression.walk():
                    nodes.add(type(node))
                    if node.key != "column":
                        continue
                    for entity in ("company", "contact"):
                        kind = {**sources.table(entity).columns}.get(node.name)
                        if kind is not None:
                            column_types.add(kind)
    allowed = set(ALLOWED_NODES) | set(ALLOWED_FUNCTIONS)
    assert allowed - nodes == set(), "add a predicate using these to the catalogue"
    assert set(CONDITION_KEYS) - kinds == set()
    assert set(COUNT_KEYS) - counts == set()
    assert set(WINDOW_KEYS) - windows == set()
    assert set(ColumnType) - column_types == set()


def _cli(root: Path, *args: str) -> tuple[int, str]:
    common = ["--project-dir", "project", "--landing-dir", "landing", "--warehouse", "w.duckdb"]
    result = CliRunner().invoke(main, [*common, *args], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def ran(project: Path) -> Path:
    """The catalogue validated, then run over two days through the CLI."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        code, output = _cli(project, "validate")
        assert code == 0, output
        code, output = _cli(project, "run", "--start", "2026-01-01", "--end", "2026-01-02")
        assert code == 0, output
    return project


def test_every_accepted_construct_runs(ran):
    with duckdb.connect(str(ran / "w.duckdb"), read_only=True) as connection:
        evaluated = connection.execute(
            "select segment, count(*) from segment_snapshot_runs group by segment"
        ).fetchall()
        members = connection.execute(
            "select count(*) from segment_snapshots where segment = 'contact_0'"
        ).fetchone()
    example = {path.stem for path in (REPO / "dbt_like_sql" / "segments").glob("*.yml")}
    assert dict(evaluated) == {name: 2 for name in [*_segments(), *example]}
    assert members is not None and members[0] > 0


def test_an_engine_error_names_the_segment_and_the_step(ran, tmp_path):
    shutil.copy(ran / "w.duckdb", tmp_path / "w.duckdb")
    project = load_project(ran / "project")
    settings = WarehouseSettings(path=tmp_path / "w.duckdb")
    with Warehouse.open(settings) as warehouse:
        # A warehouse out of step with sources.yml (a column dropped by hand).
        warehouse.execute(sqlglot.parse_one("ALTER TABLE contacts_history DROP COLUMN title"))
        with pytest.raises(EngineError) as raised:
            materialize_day(warehouse, project, date(2026, 1, 3), ["contact_3"])
    message = str(raised.value)
    assert "segment" in message and "contact_3" in message
    assert "failed in the warehouse" in message and "\n" not in message


def test_a_project_whose_contacts_have_no_company_runs(tmp_path, monkeypatch):
    (tmp_path / "project" / "segments").mkdir(parents=True)
    sources = {
        "companies": {"columns": {"employee_count": "integer"}},
        "contacts": {"columns": {"title": "text"}},
    }
    (tmp_path / "project" / "sources.yml").write_text(yaml.safe_dump(sources))
    segments = {
        "users": {"entity": "contact", "where": {"event": "feature_used"}},
        "active_companies": {"entity": "company", "where": {"event": "feature_used"}},
        "big": {"entity": "company", "where": {"attribute": "employee_count > 5"}},
    }
    for name, definition in segments.items():
        (tmp_path / "project" / "segments" / f"{name}.yml").write_text(yaml.safe_dump(definition))
    generate_landing(
        tmp_path / "landing", GenerateParams(companies=5, contacts=20, events=100, days=1)
    )
    monkeypatch.chdir(tmp_path)
    code, output = _cli(tmp_path, "run", "--start", "2026-01-01", "--end", "2026-01-01")
    assert code == 0, output
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as connection:
        users = connection.execute(
            "select count(*) from segment_snapshots where segment = 'users'"
        ).fetchone()
        companies = connection.execute(
            "select count(*) from segment_snapshots where segment = 'active_companies'"
        ).fetchone()
    assert users is not None and users[0] > 0
    # Events carrying their own company_id still count for it; the others belong to none.
    assert companies is not None

    (tmp_path / "project" / "segments" / "engineers.yml").write_text(
        "entity: contact\nwhere: {company: 'employee_count > 5'}\n"
    )
    (tmp_path / "project" / "segments" / "of_big.yml").write_text(
        "entity: contact\nwhere: {in_segment: big}\n"
    )
    result = CliRunner().invoke(main, ["--project-dir", "project", "validate"])
    assert result.exit_code == 1
    assert "engineers.yml: where.company: company: conditions read the contact's company" in (
        result.output
    )
    assert "of_big.yml: where.in_segment: big is a company segment" in result.output


def _condition_keys(raw: object) -> set[str]:
    found: set[str] = set()
    if isinstance(raw, dict):
        for key, value in raw.items():
            if key in CONDITION_KEYS:
                found.add(key)
            found |= _condition_keys(value)
    elif isinstance(raw, list):
        for item in raw:
            found |= _condition_keys(item)
    return found


def _keys_under(raw: object, name: str) -> set[str]:
    found: set[str] = set()
    if isinstance(raw, dict):
        for key, value in raw.items():
            if key == name and isinstance(value, dict):
                found |= set(value)
            found |= _keys_under(value, name)
    elif isinstance(raw, list):
        for item in raw:
            found |= _keys_under(item, name)
    return found
