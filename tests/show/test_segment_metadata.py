"""Each segment partition carries its own sizes as numbers (what the asset page plots)."""

from __future__ import annotations

import pytest

from .conftest import DAYS, Runner


def _numbers(metadata: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in metadata.items() if isinstance(value, int | float)}


@pytest.mark.parametrize("one_run", [True, False], ids=["single-run backfill", "day by day"])
def test_every_partition_has_its_own_numbers(runner: Runner, one_run: bool) -> None:
    if one_run:
        runner.materialize(DAYS)
    else:
        for day in DAYS:
            runner.materialize([day])
    companies = runner.metadata("big_accounts")
    assert set(companies) == {day.isoformat() for day in DAYS}
    first, second, third = (_numbers(companies[day.isoformat()]) for day in DAYS)
    assert first["members"] == first["added"] == 3
    assert first["removed"] == 0
    assert second["members"] == 2  # keep, new
    assert (second["added"], second["removed"]) == (1, 2)
    assert (second["removed_deleted"], second["removed_no_longer_matches"]) == (1, 1)
    assert second["removed_definition_changed"] == 0
    assert (third["members"], third["added"], third["removed"]) == (2, 0, 0)
    # Picked contacts: one per company that has one; `new` has none.
    assert (first["picked_contacts"], first["contacts_added"]) == (3, 3)
    assert second["picked_contacts"] == 1
    assert second["contacts_removed"] == second["contacts_removed_company_removed"] == 2
    assert second["companies_with_contacts"] == 1
    assert all(isinstance(value, int) for value in second.values())

    contacts = runner.metadata("big_account_contacts")
    day_two = _numbers(contacts[DAYS[1].isoformat()])
    assert (day_two["members"], day_two["removed"], day_two["removed_no_longer_matches"]) == (
        1,
        2,
        2,
    )
    assert "contacts_added" not in day_two
