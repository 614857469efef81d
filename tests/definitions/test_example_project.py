"""The example project in dbt_like_sql/ validates and exercises every condition kind."""

from __future__ import annotations

import re
from pathlib import Path

from segment_pipeline.definitions.conditions import (
    AllOf,
    AnyOf,
    Attribute,
    AttributeAge,
    CompanyAttribute,
    Condition,
    InSegment,
    Not,
    Split,
)
from segment_pipeline.definitions.destinations import CsvDestination, WebhookDestination
from segment_pipeline.definitions.event_conditions import (
    Aggregate,
    EventCondition,
    EventSequence,
    FirstEvent,
    LastEvent,
)
from segment_pipeline.definitions.project import load_project
from segment_pipeline.definitions.validate import validate_project

from .conftest import EXAMPLE_PROJECT

SUMMARY = re.compile(
    r"^[a-z][a-z0-9_]* +entity=(company|contact)  mode=(dynamic|static)  "
    r"version=[0-9a-f]{12}  refs=([a-z0-9_,]+|-)(  models=[a-z0-9_,]+)?$"
)


def _walk(condition: Condition) -> list[Condition]:
    found = [condition]
    if isinstance(condition, AllOf | AnyOf):
        for child in condition.conditions:
            found.extend(_walk(child))
    elif isinstance(condition, Not):
        found.extend(_walk(condition.condition))
    return found


def test_example_project_validates():
    project, lines = validate_project(EXAMPLE_PROJECT)
    assert project is not None, "\n".join(lines)
    assert len(project.segments) >= 5
    assert len(lines) == len(project.segments)
    assert all(SUMMARY.match(line) for line in lines), lines


def test_segments_come_after_what_they_refer_to():
    project = load_project(EXAMPLE_PROJECT)
    order = list(project.segments)
    for position, segment in enumerate(project.segments.values()):
        assert all(order.index(ref) < position for ref in segment.references)


def test_example_uses_every_kind_of_condition():
    project = load_project(EXAMPLE_PROJECT)
    nodes = [node for s in project.segments.values() for node in _walk(s.where)]
    kinds = {type(node) for node in nodes}
    assert kinds == {
        AllOf,
        AnyOf,
        Not,
        Attribute,
        CompanyAttribute,
        EventCondition,
        Aggregate,
        FirstEvent,
        LastEvent,
        EventSequence,
        Split,
        AttributeAge,
        InSegment,
    }
    events = [node for node in nodes if isinstance(node, EventCondition)]
    assert {event.count.op for event in events} == {"at_least", "at_most", "exactly", "between"}
    assert any(event.where is not None for event in events)
    assert any(event.within.last_days is not None for event in events)
    assert any(event.within.start is not None for event in events)
    assert any(event.within.is_all_time for event in events)
    entities = {name: s.entity for name, s in project.segments.items()}
    references = {
        (entities[name], entities[ref])
        for name, s in project.segments.items()
        for ref in s.references
    }
    assert ("contact", "company") in references
    assert {s.mode for s in project.segments.values()} == {"dynamic", "static"}
    assert any(s.personas is not None for s in project.segments.values())


def test_example_journey_and_destinations():
    project = load_project(EXAMPLE_PROJECT)
    journey = project.journeys["trial_nurture"]
    assert journey.trigger_segment in project.segments
    assert journey.duration_days >= 1
    assert journey.file == EXAMPLE_PROJECT / "journeys" / "trial_nurture.yml"
    webhook, csv = project.destinations
    assert isinstance(webhook, WebhookDestination)
    assert webhook.url == "http://127.0.0.1:8080/segments"
    assert webhook.secret_env == "SEGMENT_WEBHOOK_SECRET"
    assert isinstance(csv, CsvDestination)
    assert csv.path == "exports/"


def test_example_segments_are_named_after_their_files():
    project = load_project(EXAMPLE_PROJECT)
    for name, segment in project.segments.items():
        assert segment.file == Path(EXAMPLE_PROJECT / "segments" / f"{name}.yml")


def test_example_models_cover_scores_tags_and_a_model_reading_a_model():
    project = load_project(EXAMPLE_PROJECT)
    models = project.models
    assert set(models) == {"company_fit", "company_tags", "fit_tiers"}
    assert models["fit_tiers"].depends_on == ("company_fit",)
    assert "events" in models["company_fit"].source_tables
    readers = {name: s.models for name, s in project.segments.items() if s.models}
    assert readers == {
        "enterprise_software": ("company_tags",),
        "tier_a_leaders": ("fit_tiers",),
        "top_fit_accounts": ("company_fit",),
    }


def test_example_tests_a_list_attribute_with_both_list_functions():
    from sqlglot import exp

    from segment_pipeline.definitions.sources import ColumnType

    project = load_project(EXAMPLE_PROJECT)
    assert project.sources.companies.columns["tech_stack"] == ColumnType.LIST_TEXT
    leaves = [
        node.predicate.expression
        for node in _walk(project.segments["stripe_on_hubspot"].where)
        if isinstance(node, Attribute)
    ]
    kinds = (exp.ArrayContains, exp.ArrayOverlaps)
    tests = [test for leaf in leaves for test in leaf.find_all(*kinds)]
    assert {type(test) for test in tests} == set(kinds)
    assert {test.this.name for test in tests} == {"tech_stack"}
