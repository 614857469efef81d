"""Definition versions (SPEC 4.1) in both directions: same meaning, same version; a change of
meaning, or of a referenced segment or model, gives a new version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segment_pipeline.definitions.project import load_project

from .conftest import Write

BASE = """
name: big
entity: company
description: Big accounts looking at pricing
where:
  all:
    - attribute: "employee_count >= 500 AND country IN ('GB', 'US')"
    - event: pricing_viewed
      where: "properties.plan = 'pro'"
      within: {last_days: 30}
      count: {at_least: 3}
    - not:
        in_segment: churned
personas:
  max_contacts_per_company: 3
  list:
    - name: buyer
      where: "seniority IN ('vp', 'cxo')"
      max_contacts: 1
"""

CHURNED = "entity: company\nwhere:\n  event: signup\n  count: {exactly: 0}\n"

SAME_MEANING = {
    "reformatted, reordered, commented": """
        # a comment that changes nothing
        where:
          all:
          -   attribute: 'employee_count>=500 and country in (''GB'',''US'')'   # spacing, case
          -   count: {at_least: 3}
              within:
                last_days: 30
              where: properties.plan='pro'
              event: pricing_viewed
          -   not: {in_segment: churned}
        personas:
          list:
          - {max_contacts: 1, where: "seniority in ('vp','cxo')", name: buyer}
          max_contacts_per_company: 3
        entity: company
        mode: dynamic
        """,
    "description changed": BASE.replace("Big accounts looking at pricing", "Something else"),
    "name left to the file stem": BASE.replace("name: big\n", ""),
}

OTHER_MEANING = {
    "a literal": BASE.replace(">= 500", ">= 501"),
    "an operator": BASE.replace(">= 500", "> 500"),
    "the count": BASE.replace("at_least: 3", "at_least: 4"),
    "the count operator": BASE.replace("at_least: 3", "at_most: 3"),
    "the window": BASE.replace("last_days: 30", "last_days: 31"),
    "the window kind": BASE.replace("last_days: 30", "from: 2026-01-01, to: 2026-01-30"),
    "the event": BASE.replace("event: pricing_viewed", "event: pricing_viewd"),
    "the event filter": BASE.replace("properties.plan = 'pro'", "properties.plan = 'free'"),
    "the mode": BASE.replace("entity: company", "entity: company\nmode: static"),
    "a persona's limit": BASE.replace("max_contacts: 1", "max_contacts: 2"),
    "the persona order": BASE.replace(
        "      max_contacts: 1\n",
        "      max_contacts: 1\n    - name: champion\n      where: \"title LIKE '%growth%'\"\n",
    ),
    "the company limit": BASE.replace("max_contacts_per_company: 3", "max_contacts_per_company: 2"),
    "the reference": BASE.replace("in_segment: churned", "in_segment: churned2"),
    "all to any": BASE.replace("  all:", "  any:"),
}


def _versions(write: Write, project_dir: Path, big: str, churned: str = CHURNED) -> dict[str, str]:
    write("segments/big.yml", big)
    write("segments/churned.yml", churned)
    write("segments/churned2.yml", CHURNED)
    project = load_project(project_dir)
    return {name: segment.version for name, segment in project.segments.items()}


@pytest.mark.parametrize("text", SAME_MEANING.values(), ids=SAME_MEANING.keys())
def test_same_meaning_same_version(write: Write, project_dir: Path, text: str):
    assert _versions(write, project_dir, text)["big"] == _versions(write, project_dir, BASE)["big"]


@pytest.mark.parametrize("text", OTHER_MEANING.values(), ids=OTHER_MEANING.keys())
def test_other_meaning_other_version(write: Write, project_dir: Path, text: str):
    assert _versions(write, project_dir, text)["big"] != _versions(write, project_dir, BASE)["big"]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("count: {exactly: 3}", "count: {between: [3, 3]}"),
        ("count: {at_most: 3}", "count: {between: [0, 3]}"),
        ("count: {at_least: 1}", ""),
        ("within: {}", ""),
    ],
)
def test_counts_and_windows_by_meaning(write: Write, project_dir: Path, one: str, other: str):
    def segment(extra: str) -> str:
        return f"entity: company\nwhere:\n  event: signup\n  {extra}\n"

    first = _versions(write, project_dir, segment(one))["big"]
    assert _versions(write, project_dir, segment(other))["big"] == first


def test_editing_a_referenced_segment_changes_its_dependents(write: Write, project_dir: Path):
    write("segments/top.yml", "entity: contact\nwhere: {in_segment: big}\n")
    before = _versions(write, project_dir, BASE)
    after = _versions(write, project_dir, BASE, CHURNED.replace("exactly: 0", "exactly: 1"))
    assert after["churned"] != before["churned"]
    assert after["big"] != before["big"]  # refers to churned
    assert after["top"] != before["top"]  # refers to big, which refers to churned
    assert after["churned2"] == before["churned2"]  # unrelated


def test_editing_only_a_comment_of_a_referenced_segment_changes_nothing(
    write: Write, project_dir: Path
):
    before = _versions(write, project_dir, BASE)
    after = _versions(write, project_dir, BASE, "# new comment\n" + CHURNED)
    assert after == before


def test_editing_a_model_changes_the_segments_reading_it(write: Write, project_dir: Path):
    model = "-- entity: company, key: company_id\nselect company_id, 80 as score from companies\n"
    write("models/company_fit.sql", model)
    write("segments/fit.yml", "entity: company\nwhere: {attribute: 'company_fit.score >= 70'}\n")
    before = _versions(write, project_dir, BASE)
    write("models/company_fit.sql", "-- a comment\n" + model)
    assert _versions(write, project_dir, BASE) == before
    write("models/company_fit.sql", model.replace("80", "90"))
    after = _versions(write, project_dir, BASE)
    assert after["fit"] != before["fit"]
    assert after["big"] == before["big"]


def test_definition_json_is_what_the_version_hashes(write: Write, project_dir: Path):
    write("segments/big.yml", BASE)
    write("segments/churned.yml", CHURNED)
    project = load_project(project_dir)
    big, churned = project.segments["big"], project.segments["churned"]
    definition = json.loads(big.definition_json())
    assert definition == {
        "name": "big",
        "entity": "company",
        "mode": "dynamic",
        "where": {
            "all": [
                {"attribute": "employee_count >= 500 AND country IN ('GB', 'US')"},
                {
                    "event": "pricing_viewed",
                    "where": "properties.plan = 'pro'",
                    "within": {"last_days": 30},
                    "count": {"at_least": 3},
                },
                {"not": {"in_segment": "churned"}},
            ]
        },
        "personas": {
            "max_contacts_per_company": 3,
            "list": [{"name": "buyer", "where": "seniority IN ('vp', 'cxo')", "max_contacts": 1}],
        },
        "depends_on": {"segments": {"churned": churned.version}, "models": {}},
    }
    assert len(big.version) == 12
    assert int(big.version, 16) >= 0
    assert "description" not in definition


def test_version_is_stable_across_runs(write: Write, project_dir: Path):
    """A golden value: if this changes, every deployed segment would look redefined."""
    write("segments/churned.yml", CHURNED)
    assert load_project(project_dir).segments["churned"].version == "abb68a1baa0e"


SEQUENCE = """
entity: contact
where:
  sequence:
    steps:
      - {event: trial_started}
      - {event: pricing_viewed, where: "properties.plan = 'pro'"}
    within_days: 3
    within: {last_days: 30}
