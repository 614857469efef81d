"""Group `segments`: one asset per segment (`segments/<name>`), computed together.

Each segment's code version is its definition version, so the UI shows an edited
definition (and every segment referencing it) as changed, and the automation condition
recalculates the latest partition. A run evaluates all selected segments in one pass over
the data; a backfill is one run that walks its partitions in date order, because each
snapshot's delta depends on the previous snapshot.
"""

import json
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import Field

from segment_pipeline.definition_history import version_change
from segment_pipeline.definitions.project import Project
from segment_pipeline.definitions.segments import Segment
from segment_pipeline.evaluate.audits import duplicate_members, joins_after_as_of, unbalanced_days
from segment_pipeline.evaluate.daily import SegmentDay, materialize_day
from segment_pipeline.evaluate.history import rebuild_history
from segment_pipeline.evaluate.personas import Coverage
from segment_pipeline.orchestrate.assets.ingest import INGEST_KEYS
from segment_pipeline.orchestrate.assets.models import model_key
from segment_pipeline.orchestrate.partitions import RECALCULATE_ON_CHANGE, partition_dates
from segment_pipeline.orchestrate.resources import (
    ProjectResource,
    user_errors,
)
from segment_pipeline.orchestrate.warehouse_resource import (
    WAREHOUSE_POOL,
    WarehouseResource,
    engine_limits,
)

if TYPE_CHECKING:
    # The values dagster accepts as metadata; it does not export the name.
    from dagster._core.definitions.metadata import RawMetadataValue

CHECKS = {
    "no_duplicate_members": "No entity appears twice in a day's snapshot.",
    "delta_balances": "Previous members + added - removed = current members, every day.",
    "joined_at_not_after_as_of": "Every member has a join time, never after the snapshot's as_of.",
}


class SegmentRunConfig(dg.Config):
    """Launch-time options (the UI's launchpad, or `segment-pipeline refresh`)."""

    refresh_static: list[str] = Field(
        default_factory=list, description="Static segments to refresh in this run."
    )


def segment_key(name: str) -> dg.AssetKey:
    """The asset key of a segment."""
    return dg.AssetKey(["segments", name])


def _spec(segment: Segment) -> dg.AssetSpec:
    key = segment_key(segment.name)
    previous_day = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
    deps = [
        dg.AssetDep(INGEST_KEYS[name])
        for name in ("companies_history", "contacts_history", "events")
    ]
    deps += [dg.AssetDep(segment_key(name)) for name in segment.references]
    # Same partition: a model value for D is computed once, before every segment reading it.
    deps += [dg.AssetDep(model_key(name)) for name in segment.models]
    deps.append(dg.AssetDep(key, partition_mapping=previous_day))
    description = segment.description or f"{segment.mode} {segment.entity} segment"
    return dg.AssetSpec(
        key,
        deps=deps,
        description=description,
        group_name="segments",
        code_version=segment.version,
        kinds={"sql"},
        tags={"entity": segment.entity, "mode": segment.mode},
        metadata={
            "definition_version": segment.version,
            "definition": dg.MetadataValue.json(_definition(segment)),
            "file": str(segment.file),
        },
        automation_condition=RECALCULATE_ON_CHANGE,
    )


def _entity_types(segment: Segment) -> list[str]:
    """The entity types of a segment's snapshot rows: its own, and its picked contacts."""
    return [segment.entity, *(["contact"] if segment.personas is not None else [])]


def _coverage_table(coverage: Coverage) -> "dict[str, RawMetadataValue]":
    """A partition's first companies where no persona finds anyone, with their eligible
    contacts (its counts are numbers: `day_metadata`)."""
    uncovered = coverage.uncovered
    return {
        "companies_without_contacts": dg.MetadataValue.md(
            uncovered.to_markdown(index=False)
            if len(uncovered)
            else "every company has a picked contact"
        ),
    }


def _definition(segment: Segment) -> dict[str, object]:
    definition: dict[str, object] = json.loads(segment.definition_json())
    return definition


#: Removal reasons (SPEC 8) of a segment's own members, and of contacts picked for it.
MEMBER_REASONS = ("deleted", "definition_changed", "no_longer_matches")
CONTACT_REASONS = ("company_removed", "left_company", "persona_mismatch", "better_contact")


