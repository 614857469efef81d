"""Group `destinations`: one asset per entry of destinations.yml (`destinations/<name>`).

Each asset hands the daily changes (`segment_deltas`) of the segments it takes (all of them
when `segments:` is unset), and the daily entrants (`journey_entrants`) of the journeys it
names under `journeys:`, to its destination, partition by partition in date order, because
a receiver must see Monday's changes before Tuesday's. CSV destinations write
`<path>/<segment>/<YYYY-MM-DD>.csv` and `<path>/journeys/<journey>/<YYYY-MM-DD>.csv`;
webhook destinations POST signed batches, each exactly
once: the `deliveries` table remembers what the receiver holds, so a re-run sends only what
it lacks, and batches delivered before a failure stay recorded.

Which runs deliver what:

- CSV exports are part of the daily job (the schedule, `segment-pipeline run`, `demo`):
  writing a local file does not depend on anyone else's system being up.
- Webhooks are left out of the daily job. The automation sensor delivers them instead, in
  their own run, as soon as the latest day's segments are materialised (and again when a
  definition change recalculates that day). A missing secret or a receiver that stays down
  then fails that delivery run with one sentence, never the day's data. The schedule and the
  sensor both run under the Dagster daemon, so every scheduled day is delivered; without a
  daemon (`segment-pipeline run`, `demo`, tests) nothing is POSTed, which is also why the
  shipped example, whose receiver on 127.0.0.1:8080 is not running, cannot fail the demo.
  Older days are delivered, or re-delivered, by materialising `destinations/<name>` for a
  range from the UI (one run, in date order).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg
import pandas as pd
from pydantic import Field

from segment_pipeline.definitions.destinations import (
    CsvDestination,
    Destination,
    WebhookDestination,
)
from segment_pipeline.definitions.project import Project
from segment_pipeline.deliver import WebhookSender, export_csv, resolve_secret
from segment_pipeline.deliver.feeds import Feed
from segment_pipeline.errors import ConfigError, SegmentPipelineError
from segment_pipeline.orchestrate.assets.journeys import journey_key
from segment_pipeline.orchestrate.assets.segments import segment_key
from segment_pipeline.orchestrate.consumers import read_deltas, read_entrants
from segment_pipeline.orchestrate.partitions import CHECKED_EAGER, partition_dates
from segment_pipeline.orchestrate.resources import (
    ProjectResource,
    user_errors,
)
from segment_pipeline.orchestrate.warehouse_resource import WAREHOUSE_POOL, WarehouseResource
from segment_pipeline.warehouse.engine import Warehouse

GROUP = "destinations"

Kind = TypeVar("Kind", CsvDestination, WebhookDestination)

#: The webhook destinations: delivered by the automation sensor, not by the daily job.
WEBHOOKS = dg.AssetSelection.groups(GROUP) & dg.AssetSelection.kind("webhook")


class WebhookRunConfig(dg.Config):
    """How patiently to deliver (the launchpad can raise it for a long outage or backfill)."""

    max_attempts: int = Field(default=5, ge=1, description="POSTs per batch before failing.")
    backoff_seconds: float = Field(
        default=0.5, ge=0, description="Wait before the 2nd attempt; doubles after each one."
    )
    timeout_seconds: float = Field(default=10, gt=0, description="Wait for each answer.")


def destination_key(name: str) -> dg.AssetKey:
    """The asset key of a destination."""
    return dg.AssetKey([GROUP, name])


def _wanted(project: Project, destination: Destination) -> list[Feed]:
    """The segments the destination takes, in the project's (dependency) order, then the
    journeys it names, in its order."""
    segments = [Feed.segment(name) for name in project.segments if destination.wants(name)]
    return segments + [Feed.journey(name) for name in destination.journeys]


def _read(warehouse: Warehouse, project: Project, feed: Feed, day: date) -> pd.DataFrame:
    """The feed's records of `day`: a segment's changes or a journey's entrants."""
    if feed.shape.subject == "segment":
        return read_deltas(warehouse, feed.name, day)
    trigger = project.journeys[feed.name].trigger_segment
    return read_entrants(warehouse, feed.name, trigger, day)


def _find(project: Project, name: str, kind: type[Kind]) -> Kind:
    """The destination as destinations.yml says now: a run uses the files as they are."""
    for destination in project.destinations:
        if destination.name == name and isinstance(destination, kind):
            return destination
    raise ConfigError(
        f"destination {name} is gone from destinations.yml or changed its type: "
        "reload the code location"
    )


@dataclass(frozen=True)
class _Export:
    """One file written: a feed's records of one day (`feed`: its key)."""

    feed: str
    changes: int
    files: int = 1


@dataclass(frozen=True)
class _Delivery:
    """One feed's day handed to a webhook receiver (`feed`: its key)."""

    feed: str
    changes: int
    batches_delivered: int
    batches_skipped: int
    attempts: int


def _by_segment(handed: Sequence[_Export | _Delivery]) -> dg.MetadataValue:
    """Per-feed totals as a markdown table (one row per day would not fit a backfill)."""
    if not handed:
        return dg.MetadataValue.md("no segments")
    table = pd.DataFrame(handed).groupby("feed", sort=False).sum().reset_index()
    return dg.MetadataValue.md(table.to_markdown(index=False))


