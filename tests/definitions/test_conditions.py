"""The condition tree: counts, windows, leaf paths and the words a marketer reads."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from segment_pipeline.definitions.condition_parts import Count, Window
from segment_pipeline.definitions.conditions import (
    AllOf,
    AnyOf,
    Attribute,
    CompanyAttribute,
    InSegment,
    Not,
    describe_leaf,
    iter_leaves,
)
from segment_pipeline.definitions.event_conditions import EventCondition, EventSequence
from segment_pipeline.definitions.predicates import (
    PredicateScope,
    event_scope,
    parse_predicate,
)
from segment_pipeline.definitions.sources import ColumnType

COMPANY = PredicateScope(
    "company attributes",
    {"employee_count": ColumnType.INTEGER, "country": ColumnType.TEXT},
)


@pytest.mark.parametrize(
    ("count", "low", "high", "words", "holds", "fails"),
    [
        (Count.at_least(3), 3, None, "at least 3", [3, 4, 1000], [0, 2]),
        (Count.at_most(2), 0, 2, "at most 2", [0, 1, 2], [3]),
        (Count.exactly(1), 1, 1, "exactly 1", [1], [0, 2]),
        (Count.between(2, 5), 2, 5, "between 2 and 5", [2, 3, 5], [1, 6]),
        (Count.exactly(0), 0, 0, "exactly 0", [0], [1]),
    ],
)
def test_count(count: Count, low, high, words, holds, fails):
    assert (count.low, count.high) == (low, high)
    assert count.describe() == words
    assert all(count.holds(n) for n in holds)
    assert not any(count.holds(n) for n in fails)


def test_count_rejects_an_empty_range():
    with pytest.raises(ValidationError):
        Count(op="between", low=3, high=1)
    with pytest.raises(ValidationError):
        Count(op="at_least", low=-1)


@pytest.mark.parametrize(
    ("window", "words"),
    [
        (Window(last_days=30), "in the last 30 days"),
        (Window(last_days=1), "in the last 1 day"),
        (
            Window(start=date(2026, 6, 1), end=date(2026, 6, 30)),
            "from 2026-06-01 to 2026-06-30",
        ),
        (Window(), ""),
    ],
)
def test_window_describe(window: Window, words: str):
    assert window.describe() == words


def test_window_rejects_nonsense():
    with pytest.raises(ValidationError, match="after"):
        Window(start=date(2026, 6, 30), end=date(2026, 6, 1))
    with pytest.raises(ValidationError, match="not both"):
        Window(last_days=3, start=date(2026, 6, 1), end=date(2026, 6, 2))
    with pytest.raises(ValidationError, match="together"):
        Window(start=date(2026, 6, 1))


def test_iter_leaves_paths_in_definition_order():
    big = Attribute(predicate=parse_predicate("employee_count >= 500", COMPANY))
    pricing = EventCondition(event="pricing_viewed")
    tree = AllOf(
        conditions=(
            big,
            pricing,
            Not(condition=InSegment(segment="churned_accounts")),
            AnyOf(conditions=(InSegment(segment="a"), InSegment(segment="b"))),
        )
    )
    assert [path for path, _ in iter_leaves(tree)] == [
        "where.all[0]",
        "where.all[1]",
        "where.all[2].not",
        "where.all[3].any[0]",
        "where.all[3].any[1]",
    ]
    assert list(iter_leaves(big)) == [("where", big)]


def test_describe_leaf():
    assert (
        describe_leaf(Attribute(predicate=parse_predicate("employee_count>=500", COMPANY)))
        == "attribute employee_count >= 500"
    )
    assert (
        describe_leaf(
            CompanyAttribute(predicate=parse_predicate("country in ('GB','US')", COMPANY))
        )
        == "company country IN ('GB', 'US')"
    )
    event = EventCondition(
        event="pricing_viewed",
        where=parse_predicate("properties.plan = 'pro'", event_scope()),
        within=Window(last_days=30),
        count=Count.at_least(3),
    )
    assert (
        describe_leaf(event)
        == "event pricing_viewed where properties.plan = 'pro' in the last 30 days"
    )
    assert describe_leaf(EventCondition(event="signup")) == "event signup"
    assert describe_leaf(InSegment(segment="churned_accounts")) == "in segment churned_accounts"


def test_list_tests_read_as_written_while_the_canonical_text_stays():
    tags = PredicateScope("company attributes", {"tech_stack": ColumnType.LIST_TEXT})
    predicate = parse_predicate(
        "list_has_any(tech_stack, ['hubspot', 'segment']) and not list_contains(tech_stack, 'x')",
        tags,
    )
    assert describe_leaf(CompanyAttribute(predicate=predicate)) == (
        "company LIST_HAS_ANY(tech_stack, ['hubspot', 'segment'])"
        " AND NOT LIST_CONTAINS(tech_stack, 'x')"
    )
    assert "ARRAY_CONTAINS(tech_stack, 'x')" in predicate.sql


def test_sequence_in_words_and_as_a_removal_reason():
    """A sequence reads as its steps in order; when it stops holding the reason says so."""
    from segment_pipeline.evaluate.reasons import Explainer

    sequence = EventSequence(
        steps=(
            EventCondition(event="trial_started"),
            EventCondition(
                names=("demo_booked", "pricing_viewed"),
                where=parse_predicate("properties.plan = 'pro'", event_scope()),
            ),
        ),
        within_days=3,
        within=Window(last_days=30),
    )
    words = (
        "sequence trial_started then demo_booked or pricing_viewed where properties.plan = "
        "'pro' within 3 days in the last 30 days"
    )
    assert describe_leaf(sequence) == words
    one_day = EventSequence(
        steps=(EventCondition(event="a"), EventCondition(like="b_%")), within_days=1
    )
    assert describe_leaf(one_day) == "sequence a then like 'b_%' within 1 day"
    explained = Explainer(AllOf(conditions=(sequence,))).explain(
        {"at_0": True, "at_1": False}, {}, None
    )
    assert explained == f"where.all[0]: {words}: is not met"
    negated = Explainer(Not(condition=sequence)).explain({"at_0": True, "at_1": True}, {}, None)
    assert negated == f"where.not: {words}: is met, must not be"


def test_a_sequence_has_two_or_three_steps_each_later_by_at_least_a_day():
    step = EventCondition(event="a")
    for steps in [(step,), (step,) * 4]:
        with pytest.raises(ValidationError):
            EventSequence(steps=steps, within_days=1)
    with pytest.raises(ValidationError):
        EventSequence(steps=(step, step), within_days=0)


def test_event_condition_defaults():
    event = EventCondition(event="signup")
    assert event.count == Count.at_least(1)
    assert event.within.is_all_time
    assert event.where is None


def test_conditions_are_frozen():
    event = EventCondition(event="signup")
    with pytest.raises(ValidationError):
        event.event = "other"  # type: ignore[misc]


def test_event_selectors_version_by_meaning(tmp_path):
    """A list of one name is that name; the order and repeats of a list do not matter; a
    pattern is its own kind of selector."""
    import shutil
    from pathlib import Path

    from segment_pipeline.definitions.project import load_project

    sources = Path(__file__).resolve().parents[2] / "dbt_like_sql" / "sources.yml"

    def version(selector: str) -> str:
        project = tmp_path / str(len(list(tmp_path.iterdir())))
        (project / "segments").mkdir(parents=True)
        shutil.copy(sources, project / "sources.yml")
        (project / "segments" / "a.yml").write_text(
            f"entity: contact\nwhere:\n  event: {selector}\n"
        )
        return load_project(project).segments["a"].version

    assert version("signup") == version("[signup]") == version("[signup, signup]")
    assert version("[x, signup]") == version("[signup, x, x]") != version("signup")
    assert version("{like: 'sign%'}") not in {version("signup"), version("[x, signup]")}


def _explained(where: str, count: int, holds: bool) -> str:
    """The reason a contact segment with one leaf gives when that leaf's value is `holds`
    and its count `count` (what the timeline holds at as_of)."""
    import yaml

    from segment_pipeline.compile.spec import LeafColumns
    from segment_pipeline.definitions.condition_loader import load_condition
    from segment_pipeline.definitions.condition_values import ConditionContext
    from segment_pipeline.evaluate.reasons import Explainer

    context = ConditionContext(
        file=Path("a.yml"),
        entity="contact",
        attributes=COMPANY,
        company=None,
        events=event_scope(),
    )
    condition = load_condition(yaml.safe_load(where), "where", context)
    assert condition is not None, context.errors
    leaf = LeafColumns(1)
    values = {leaf.at: holds, leaf.count_at: count}
    return Explainer(condition).explain(values, {}, None)


@pytest.mark.parametrize(
    ("where", "count", "holds", "reason"),
    [
        (
            "restarted: {event: app_opened, gap_days: 14, within: {last_days: 7}}",
            0,
            False,
            "where: event app_opened restarted after at least 14 days without it in the last "
            "7 days: no restart",
        ),
        (
            "not: {restarted: {event: app_opened, gap_days: 1}}",
            2,
            True,
            "where.not: event app_opened restarted after at least 1 day without it: restarted "
            "2 times, must not be",
        ),
        (
            "regularly: {event: app_opened, period_days: 7, periods: 4, at_least: 3}",
            2,
            False,
            "where: event app_opened in at least 3 of the last 4 periods of 7 days: in 2 of them",
        ),
        (
            "not: {regularly: {event: [a, b], period_days: 1, periods: 2, at_least: 1}}",
            1,
            True,
            "where.not: event a or b in at least 1 of the last 2 periods of 1 day: in 1 of "
            "them, must not be",
        ),
    ],
)
def test_lifecycle_reasons(where: str, count: int, holds: bool, reason: str):
    assert _explained(where, count, holds) == reason
