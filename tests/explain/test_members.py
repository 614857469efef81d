"""`segment-pipeline explain` on the example project over generated data (the session
pipeline of `tests/orchestrate`, three days through the daily job): a member's join
instant is its snapshot's `joined_at` and the start of its open stretch in
`segment_history`, for companies, contacts and picked contacts; a mistake is one
sentence and exit code 1.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from tests.orchestrate.conftest import DAYS, Pipeline

from .conftest import explained, flips, run_explain

DAY = DAYS[-1]
#: How many members of each kind are explained.
EXPLAINED = 4


def _members(pipeline: Pipeline, segment: str, entity_type: str) -> list[tuple[str, datetime]]:
    """The first members of a kind in the day's snapshot, with their join times."""
    with duckdb.connect(str(pipeline.settings.warehouse), read_only=True) as db:
        return [
            (str(entity), joined)
            for entity, joined in db.execute(
                "select entity_id, joined_at from segment_snapshots where segment = ? "
                "and entity_type = ? and snapshot_date = ? order by entity_id limit ?",
                [segment, entity_type, DAY, EXPLAINED],
            ).fetchall()
        ]


def _stretch_start(pipeline: Pipeline, segment: str, entity_type: str, entity: str) -> datetime:
    """The join time of the entity's open stretch in `segment_history`."""
    with duckdb.connect(str(pipeline.settings.warehouse), read_only=True) as db:
        [(joined,)] = db.execute(
            "select joined_at from segment_history where segment = ? and entity_type = ? "
            "and entity_id = ? and removed_on is null",
            [segment, entity_type, entity],
        ).fetchall()
    stretch: datetime = joined
    return stretch


@pytest.mark.parametrize(
    ("segment", "entity_type"),
    [
        ("engaged_enterprise", "company"),
        ("engaged_enterprise", "contact"),
        ("engaged_trials", "contact"),
        ("high_fit_accounts", "company"),
    ],
)
def test_a_members_join_instant_is_the_snapshots_and_historys(
    materialized: Pipeline, segment: str, entity_type: str
) -> None:
    members = _members(materialized, segment, entity_type)
    assert members, f"no {entity_type} in {segment} on {DAY}"
    for entity, joined_at in members:
        output = explained(materialized.settings, segment, entity, DAY)
        last = flips(output)[-1]
        assert last.change == "joined", output
        assert last.at == joined_at == _stretch_start(materialized, segment, entity_type, entity)
        assert f"{entity_type} {entity} in {segment}" in output.splitlines()[0]


def test_a_non_member_was_never_a_member_or_left(materialized: Pipeline) -> None:
    with duckdb.connect(str(materialized.settings.warehouse), read_only=True) as db:
        [(company,)] = db.execute(
            "select company_id from companies_history where company_id not in ("
            "  select entity_id from segment_snapshots"
            "  where segment = 'engaged_enterprise' and snapshot_date = ?"
            ") order by company_id limit 1",
            [DAY],
        ).fetchall()
    output = explained(materialized.settings, "engaged_enterprise", company, DAY)
    changes = [flip.change for flip in flips(output)]
    assert changes == [] or changes[-1] == "left", output
    assert "  where.all[2].not in segment quiet_accounts: " in output


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["no_such_segment", "co_000001"], "error: unknown segment 'no_such_segment'"),
        (["engaged_trials", "nobody"], "error: 'nobody' has no record visible as of"),
        (["engaged_enterprise", "nobody"], "error: 'nobody' has no record visible as of"),
    ],
)
def test_a_mistake_is_one_sentence_and_exit_code_1(
    materialized: Pipeline, args: list[str], sentence: str
) -> None:
    result = run_explain(materialized.settings, *args, "--date", DAY.isoformat())
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(sentence), line
    assert "Traceback" not in result.output
