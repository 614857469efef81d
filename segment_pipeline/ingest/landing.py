"""Ingest one landing date: every file of the day, all or nothing, idempotently."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlglot import exp

from segment_pipeline.definitions.sources import Sources
from segment_pipeline.errors import ConfigError
from segment_pipeline.ingest.coerce import EVENTS_SPEC, SourceSpec, crm_spec, typed_rows
from segment_pipeline.ingest.readers import STAGERS, stage_file
from segment_pipeline.sql import col, lit, template
from segment_pipeline.warehouse.engine import Warehouse
from segment_pipeline.warehouse.schema import create_table

QUARANTINE_COLUMNS = ("landed_on", "source", "file", "line", "reason", "raw")
#: One row per ingestion of a landing date, numbered in the order ingestions happened. What
#: was visible up to a date D can only have changed if a date up to D was ingested since:
#: evaluation reuses its previous snapshot's work while that number stays the same.
REVISIONS_TABLE = "landing_revisions"


@dataclass
class SourceSummary:
    """What one source's files of the day gave."""

    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class IngestSummary:
    """What a landing date gave, per source (`companies`, `contacts`, `events`)."""

    landed_on: date
    sources: dict[str, SourceSummary]

    @property
    def rows_kept(self) -> int:
        """Rows stored across sources."""
        return sum(source.rows_kept for source in self.sources.values())

    @property
    def rows_quarantined(self) -> int:
        """Rows sent to quarantine across sources."""
        return sum(source.rows_quarantined for source in self.sources.values())


def source_specs(sources: Sources) -> list[SourceSpec]:
    """The three landing sources, CRM first."""
    return [crm_spec(sources, "company"), crm_spec(sources, "contact"), EVENTS_SPEC]


def landing_files(landing_dir: Path, landed_on: date, source: str) -> list[Path]:
    """The day's files of one source, in any supported format (a missing day has none)."""
    folder = landing_dir / landed_on.isoformat()
    return sorted(
        path for extension in STAGERS if (path := folder / f"{source}.{extension}").is_file()
    )


def require_landing_root(landing_dir: Path) -> None:
    """A landing root that does not exist is a configuration mistake, not an empty day."""
    if not landing_dir.is_dir():
        raise ConfigError(
            f"landing directory {landing_dir} does not exist: create it or point "
            "--landing-dir / SEGMENT_PIPELINE_LANDING_DIR at the folder of daily landings"
        )


def ingest_landing_date(
    warehouse: Warehouse, sources: Sources, landing_dir: Path, landed_on: date
) -> IngestSummary:
    """Replace everything landed on `landed_on` with what its files hold now.

    Files are read and typed first; only then, in one transaction, the date's earlier rows
    are replaced, so an unreadable file leaves the warehouse exactly as it was.

    Raises:
        ConfigError: the landing root does not exist.
        IngestError: a file cannot be read at all.
    """
    require_landing_root(landing_dir)
    summary = IngestSummary(landed_on=landed_on, sources={})
    typed_tables: list[tuple[SourceSpec, str]] = []
    for spec in source_specs(sources):
        source_summary = summary.sources.setdefault(spec.name, SourceSummary())
        for index, path in enumerate(landing_files(landing_dir, landed_on, spec.name)):
            relative = path.relative_to(landing_dir).as_posix()
            staged, typed = f"staged_{spec.name}_{index}", f"typed_{spec.name}_{index}"
            available = stage_file(warehouse, path, spec.wanted, staged)
            warehouse.execute(
                template(
                    "create or replace temp table :t as :q",
                    t=exp.to_table(typed),
                    q=typed_rows(spec, staged, landed_on, Path(relative)),
                )
            )
            source_summary.files.append(relative)
            source_summary.ignored_columns = sorted(
                set(source_summary.ignored_columns) | (set(available) - set(spec.wanted))
            )
            typed_tables.append((spec, typed))
    with warehouse.transaction():
        _replace_landing_date(warehouse, sources, landed_on, typed_tables)
    for spec, typed in typed_tables:
        counts = warehouse.rows(
            exp.select(
                exp.func("count", exp.Star()),
                exp.func("count", col("reason")),
            ).from_(typed)
        )[0]
        source_summary = summary.sources[spec.name]
        source_summary.rows_read += int(counts[0])
        source_summary.rows_quarantined += int(counts[1])
        source_summary.rows_kept += int(counts[0]) - int(counts[1])
    return summary


def _replace_landing_date(
    warehouse: Warehouse,
    sources: Sources,
    landed_on: date,
    typed_tables: list[tuple[SourceSpec, str]],
) -> None:
    is_landing_date = col("landed_on").eq(lit(landed_on))
    warehouse.execute(
        template(
            "create or replace temp table touched_event_ids as "
            "select distinct event_id from events where :w",
            w=is_landing_date,
        )
    )
    for spec in source_specs(sources):
        warehouse.execute(exp.delete(spec.table, where=is_landing_date))
    warehouse.execute(exp.delete("quarantine", where=is_landing_date))
    for spec, typed in typed_tables:
        is_good = col("reason").is_(exp.null())
        target_columns = [*spec.wanted, "landed_on", "source_file", "source_line"]
        warehouse.execute(
            exp.insert(
                exp.select(*target_columns).from_(typed).where(is_good),
                spec.table,
                columns=target_columns,
            )
        )
        bad_rows = (
            exp.select(
                "landed_on",
                exp.alias_(lit(spec.name), "source"),
                "source_file",
                "source_line",
                "reason",
                "raw",
            )
            .from_(typed)
            .where(exp.not_(is_good))
        )
        warehouse.execute(exp.insert(bad_rows, "quarantine", columns=list(QUARANTINE_COLUMNS)))
        if spec is EVENTS_SPEC:
            warehouse.execute(
                exp.insert(exp.select("event_id").from_(typed).where(is_good), "touched_event_ids")
            )
    _refresh_first_copies(warehouse)
    _record_revision(warehouse, landed_on)


def _record_revision(warehouse: Warehouse, landed_on: date) -> None:
    """Append this ingestion to `landing_revisions` with the next revision number."""
    warehouse.execute(create_table(REVISIONS_TABLE, {"landed_on": "DATE", "revision": "BIGINT"}))
    warehouse.execute(
        template(
            "insert into :t select :day, coalesce(max(revision), 0) + 1 from :t",
            t=exp.to_table(REVISIONS_TABLE),
            day=lit(landed_on),
        )
    )


def landing_revision(warehouse: Warehouse, through: date) -> int | None:
    """The latest ingestion of any landing date on or before `through` (None: none yet)."""
    if not warehouse.table_exists(REVISIONS_TABLE):
        return None
    latest = warehouse.scalar(
        exp.select(exp.func("max", col("revision")))
        .from_(REVISIONS_TABLE)
        .where(col("landed_on") <= lit(through))
    )
    return latest if isinstance(latest, int) else None


def _refresh_first_copies(warehouse: Warehouse) -> None:
    """Mark the first landed copy of every event id this landing date touched (SPEC 3)."""
    warehouse.execute(
        template(
            """
            update events set is_first_copy = ranked.copy_rank = 1
            from (
                select event_id, landed_on, source_file, source_line,
                       row_number() over (
                           partition by event_id order by landed_on, source_file, source_line
                       ) as copy_rank
                from events
                where event_id in (select event_id from touched_event_ids)
            ) as ranked
            where events.event_id = ranked.event_id
              and events.landed_on = ranked.landed_on
              and events.source_file = ranked.source_file
              and events.source_line = ranked.source_line
            """
        )
    )
