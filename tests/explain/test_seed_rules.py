"""The four seed rules (SPEC 5) through `explain`: after each definition change (a segment
YAML edited in the project, the day materialised again through Dagster) the explanation
names the new condition, and its join instant is the snapshot's.

One contact, `c1`: an ic from 2025-11-01 and a manager from 2025-12-15; it does `a1` on
2025-12-01 and `a2` on 2025-12-05, `w` on 2025-12-10 and 2025-12-20, `f` twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest

from tests.conftest import Landing, ProjectDir
from tests.show.conftest import DAYS, Runner

from .conftest import explained, flips, is_member, snapshot_joined_at

DAY = DAYS[0]


def _event(name: str, **extra: object) -> dict[str, object]:
    return {"event": name, **extra}


#: segment: (definition before, definition after the change)
RULES: dict[str, tuple[dict[str, object], dict[str, object]]] = {
    "event_rule": (_event("a1"), _event("a2")),
    "window_rule": (
        _event("w", within={"from": "2025-12-09", "to": "2025-12-11"}),
        _event("w", within={"from": "2025-12-19", "to": "2025-12-21"}),
    ),
    "frequency_rule": (
        _event("f", count={"at_least": 2}),
        _event("f", count={"at_least": 3}),
    ),
    "attribute_rule": ({"attribute": "seniority = 'ic'"}, {"attribute": "seniority = 'manager'"}),
}
EVENTS = [
    ("a1", "2025-12-01T10:00:00Z"),
    ("a2", "2025-12-05T10:00:00Z"),
    ("w", "2025-12-10T10:00:00Z"),
    ("w", "2025-12-20T10:00:00Z"),
    ("f", "2025-12-02T10:00:00Z"),
    ("f", "2025-12-03T10:00:00Z"),
]


@dataclass(frozen=True)
class Explained:
    """A segment's explanation of `c1` before and after its change, and the snapshot's
    join time after it (None: not a member)."""

    before: str
    after: str
    joined_at: datetime | None


@pytest.fixture(scope="module")
def explanations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Explained]:
    """Every rule's segment explained, changed, the day run again, explained again."""
    root = tmp_path_factory.mktemp("seed_rules")
    project, landing = ProjectDir(root / "project"), Landing(root / "landing")
    for name, (before, _) in RULES.items():
        project.segment(name, {"entity": "contact", "where": before})
    landing.jsonl(
        DAY.isoformat(),
        "contacts",
        [
            {"contact_id": "c1", "updated_at": "2025-11-01T00:00:00Z", "seniority": "ic"},
            {"contact_id": "c1", "updated_at": "2025-12-15T00:00:00Z", "seniority": "manager"},
        ],
    )
    landing.jsonl(
        DAY.isoformat(),
        "events",
        [
            {"event_id": f"e{n}", "contact_id": "c1", "event_name": name, "occurred_at": at}
            for n, (name, at) in enumerate(EVENTS)
        ],
    )
    runner = Runner(project.root, landing.root, root / "warehouse.duckdb")
    runner.materialize([DAY])
    before = {name: explained(runner.settings, name, "c1", DAY) for name in RULES}
    for name, (_, after) in RULES.items():
        project.segment(name, {"entity": "contact", "where": after})
    runner.materialize([DAY])
    warehouse = runner.settings.warehouse
    return {
        name: Explained(
            before[name],
            explained(runner.settings, name, "c1", DAY),
            snapshot_joined_at(warehouse, name, "c1", DAY)
            if is_member(warehouse, name, "c1", DAY)
            else None,
        )
        for name in RULES
    }


def _joined(output: str) -> tuple[datetime, str]:
    """The instant and words of the explanation's last flip, a join."""
    last = flips(output)[-1]
    assert last.change == "joined", output
    return last.at, last.words


def test_event_change(explanations: dict[str, Explained]) -> None:
    rule = explanations["event_rule"]
    assert _joined(rule.before) == (
        datetime(2025, 12, 1, 10),
        "where event a1 reached 1 (needs at least 1)",
    )
    at, words = _joined(rule.after)
    assert (at, words) == (datetime(2025, 12, 5, 10), "where event a2 reached 1 (needs at least 1)")
    assert at == rule.joined_at


def test_window_change(explanations: dict[str, Explained]) -> None:
    rule = explanations["window_rule"]
    assert _joined(rule.before) == (
        datetime(2025, 12, 10, 10),
        "where event w from 2025-12-09 to 2025-12-11 reached 1 (needs at least 1)",
    )
    at, words = _joined(rule.after)
    assert at == datetime(2025, 12, 20, 10) == rule.joined_at
    assert words == "where event w from 2025-12-19 to 2025-12-21 reached 1 (needs at least 1)"


def test_frequency_change(explanations: dict[str, Explained]) -> None:
    rule = explanations["frequency_rule"]
    assert _joined(rule.before) == (
        datetime(2025, 12, 3, 10),
        "where event f reached 2 (needs at least 2)",
    )
    assert rule.joined_at is None
    assert flips(rule.after) == []
    assert "  never a member" in rule.after
    assert "  where event f: does not hold (2 times, needs at least 3)" in rule.after


def test_attribute_change(explanations: dict[str, Explained]) -> None:
    rule = explanations["attribute_rule"]
    assert [(flip.at, flip.change, flip.words) for flip in flips(rule.before)] == [
        (datetime(2025, 11, 1), "joined", "the contact record appeared"),
        (datetime(2025, 12, 15), "left", "where attribute seniority = 'ic' became false"),
    ]
    at, words = _joined(rule.after)
    assert at == datetime(2025, 12, 15) == rule.joined_at
    assert words == "where attribute seniority = 'manager' became true"