def _span(days: list[date]) -> str:
    return f"{days[0]} .. {days[-1]}" if len(days) > 1 else str(days[0])


def _destination_asset(
    destination: Destination, feeds: list[Feed], partitions: dg.PartitionsDefinition
) -> Callable[[Callable[..., dg.MaterializeResult[Any]]], dg.AssetsDefinition]:
    """The decorator every destination shares: key, lineage, partitions, pool, automation.

    A one-spec multi_asset rather than `@dg.asset`, whose `backfill_policy` would print a
    beta warning on every load (the CLI's stderr included).
    """
    description = (
        f"One CSV file per segment and day of changes under {destination.path}."
        if isinstance(destination, CsvDestination)
        else f"Signed webhook batches of each day's changes for {destination.name}, sent once."
    )
    spec = dg.AssetSpec(
        destination_key(destination.name),
        deps=[
            segment_key(f.name) if f.shape.subject == "segment" else journey_key(f.name)
            for f in feeds
        ],
        description=description,
        group_name=GROUP,
        kinds={destination.type},
        metadata={
            "segments": ", ".join(f.name for f in feeds if f.shape.subject == "segment") or "-",
            "journeys": ", ".join(f.name for f in feeds if f.shape.subject == "journey") or "-",
        },
        automation_condition=CHECKED_EAGER,
    )
    return dg.multi_asset(
        name=f"{GROUP}__{destination.name}",
        specs=[spec],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
    )


def _csv_asset(
    destination: CsvDestination, feeds: list[Feed], partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    name = destination.name

    @_destination_asset(destination, feeds, partitions)
    def export(
        context: dg.AssetExecutionContext, project: ProjectResource, engine: WarehouseResource
    ) -> dg.MaterializeResult[Any]:
        """Write each selected day's changes of each segment to its file, replacing it."""
        days = partition_dates(context)
        exports: list[_Export] = []
        with user_errors():
            current = project.load("destinations", [name])
            csv = _find(current, name, CsvDestination)
            with engine.open(current.sources) as warehouse:
                for day in days:
                    for feed in _wanted(current, csv):
                        frame = _read(warehouse, current, feed, day)
                        path = export_csv(csv, feed, day, frame)
                        context.log.debug(f"{path}: {len(frame)} rows")
                        exports.append(_Export(feed.key, len(frame)))
        changes = sum(export.changes for export in exports)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": changes,
                "files_written": len(exports),
                "changes": changes,
                "days": _span(days),
                "folder": dg.MetadataValue.path(str(Path(csv.path).resolve())),
                "by_segment": _by_segment(exports),
            }
        )

    return export


def _webhook_totals(deliveries: list[_Delivery]) -> dict[str, int]:
    """Changes, batches delivered and skipped, and POSTs made, over the run so far."""
    return {
        "changes": sum(d.changes for d in deliveries),
        "batches_delivered": sum(d.batches_delivered for d in deliveries),
        "batches_skipped": sum(d.batches_skipped for d in deliveries),
        "attempts": sum(d.attempts for d in deliveries),
    }


def _webhook_asset(
    destination: WebhookDestination, feeds: list[Feed], partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    name = destination.name

    @_destination_asset(destination, feeds, partitions)
    def deliver(
        context: dg.AssetExecutionContext,
        config: WebhookRunConfig,
        project: ProjectResource,
        engine: WarehouseResource,
    ) -> dg.MaterializeResult[Any]:
        """POST each selected day's changes of each segment, skipping what the receiver holds."""
        days = partition_dates(context)
        with user_errors():
            current = project.load("destinations", [name])
            webhook = _find(current, name, WebhookDestination)
            secret = resolve_secret(webhook)
        deliveries: list[_Delivery] = []
        try:
            with (
                engine.open(current.sources) as warehouse,
                WebhookSender(
                    webhook,
                    secret=secret,
                    max_attempts=config.max_attempts,
                    backoff_seconds=config.backoff_seconds,
                    timeout_seconds=config.timeout_seconds,
                ) as sender,
            ):
                for day in days:
                    for feed in _wanted(current, webhook):
                        frame = _read(warehouse, current, feed, day)
                        report = sender.deliver(warehouse, feed, day, frame)
                        context.log.debug(f"{feed.key} {day}: {report}")
                        deliveries.append(
                            _Delivery(
                                feed.key,
                                len(frame),
                                report.delivered,
                                report.skipped,
                                report.attempts,
                            )
                        )
        except SegmentPipelineError as error:
            # What was delivered before the failure is in `deliveries`; a re-run skips it.
            raise dg.Failure(
                description=str(error), metadata=_webhook_totals(deliveries), allow_retries=False
            ) from None
        return dg.MaterializeResult(
            metadata={
                **_webhook_totals(deliveries),
                "days": _span(days),
                "by_segment": _by_segment(deliveries),
            }
        )

    return deliver


def build_destination_assets(
    project: Project, partitions: dg.PartitionsDefinition
) -> list[dg.AssetsDefinition]:
    """One asset per destination, depending on the segments it takes."""
    return [
        _csv_asset(destination, _wanted(project, destination), partitions)
        if isinstance(destination, CsvDestination)
        else _webhook_asset(destination, _wanted(project, destination), partitions)
        for destination in project.destinations
    ]
