"""How long `validate` takes for 200 segments. Reported, not asserted: timing is the
machine's business; run with `-s` to see the figure."""

from __future__ import annotations

import time
from pathlib import Path

from segment_pipeline.definitions.validate import validate_project

from .conftest import Write

TEMPLATE = """
entity: {entity}
mode: {mode}
description: generated segment {index}
where:
  all:
    - attribute: "{attribute}"
    - any:
        - event: pricing_viewed
          where: "properties.plan IN ('pro', 'enterprise') AND properties.seats >= {index}"
          within: {{last_days: {days}}}
          count: {{at_least: {low}}}
        - event: feature_used
          within: {{from: 2026-01-01, to: 2026-01-{day:02d}}}
          count: {{between: [1, {high}]}}
    - not:
        event: email_opened
        count: {{at_most: 2}}
{reference}
"""


def _segment(index: int) -> str:
    entity = "company" if index % 2 == 0 else "contact"
    attribute = (
        f"employee_count >= {index} AND country IN ('GB', 'US') AND lower(name) LIKE '%a%'"
        if entity == "company"
        else f"seniority IN ('vp', 'cxo') AND lower(title) LIKE '%{index}%'"
    )
    reference = ""
    if index >= 2:
        reference = f"    - in_segment: s{index - 2:03d}"
    return TEMPLATE.format(
        entity=entity,
        mode="static" if index % 7 == 0 else "dynamic",
        index=index,
        attribute=attribute,
        days=1 + index % 60,
        low=1 + index % 5,
        day=1 + index % 28,
        high=5 + index,
        reference=reference,
    )


def test_validate_200_segments(write: Write, project_dir: Path):
    for index in range(200):
        write(f"segments/s{index:03d}.yml", _segment(index))
    started, cpu = time.perf_counter(), time.process_time()
    project, lines = validate_project(project_dir)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert project is not None, lines[:5]
    assert len(lines) == 200
    print(f"\nvalidate_project: 200 segments in {elapsed:.3f} s wall, {cpu:.3f} s CPU")
