"""Deltas with removal reasons (SPEC 8), history, static segments, through Dagster runs."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

DAY1, DAY2 = date(2026, 1, 5), date(2026, 1, 6)
BEFORE = "2025-12-01T00:00:00Z"
CHANGED = "2026-01-06T08:00:00Z"

ENGAGED = {
    "entity": "company",
    "where": {
        "all": [
            {"attribute": "employee_count >= 500"},
            {"event": "pricing_viewed", "within": {"last_days": 3}},
            {"not": {"in_segment": "blocked"}},
        ]
    },
}
COMPANIES = ["keep", "shrink", "quiet", "gone", "blocked"]


@pytest.fixture
def accounts(pipeline, project_dir, landing):
    """Five member companies on day 1; on day 2 four leave, each for another reason."""
    project_dir.segment("blocked", {"entity": "company", "where": {"attribute": "country = 'XX'"}})
    project_dir.segment("engaged", ENGAGED)
    project_dir.segment(
        "british_contacts", {"entity": "contact", "where": {"company": "country = 'GB'"}}
    )
    landing.jsonl(
        "2026-01-05",
        "companies",
        [
            {"company_id": name, "updated_at": BEFORE, "employee_count": 800, "country": "GB"}
            for name in COMPANIES
        ],
    )
    landing.jsonl(
        "2026-01-05",
        "contacts",
        [
            {"contact_id": f"c_{name}", "updated_at": BEFORE, "company_id": name}
            for name in COMPANIES
        ],
    )
    landing.jsonl(
        "2026-01-05",
        "events",
        [
            {
                "event_id": f"e_{name}",
                "contact_id": f"c_{name}",
                "event_name": "pricing_viewed",
                "occurred_at": "2026-01-03T06:00:00Z"
                if name == "quiet"
                else "2026-01-05T10:00:00Z",
            }
            for name in COMPANIES
        ],
    )
    landing.jsonl(
        "2026-01-06",
        "companies",
        [
            {"company_id": "shrink", "updated_at": CHANGED, "employee_count": 320, "country": "GB"},
            {"company_id": "gone", "updated_at": CHANGED, "is_deleted": True},
            {
                "company_id": "blocked",
                "updated_at": CHANGED,
                "employee_count": 800,
                "country": "XX",
            },
        ],
    )
    pipeline.run(DAY1, DAY2)
    return pipeline


def day_rows(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    return frame[frame["snapshot_date"] == pd.Timestamp(day)].reset_index(drop=True)


def removals(pipeline, segment: str, day: date) -> dict[str, tuple[str, str | None]]:
    deltas = day_rows(pipeline.table("segment_deltas", segment), day)
    removed = deltas[deltas["change"] == "removed"]
    return {
        row.entity_id: (row.reason, None if pd.isna(row.reason_detail) else row.reason_detail)
        for row in removed.itertuples()
    }


def test_first_snapshot_adds_everyone(accounts):
    deltas = day_rows(accounts.table("segment_deltas", "engaged"), DAY1)
    assert sorted(deltas["entity_id"]) == sorted(COMPANIES)
    assert set(deltas["change"]) == {"added"}
    assert deltas["joined_at"].notna().all()


def test_each_removal_reason_and_its_detail_in_words(accounts):
    assert removals(accounts, "engaged", DAY2) == {
        "gone": ("deleted", None),
        "shrink": (
            "no_longer_matches",
            "where.all[0]: attribute employee_count >= 500: employee_count is 320",
        ),
        "quiet": (
            "no_longer_matches",
            "where.all[1]: event pricing_viewed in the last 3 days: 0 times, needs at least 1",
        ),
        "blocked": (
            "no_longer_matches",
            "where.all[2].not: in segment blocked: is a member, must not be",
        ),
    }
    assert removals(accounts, "british_contacts", DAY2) == {
        "c_blocked": ("no_longer_matches", "where: company country = 'GB': country is 'XX'"),
        "c_gone": (
            "no_longer_matches",
            "where: company country = 'GB': the contact has no current company",
        ),
    }


def test_editing_the_definition_removes_with_definition_changed(accounts, project_dir):
    stricter = {
        **ENGAGED,
        "where": {"all": [{"attribute": "employee_count >= 1000"}, *ENGAGED["where"]["all"][1:]]},
    }
    project_dir.segment("engaged", stricter)
    accounts.materialize(DAY2)
    reasons = {
        entity: reason for entity, (reason, _) in removals(accounts, "engaged", DAY2).items()
    }
    assert reasons == {
        "gone": "deleted",
        "keep": "definition_changed",
        "shrink": "definition_changed",
        "quiet": "definition_changed",
        "blocked": "definition_changed",
    }


def test_history_has_one_row_per_stretch_and_matches_the_deltas(accounts):
    history = accounts.table("segment_history", "engaged").set_index("entity_id")
    assert pd.isna(history.loc["keep", "removed_on"])
    assert history.loc["shrink", "removed_on"] == pd.Timestamp(DAY2)
    assert history.loc["shrink", "removal_reason"] == "no_longer_matches"
    assert history.loc["gone", "removal_reason"] == "deleted"
    deltas = accounts.table("segment_deltas", "engaged")
    added = deltas[deltas["change"] == "added"].set_index("entity_id")
    assert (history["added_on"] == added.loc[history.index, "snapshot_date"]).all()
    assert (history["joined_at"] == added.loc[history.index, "joined_at"]).all()


def test_re_running_days_in_any_order_gives_identical_deltas_and_history(accounts):
    before = {name: accounts.table(name) for name in ("segment_deltas", "segment_history")}
    accounts.materialize(DAY2)
    accounts.materialize(DAY1)
    accounts.materialize(DAY2)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, accounts.table(name))


def test_a_gap_compares_with_the_latest_earlier_snapshot(accounts):
    later = date(2026, 1, 9)
    accounts.materialize(later)
    deltas = day_rows(accounts.table("segment_deltas", "engaged"), later)
    assert deltas["entity_id"].tolist() == ["keep"]
    assert deltas["reason_detail"].tolist() == [
        "where.all[1]: event pricing_viewed in the last 3 days: 0 times, needs at least 1"
    ]


def test_static_segment_keeps_members_until_refreshed(pipeline, project_dir, landing):
    frozen = {"entity": "contact", "mode": "static", "where": {"event": "signup"}}
    project_dir.segment("signed_up", frozen)
    landing.jsonl(
        "2026-01-05",
        "contacts",
        [{"contact_id": name, "updated_at": BEFORE} for name in ("early", "late")],
    )
    landing.jsonl(
        "2026-01-05",
        "events",
        [
            {
                "event_id": "1",
                "contact_id": "early",
                "event_name": "signup",
                "occurred_at": "2026-01-04T00:00:00Z",
            },
        ],
    )
    landing.jsonl(
        "2026-01-06",
        "events",
        [
            {
                "event_id": "2",
                "contact_id": "late",
                "event_name": "signup",
                "occurred_at": "2026-01-06T00:00:00Z",
            },
        ],
    )
    pipeline.run(DAY1, DAY2)
    assert set(pipeline.members("signed_up", DAY2)) == {"early"}
    pipeline.materialize(DAY2, refresh_static=["signed_up"])
    assert set(pipeline.members("signed_up", DAY2)) == {"early", "late"}
    project_dir.segment(
        "signed_up", {**frozen, "where": {"event": "signup", "within": {"last_days": 1}}}
    )
    pipeline.materialize(DAY2)
    assert set(pipeline.members("signed_up", DAY2)) == {"late"}
