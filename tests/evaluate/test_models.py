"""SQL models as Dagster assets: computed per partition over the data as of that day."""

from __future__ import annotations

from datetime import date

import pandas as pd

DAY1, DAY2, DAY3 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)

ACTIVITY = """
-- entity: company, key: company_id
with

seen as (select company_id, count(*) as events from events group by company_id),

final as (
    select
        c.company_id,
        c.employee_count,
        coalesce(seen.events, 0) as events,
    from companies as c
    left join seen using (company_id)
)

select * from final
"""
#: A model reading another model by a quoted, schema-qualified name.
BUSY = 'select company_id, events >= 2 as is_busy from main."ACTIVITY"\n'


def _rows(pipeline, table: str) -> pd.DataFrame:
    frame = pipeline.table(table)
    frame["snapshot_date"] = frame["snapshot_date"].dt.date
    return frame.sort_values(list(frame.columns), ignore_index=True)


def test_models_are_computed_per_partition_as_of_that_day(pipeline, project_dir, landing):
    project_dir.model("activity", ACTIVITY)
    project_dir.model("busy", BUSY)
    project_dir.segment("everyone", {"entity": "company", "where": {"all": []}})
    landing.jsonl(
        "2026-01-01",
        "companies",
        [
            {"company_id": "a", "updated_at": "2026-01-01T08:00:00", "employee_count": 10},
            {"company_id": "b", "updated_at": "2026-01-01T09:00:00", "employee_count": 20},
        ],
    )
    landing.jsonl(
        "2026-01-02",
        "companies",
        [
            # b is deleted on the 2nd; a row stamped on the 3rd is not visible on the 2nd
            {"company_id": "b", "updated_at": "2026-01-02T10:00:00", "is_deleted": True},
            {"company_id": "a", "updated_at": "2026-01-03T10:00:00", "employee_count": 99},
        ],
    )
    landing.jsonl(
        "2026-01-02",
        "events",
        [
            {
                "event_id": f"e{i}",
                "contact_id": "p",
                "company_id": "a",
                "event_name": "visit",
                "occurred_at": f"2026-01-02T0{i}:00:00",
            }
            for i in range(1, 3)
        ],
    )
    pipeline.run(DAY1, DAY2)
    activity = _rows(pipeline, "model_activity")
    assert activity.to_dict("records") == [
        {"snapshot_date": DAY1, "company_id": "a", "employee_count": 10, "events": 0},
        {"snapshot_date": DAY1, "company_id": "b", "employee_count": 20, "events": 0},
        {"snapshot_date": DAY2, "company_id": "a", "employee_count": 10, "events": 2},
    ]
    busy = _rows(pipeline, "model_busy")
    assert busy[["snapshot_date", "company_id", "is_busy"]].values.tolist() == [
        [DAY1, "a", False],
        [DAY1, "b", False],
        [DAY2, "a", True],
    ]
    # Re-running a partition replaces its rows: the same rows, not twice as many.
    pipeline.materialize(DAY2)
    pipeline.materialize(DAY3)
    again = _rows(pipeline, "model_activity")
    assert again[again["snapshot_date"] < DAY3].equals(activity)
    assert again[again["snapshot_date"] == DAY3]["employee_count"].tolist() == [99]
    runs = _rows(pipeline, "model_runs")
    assert runs.groupby("model").size().to_dict() == {"activity": 3, "busy": 3}
