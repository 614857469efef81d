"""A picked contact's explanation names its persona, its rank, the contacts ranked before
it and its company's own explanation; a contact that is not picked says why; a contact
segment's `in_segment` on a company segment nests the company's explanation.

One company, `acme`, is a member of `accounts`, whose personas take one `leader` (vp) and
any number of `manager`s, two contacts a company in all. On the second day `c_m1`, seen
before `c_m2`, becomes a manager: it is picked from then on and `c_m2` is cut. `small` is
too small to be a member. `static_accounts` is the same segment, static: its second snapshot
carries the first day's contacts. Run through the real Dagster assets, explained by the real
CLI.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from segment_pipeline.definitions.project import load_project
from segment_pipeline.explain import explain
from segment_pipeline.warehouse import Warehouse, WarehouseSettings
from tests.conftest import Landing, ProjectDir
from tests.show.conftest import DAYS, Runner

from .conftest import explained, flips, is_member, snapshot_joined_at

DAY = DAYS[1]
ACCOUNTS = {
    "entity": "company",
    "where": {"attribute": "employee_count >= 500"},
    "personas": {
        "max_contacts_per_company": 2,
        "list": [
            {"name": "leader", "where": "seniority = 'vp'", "max_contacts": 1},
            {"name": "manager", "where": "seniority = 'manager'"},
        ],
    },
}
ACCOUNT_VPS = {
    "entity": "contact",
    "where": {"all": [{"attribute": "seniority = 'vp'"}, {"in_segment": "accounts"}]},
}
#: contact: (company, seniority, first seen, former employee)
CONTACTS = {
    "c_former": ("acme", "vp", "2025-11-19", True),
    "c_vp1": ("acme", "vp", "2025-11-20", False),
    "c_vp2": ("acme", "vp", "2025-11-21", False),
    "c_m1": ("acme", "ic", "2025-11-22", False),
    "c_m2": ("acme", "manager", "2025-11-23", False),
    "c_ic": ("acme", "ic", "2025-11-24", False),
    "c_small": ("small", "vp", "2025-11-20", False),
}
COMPANY_APPEARS = datetime(2025, 12, 1)
PROMOTED = datetime(2026, 1, 6, 9)


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """The project and landing zone of the module docstring, its two days materialised."""
    root = tmp_path_factory.mktemp("picked")
    project, landing = ProjectDir(root / "project"), Landing(root / "landing")
    project.segment("accounts", ACCOUNTS)
    project.segment("account_vps", ACCOUNT_VPS)
    project.segment("static_accounts", {**ACCOUNTS, "mode": "static"})
    landing.jsonl(
        "2026-01-05",
        "companies",
        [
            {"company_id": "acme", "updated_at": "2025-12-01T00:00:00Z", "employee_count": 800},
            {"company_id": "small", "updated_at": "2025-12-01T00:00:00Z", "employee_count": 20},
        ],
    )
    landing.jsonl(
        "2026-01-05",
        "contacts",
        [
            {
                "contact_id": contact,
                "updated_at": f"{seen}T00:00:00Z",
                "company_id": company,
                "seniority": seniority,
                "is_former_employee": former,
            }
            for contact, (company, seniority, seen, former) in CONTACTS.items()
        ],
    )
    landing.jsonl(
        "2026-01-06",
        "contacts",
        [
            {
                "contact_id": "c_m1",
                "updated_at": "2026-01-06T09:00:00Z",
                "company_id": "acme",
                "seniority": "manager",
            }
        ],
    )
    runner = Runner(project.root, landing.root, root / "warehouse.duckdb")
    runner.materialize(DAYS[:2])
    return runner


def _line(output: str, start: str) -> str:
    """The one line of the contact's own explanation that starts with `start`."""
    found = [line for line in output.splitlines() if line.startswith(f"  {start}")]
    assert len(found) == 1, (start, output)
    return found[0]


def test_a_picked_contact_names_its_persona_rank_and_the_contacts_before_it(
    runner: Runner,
) -> None:
    output = explained(runner.settings, "accounts", "c_m1", DAY)
    assert output.startswith(
        f"contact c_m1 in accounts, picked by its personas on the snapshot of {DAY}:"
    )
    assert "persona: manager, rank 2 of 2: seniority = 'manager' holds" in _line(output, "persona:")
    assert "picked: yes, 2nd of the contacts picked at company acme" in _line(output, "picked:")
    before = _line(output, "ranked before it")
    assert "c_vp1 (leader, first seen 2025-11-20 00:00:00, picked)" in before
    assert "c_vp2 (leader, first seen 2025-11-21 00:00:00, not picked)" in before
    assert before.index("c_vp1") < before.index("c_vp2") and "c_m2" not in before
    # Its join: the start of its stretch as a manager (later than its company's), the
    # snapshot's own joined_at.
    [joined] = flips(output)
    assert joined.change == "joined" and joined.at == PROMOTED
    assert joined.at == snapshot_joined_at(runner.settings.warehouse, "accounts", "c_m1", DAY)
    assert "picked as manager at company acme" in joined.words
    # Its company, and the company's own explanation under it.
    assert f"  company: acme, a member since {COMPANY_APPEARS}" in output
    assert f"    company acme in accounts up to the snapshot of {DAY}:" in output
    assert f"      {COMPANY_APPEARS} joined: the company record appeared" in output


