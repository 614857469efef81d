"""A static company segment keeps its picked contacts until refreshed (SPEC 7), through real
Dagster materialisations: contacts that change title, move or leave stay picked, and a
refresh re-picks them with the removal reason that applies (SPEC 8)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import yaml

from tests.conftest import SOURCES
from tests.evaluate.test_personas import ACCOUNTS, BEFORE, contact, contact_deltas, picks

DAY1, DAY2, DAY3 = date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)
CHANGED = "2026-01-06T08:00:00Z"


def known(*values: object) -> tuple[object, ...]:
    """Values with NULL read back as None."""
    return tuple(None if pd.isna(value) else value for value in values)


@pytest.fixture
def frozen(pipeline, project_dir, landing):
    """Day 1 picks; on day 2 one picked contact changes title, one moves, one leaves."""
    sources = {
        **SOURCES,
        "contacts": {"columns": {**SOURCES["contacts"]["columns"], "title": "text"}},
    }
    (project_dir.root / "sources.yml").write_text(yaml.safe_dump(sources))
    project_dir.segment("accounts", {**ACCOUNTS, "mode": "static"})
    landing.jsonl(
        "2026-01-05",
        "companies",
        [
            {"company_id": name, "updated_at": BEFORE, "employee_count": 800}
            for name in ("acme", "gamma", "omega")
        ],
    )
    landing.jsonl(
        "2026-01-05",
        "contacts",
        [
            contact("a_vp", "acme", seniority="vp", title="CFO"),
            contact("g_mover", "gamma", title="Growth"),
            contact("g_former", "gamma", title="Growth hacker", is_former_employee=False),
            contact("o_title", "omega", title="Growth manager"),
        ],
    )
    landing.jsonl(
        "2026-01-06",
        "contacts",
        [
            {**contact("g_mover", "acme", title="Growth"), "updated_at": CHANGED},
            {
                **contact("g_former", "gamma", title="Growth hacker", is_former_employee=True),
                "updated_at": CHANGED,
            },
            {**contact("o_title", "omega", title="Office manager"), "updated_at": CHANGED},
        ],
    )
    pipeline.materialize(DAY1)
    pipeline.materialize(DAY2)
    return pipeline


def test_static_segment_keeps_its_picked_contacts_until_refreshed(frozen):
    joined = pd.Timestamp(BEFORE).tz_localize(None)
    day1 = {
        "a_vp": ("acme", "buyer", 1, joined),
        "g_mover": ("gamma", "champion", 2, joined),
        "g_former": ("gamma", "champion", 2, joined),
        "o_title": ("omega", "champion", 2, joined),
    }
    assert picks(frozen, DAY1) == day1
    assert picks(frozen, DAY2) == day1
    assert contact_deltas(frozen, DAY2).empty


def test_a_refresh_repicks_the_contacts_with_their_reasons(frozen):
    frozen.materialize(DAY3, refresh_static=["accounts"])
    joined = pd.Timestamp(BEFORE).tz_localize(None)
    changed = pd.Timestamp(CHANGED).tz_localize(None)
    assert picks(frozen, DAY3) == {
        "a_vp": ("acme", "buyer", 1, joined),
        "g_mover": ("acme", "champion", 2, changed),
    }
    deltas = contact_deltas(frozen, DAY3)
    assert {
        (row.change, row.entity_id, row.company_id, *known(row.reason, row.reason_detail))
        for row in deltas.itertuples()
    } == {
        ("added", "g_mover", "acme", None, None),
        (
            "removed",
            "g_mover",
            "gamma",
            "left_company",
            "the contact moved from company gamma to company acme",
        ),
        (
            "removed",
            "g_former",
            "gamma",
            "left_company",
            "the contact is a former employee of company gamma",
        ),
        (
            "removed",
            "o_title",
            "omega",
            "persona_mismatch",
            "no persona matches any more (was champion): title is now 'Office manager'",
        ),
    }
