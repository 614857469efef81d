"""Daily partitions (UTC): partition D is landing date D and snapshot date D."""

from __future__ import annotations

from datetime import date

import dagster as dg


def daily_partitions(start_date: date) -> dg.DailyPartitionsDefinition:
    """One partition per UTC day from `start_date` up to yesterday."""
    return dg.DailyPartitionsDefinition(start_date=start_date.isoformat(), timezone="UTC")


def partition_dates(context: dg.AssetExecutionContext) -> list[date]:
    """The run's partitions in date order (a single-run backfill covers a whole range)."""
    return sorted(date.fromisoformat(key) for key in context.partition_keys)


#: Recalculate the latest day, without anyone clicking, once a code version (a segment's
#: definition version, a model's SQL hash) has changed.
RECALCULATE_ON_CHANGE = (
    dg.AutomationCondition.in_latest_time_window()
    # dagster annotates since_last_handled for asset-or-check conditions only (its generic is
    # invariant), code_version_changed for assets: the stubs, not the condition, disagree.
    & dg.AutomationCondition.code_version_changed().since_last_handled()  # type: ignore[misc, operator]
    & ~dg.AutomationCondition.in_progress()
).with_label("definition changed: recalculate the latest partition")

#: Nothing downstream of a segment (destinations, journeys) consumes a day on which a
#: blocking check of a segment it reads failed. Inside a run a failed blocking check
#: already stops the downstream steps; this keeps the automation sensor from requesting them.
DEPS_CHECKS_PASSED = dg.AutomationCondition.all_deps_blocking_checks_passed()

#: Hand each new day downstream as soon as it is there, once its checks passed.
CHECKED_EAGER = (dg.AutomationCondition.eager() & DEPS_CHECKS_PASSED).with_label(
    "eager, once the segments' checks passed"
)
