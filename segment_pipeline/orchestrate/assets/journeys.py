"""Group `journeys`: one asset per journey (`journeys/<name>`), enrolling from its trigger.

A journey's day D reads its trigger segment's snapshot for D and the enrolments recorded
before, so it depends on `segments/<trigger>` for D and on itself for D - 1 (the lineage
the UI shows); a backfill is one run that walks its days in date order. The code version
is the journey's version (a hash of its YAML's meaning), so an edited journey shows as
changed and its latest partition is enrolled again; a recalculated trigger does the same.
Enrolments are only ever added (see evaluate/journeys): a re-run never takes one back.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import dagster as dg
import pandas as pd

from segment_pipeline.definitions.journeys import Journey
from segment_pipeline.definitions.project import Project
from segment_pipeline.errors import ConfigError
from segment_pipeline.evaluate.journeys import JourneyDay, enroll_day, ensure_entrants_view
from segment_pipeline.orchestrate.assets.segments import segment_key
from segment_pipeline.orchestrate.partitions import DEPS_CHECKS_PASSED, partition_dates
from segment_pipeline.orchestrate.resources import (
    ProjectResource,
    user_errors,
)
from segment_pipeline.orchestrate.warehouse_resource import WAREHOUSE_POOL, WarehouseResource

if TYPE_CHECKING:
    # The values dagster accepts as metadata; it does not export the name.
    from dagster._core.definitions.metadata import RawMetadataValue

GROUP = "journeys"

#: Enrol the latest day again when the trigger's snapshot or the journey's definition
#: changed (the daily job enrols every day it runs in the same run as the segments).
ENROL_ON_CHANGE = (
    dg.AutomationCondition.in_latest_time_window()
    # dagster annotates since_last_handled for asset-or-check conditions only (its generic is
    # invariant), code_version_changed for assets: the stubs, not the condition, disagree.
    & (  # type: ignore[misc, operator]
        dg.AutomationCondition.any_deps_updated() | dg.AutomationCondition.code_version_changed()
    ).since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
    & DEPS_CHECKS_PASSED
).with_label("trigger or journey changed: enrol the latest partition")


def journey_key(name: str) -> dg.AssetKey:
    """The asset key of a journey."""
    return dg.AssetKey([GROUP, name])


def _spec(journey: Journey) -> dg.AssetSpec:
    key = journey_key(journey.name)
    previous_day = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
    return dg.AssetSpec(
        key,
        deps=[
            dg.AssetDep(segment_key(journey.trigger_segment)),
            dg.AssetDep(key, partition_mapping=previous_day),
        ],
        description=(
            f"Members of {journey.trigger_segment} enrolled for {journey.duration_days} days "
            f"from {journey.starts_on}"
            + (", re-entering after each enrolment." if journey.allow_reentry else ", once.")
        ),
        group_name=GROUP,
        code_version=journey.version,
        kinds={"sql"},
        tags={"trigger_segment": journey.trigger_segment},
        metadata={
            "trigger_segment": journey.trigger_segment,
            "starts_on": journey.starts_on.isoformat(),
            "duration_days": journey.duration_days,
            "allow_reentry": journey.allow_reentry,
            "file": str(journey.file),
        },
        automation_condition=ENROL_ON_CHANGE,
    )


def _metadata(days: list[JourneyDay]) -> "dict[str, RawMetadataValue]":
    last = days[-1]
    table = pd.DataFrame(
        [
            {
                "day": d.day.isoformat(),
                "entrants": d.entrants,
                "active": d.active,
                "completed": d.completed,
            }
            for d in days
        ]
    )
    return {
        "dagster/row_count": last.active,
        "days": f"{days[0].day} .. {last.day}" if len(days) > 1 else str(last.day),
        "entrants": last.entrants,
        "active": last.active,
        "completed": last.completed,
        "entrants_in_run": sum(d.entrants for d in days),
        "by_day": dg.MetadataValue.md(table.to_markdown(index=False)),
    }


def _find(project: Project, name: str) -> Journey:
    """The journey as its file says now: a run uses the files as they are."""
    journey = project.journeys.get(name)
    if journey is None:
        raise ConfigError(f"journey {name} is gone from journeys/: reload the code location")
    return journey


def _journey_asset(journey: Journey, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    name = journey.name
    decorate: Callable[[Callable[..., dg.MaterializeResult[Any]]], dg.AssetsDefinition] = (
        # A one-spec multi_asset: `@dg.asset`'s backfill_policy prints a beta warning.
        dg.multi_asset(
            name=f"{GROUP}__{name}",
            specs=[_spec(journey)],
            partitions_def=partitions,
            backfill_policy=dg.BackfillPolicy.single_run(),
            pool=WAREHOUSE_POOL,
        )
    )

    @decorate
    def enrol(
        context: dg.AssetExecutionContext, project: ProjectResource, engine: WarehouseResource
    ) -> dg.MaterializeResult[Any]:
        """Enrol each selected day's entrants, in date order."""
        results: list[JourneyDay] = []
        with user_errors():
            current = project.load("journeys", [name])
            definition = _find(current, name)
            trigger = current.segments[definition.trigger_segment]
            with engine.open(current.sources) as warehouse:
                ensure_entrants_view(warehouse)
                for day in partition_dates(context):
                    results.append(enroll_day(warehouse, definition, trigger, day))
                    context.log.debug(f"{name} {day}: {results[-1]}")
        return dg.MaterializeResult(metadata=_metadata(results))

    return enrol


def build_journey_assets(
    project: Project, partitions: dg.PartitionsDefinition
) -> list[dg.AssetsDefinition]:
    """One asset per journey of the project."""
    return [_journey_asset(journey, partitions) for journey in project.journeys.values()]
