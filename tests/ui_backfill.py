"""The tags a single-run UI backfill puts on its run, for tests that run a range as one run.

Dagster launches a range of partitions as one run only from its UI, CLI or daemon, by these
system tags; it has no public Python API for it. The assets must handle such a run (their
`BackfillPolicy.single_run()` makes every UI backfill one), so tests build it the same way.
"""

from __future__ import annotations

from datetime import date

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def single_run_backfill_tags(start: date, end: date) -> dict[str, str]:
    """The run tags of a UI backfill of `start`..`end` as one run."""
    return {RANGE_START: start.isoformat(), RANGE_END: end.isoformat()}