def test_the_first_picked_contact_joins_with_its_company(runner: Runner) -> None:
    output = explained(runner.settings, "accounts", "c_vp1", DAY)
    [joined] = flips(output)
    assert joined.at == COMPANY_APPEARS
    assert joined.at == snapshot_joined_at(runner.settings.warehouse, "accounts", "c_vp1", DAY)
    assert "picked as leader at company acme: its company joined then" in joined.words
    assert "persona: leader, rank 1 of 2" in _line(output, "persona:")
    assert _line(output, "ranked before it") == "  ranked before it at company acme: nobody"


@pytest.mark.parametrize(
    ("contact", "why", "before"),
    [
        (
            "c_vp2",
            "picked: no, cut by max_contacts: persona leader takes at most 1 contact per "
            "company and it ranks 2nd of that persona at company acme",
            ["c_vp1"],
        ),
        (
            "c_m2",
            "picked: no, cut by max_contacts_per_company: a company takes at most 2 contacts "
            "and it ranks 3rd at company acme",
            ["c_vp1", "c_vp2", "c_m1"],
        ),
        ("c_ic", "picked: no, no persona matches", None),
        ("c_former", "picked: no, the contact is a former employee of company acme", None),
        ("c_small", "picked: no, its company small is not a member of accounts", None),
    ],
)
def test_a_contact_not_picked_says_why(
    runner: Runner, contact: str, why: str, before: list[str] | None
) -> None:
    assert not is_member(runner.settings.warehouse, "accounts", contact, DAY)
    output = explained(runner.settings, "accounts", contact, DAY)
    assert flips(output) == []
    assert f"  not picked on {DAY}" in output
    assert _line(output, "picked:").startswith(f"  {why}")
    if before is None:
        assert "ranked before it" not in output
    else:
        ranked = _line(output, "ranked before it")
        assert [name for name in CONTACTS if f" {name} (" in ranked] == sorted(
            before, key=list(CONTACTS).index
        )
    if contact == "c_ic":
        assert "persona: none matches (seniority is 'ic')" in output
    if contact == "c_small":
        assert f"  company: small, not a member on {DAY}" in output
        assert (
            f"    company small in accounts up to the snapshot of {DAY}:\n      never a member"
            in output
        )


def test_in_segment_on_a_company_segment_nests_the_company_explanation(runner: Runner) -> None:
    output = explained(runner.settings, "account_vps", "c_vp1", DAY)
    [joined] = flips(output)
    # The contact joined when its company did: the in_segment leaf flipped it.
    assert joined.at == COMPANY_APPEARS
    assert joined.at == snapshot_joined_at(runner.settings.warehouse, "account_vps", "c_vp1", DAY)
    assert joined.words == "where.all[1] in segment accounts: joined accounts"
    lines = output.splitlines()
    leaf = lines.index("  where.all[1] in segment accounts: holds")
    assert lines[leaf + 1] == f"    company acme in accounts up to the snapshot of {DAY}:"
    assert lines[leaf + 2] == f"      {COMPANY_APPEARS} joined: the company record appeared"


def test_in_segment_nests_a_non_member_company_as_rows_with_a_depth(runner: Runner) -> None:
    project = load_project(runner.settings.project_dir)
    settings = WarehouseSettings(path=runner.settings.warehouse)
    with Warehouse.open(settings, read_only=True) as warehouse:
        frame = explain(warehouse, project, "account_vps", "c_small", DAY)
    own = frame[frame["depth"] == 0]
    assert own["flip"].isna().all() and set(own["entity_id"]) == {"c_small"}
    leaf = frame.index[frame["leaf"] == "where.all[1]"][0]
    nested = frame.loc[leaf + 1 :]
    assert (nested["depth"] == 1).all(), frame.to_string()
    assert set(nested["segment"]) == {"accounts"} and set(nested["entity_id"]) == {"small"}
    attribute = nested[nested["leaf"] == "where"].iloc[0]
    assert not attribute["holds"]
    assert attribute["sentence"] == "where attribute employee_count >= 500: does not hold"
    assert pd.isna(nested["flip"]).all()


def test_a_static_segment_explains_the_picking_of_its_last_refresh(runner: Runner) -> None:
    # Not refreshed on the second day: c_m2 stays picked, ranked as on the first day, when
    # c_m1 was no manager yet.
    warehouse = runner.settings.warehouse
    output = explained(runner.settings, "static_accounts", "c_m2", DAY)
    assert output.startswith(
        f"contact c_m2 in static_accounts, picked by its personas on the snapshot of {DAY}, "
        f"carried from its refresh of {DAYS[0]}:"
    )
    [joined] = flips(output)
    assert joined.at == snapshot_joined_at(warehouse, "static_accounts", "c_m2", DAY)
    assert "picked: yes, 2nd of the contacts picked at company acme" in _line(output, "picked:")
    assert not is_member(warehouse, "static_accounts", "c_m1", DAY)
    output = explained(runner.settings, "static_accounts", "c_m1", DAY)
    assert _line(output, "picked:") == "  picked: no, no persona matches"