"""


@pytest.mark.parametrize(
    ("text", "same"),
    [
        (SEQUENCE.replace("{event: trial_started}", "{event: [trial_started]}"), True),
        (
            SEQUENCE.replace(
                "{event: pricing_viewed, where: \"properties.plan = 'pro'\"}",
                "{where: \"properties.plan='pro'\", event: pricing_viewed}",
            ),
            True,
        ),
        (SEQUENCE.replace("within_days: 3", "within_days: 4"), False),
        (SEQUENCE.replace("last_days: 30", "last_days: 31"), False),
        (SEQUENCE.replace("    within: {last_days: 30}\n", ""), False),
        (SEQUENCE.replace("'pro'", "'free'"), False),
        (
            SEQUENCE.replace("trial_started", "first")
            .replace("pricing_viewed", "trial_started")
            .replace("first", "pricing_viewed"),
            False,
        ),
        (SEQUENCE.replace("    within_days", "      - {event: checkout}\n    within_days"), False),
    ],
)
def test_sequence_versions_by_meaning(write: Write, project_dir: Path, text: str, same: bool):
    """Step order, gap, window and each step's events are the meaning; spelling is not."""
    base = _versions(write, project_dir, SEQUENCE)["big"]
    assert (_versions(write, project_dir, text)["big"] == base) is same


LIFECYCLE = {
    "restarted": (
        "restarted: {event: app_opened, gap_days: 14, within: {last_days: 7}}",
        "restarted: {within: {last_days: 7}, gap_days: 14, event: [app_opened]}",
        ["gap_days: 14", "gap_days: 15", "last_days: 7", "last_days: 8"],
    ),
    "regularly": (
        "regularly: {event: app_opened, period_days: 7, periods: 4, at_least: 3}",
        "regularly: {at_least: 3, periods: 4, period_days: 7, event: [app_opened]}",
        [
            *("period_days: 7", "period_days: 1", "periods: 4", "periods: 5"),
            *("at_least: 3", "at_least: 2", "app_opened,", "app_closed,"),
        ],
    ),
}


@pytest.mark.parametrize("kind", LIFECYCLE, ids=LIFECYCLE.keys())
def test_lifecycle_kinds_by_meaning(write: Write, project_dir: Path, kind: str):
    """Key order and a list of one name change nothing; every number of the kind does."""
    written, reordered, edits = LIFECYCLE[kind]

    def version(condition: str) -> str:
        return _versions(write, project_dir, f"entity: contact\nwhere:\n  {condition}\n")["big"]

    assert version(reordered) == version(written)
    for old, new in zip(edits[::2], edits[1::2], strict=True):
        assert version(written.replace(old, new)) != version(written)