def day_metadata(result: SegmentDay) -> dict[str, int]:
    """A partition's sizes as numbers, every reason present (0 when none), so the asset
    page plots members, additions and removals by reason across partitions."""
    delta = result.delta
    numbers = {
        "dagster/row_count": result.snapshot.members,
        "members": result.snapshot.members,
        "added": delta.added,
        "removed": delta.removed,
        **{
            f"removed_{reason}": delta.removed_by_reason.get(reason, 0) for reason in MEMBER_REASONS
        },
    }
    if result.coverage is not None:
        removed = delta.contacts_removed_by_reason
        numbers |= {
            "companies": result.coverage.companies,
            "companies_with_contacts": result.coverage.covered,
            "picked_contacts": result.coverage.contacts,
            "companies_repicked": result.coverage.repicked,
            "contacts_added": delta.contacts_added,
            "contacts_removed": sum(removed.values()),
            **{f"contacts_removed_{reason}": removed.get(reason, 0) for reason in CONTACT_REASONS},
            **{
                f"contacts_persona_{persona}": count
                for persona, count in result.coverage.contacts_by_persona.items()
            },
        }
    return numbers


def _metadata(days: list[date], results: list[SegmentDay]) -> "dict[str, RawMetadataValue]":
    """The run's metadata; each partition's numbers are `day_metadata`, added per day."""
    last = results[-1]
    preview = last.delta.preview
    return {
        "snapshot_dates": f"{days[0]} .. {days[-1]}" if len(days) > 1 else str(days[0]),
        "refreshed": last.snapshot.refreshed,
        "compared_with": str(last.delta.previous_date) if last.delta.previous_date else "-",
        "first_changes": dg.MetadataValue.md(
            preview.to_markdown(index=False) if len(preview) else "no changes"
        ),
    }


def _change(change: dict[str, str]) -> "dict[str, RawMetadataValue]":
    """The definition diff as a code block, when the version changed."""
    if not change:
        return {}
    diff = change["definition_diff"]
    return {
        "previous_definition_version": change["previous_definition_version"],
        "definition_diff": dg.MetadataValue.md(f"```diff\n{diff}```"),
    }


def build_segment_assets(
    project: Project, partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    """All segments of the project as one subsettable multi-asset with its checks."""
    segments = list(project.segments.values())
    check_specs = [
        # Blocking: a day that fails a check is not exported, delivered or enrolled.
        dg.AssetCheckSpec(
            name, asset=segment_key(segment.name), description=description, blocking=True
        )
        for segment in segments
        for name, description in CHECKS.items()
    ]

    @dg.multi_asset(
        name="segment_snapshots",
        specs=[_spec(segment) for segment in segments],
        check_specs=check_specs,
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=True,
        pool=WAREHOUSE_POOL,
    )
    def segment_snapshots(
        context: dg.AssetExecutionContext,
        config: SegmentRunConfig,
        project: ProjectResource,
        engine: WarehouseResource,
    ) -> Iterator[dg.MaterializeResult[Any] | dg.AssetCheckResult]:
        """Snapshot, delta and history of each selected segment for each partition."""
        selected = [key.path[-1] for key in context.selected_asset_keys]
        current = project.load("segments", selected)
        names = [name for name in current.segments if name in selected]
        days = partition_dates(context)
        results: dict[str, list[SegmentDay]] = {name: [] for name in names}
        with user_errors(), engine.open(current.sources) as warehouse:
            limits = engine_limits(warehouse)
            # Read before the run writes: what the version was and what changed since.
            changes = {
                name: version_change(warehouse, current.segments[name], days[0]) for name in names
            }
            for day in days:
                context.log.info(f"segments for {day}: {len(names)} segments")
                for name, result in materialize_day(
                    warehouse, current, day, names, refresh=config.refresh_static
                ).items():
                    results[name].append(result)
            for name in names:
                rebuild_history(warehouse, name, since=min(days))
            duplicates = duplicate_members(warehouse, names, days)
            entity_types = {name: _entity_types(current.segments[name]) for name in names}
            unbalanced = unbalanced_days(warehouse, entity_types, days)
            late_joins = joins_after_as_of(warehouse, names, days)
        for name in names:
            key = segment_key(name)
            for day, result in zip(days, results[name], strict=True):
                tables = _coverage_table(result.coverage) if result.coverage is not None else {}
                context.add_asset_metadata(
                    {**day_metadata(result), **tables},
                    asset_key=key,
                    partition_key=day.isoformat(),
                )
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={**_metadata(days, results[name]), **limits, **_change(changes[name])},
            )
            outcomes: dict[str, tuple[bool, dict[str, RawMetadataValue]]] = {
                "no_duplicate_members": (duplicates[name] == 0, {"duplicates": duplicates[name]}),
                "delta_balances": (
                    not unbalanced[name],
                    {"unbalanced_days": ", ".join(map(str, unbalanced[name])) or "-"},
                ),
                "joined_at_not_after_as_of": (
                    late_joins[name] == 0,
                    {"bad_join_times": late_joins[name]},
                ),
            }
            for check, (passed, metadata) in outcomes.items():
                if dg.AssetCheckKey(key, check) in context.selected_asset_check_keys:
                    yield dg.AssetCheckResult(
                        asset_key=key, check_name=check, passed=passed, metadata=metadata
                    )

    return segment_snapshots
