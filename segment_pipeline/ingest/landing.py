"""Ingest one landing date: every file of the day, all or nothing, idempotently."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlglot import exp

from segment_pipeline.definitions.sources import Sources
from segment_pipeline.errors import ConfigError
from segment_pipeline.ingest.coerce import EVENTS_SPEC, SourceSpec, crm_spec, typed_rows
from segment_pipeline.sql import col, lit, template, union
from segment_pipeline.warehouse.engine import Warehouse
from segment_pipeline.warehouse.schema import QUARANTINE_COLUMNS

#: One row per ingestion of a landing date, numbered in the order ingestions happened. What
#: was visible up to a date D can only have changed if a date up to D was ingested since:
#: evaluation reuses its previous snapshot's work while that number stays the same.
REVISIONS_TABLE = "landing_revisions"
#: The file formats a landing source may come in, by extension.
LANDING_FORMATS = ("csv", "jsonl", "parquet")


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
    candidates = (folder / f"{source}.{extension}" for extension in LANDING_FORMATS)
    return sorted(path for path in candidates if path.is_file())


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
            available = warehouse.stage_file(path, spec.wanted, staged)
            warehouse.create_relation(typed, typed_rows(spec, staged, landed_on, Path(relative)))
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
    is_good = col("reason").is_(exp.null())
    bad_rows = [
        exp.select(
            "landed_on",
            exp.alias_(lit(spec.name), "source"),
            exp.alias_(col("source_file"), "file"),
            exp.alias_(col("source_line"), "line"),
            "reason",
            "raw",
        )
        .from_(typed)
        .where(exp.not_(is_good.copy()))
        for spec, typed in typed_tables
    ]
    warehouse.replace_rows(
        "quarantine", is_landing_date, _stacked(bad_rows, "quarantine", list(QUARANTINE_COLUMNS))
    )
    for spec in source_specs(sources):
        target_columns = [*spec.wanted, "landed_on", "source_file", "source_line"]
        good_rows = [
            exp.select(*target_columns).from_(typed).where(is_good.copy())
            for typed_spec, typed in typed_tables
            if typed_spec.name == spec.name
        ]
        if spec is EVENTS_SPEC:
            _replace_events(warehouse, landed_on, good_rows, target_columns)
        else:
            rows = _stacked(good_rows, spec.table, target_columns)
            warehouse.replace_rows(spec.table, is_landing_date.copy(), rows)
    _record_revision(warehouse, landed_on)


def _stacked(queries: list[exp.Select], table: str, columns: list[str]) -> exp.Query:
    """The rows of every query; none, shaped like `columns` of `table`, if there is none."""
    if queries:
        return union(queries, distinct=False)
    return exp.select(*columns).from_(table).where(exp.false())


def _replace_events(
    warehouse: Warehouse, landed_on: date, good_rows: list[exp.Select], columns: list[str]
) -> None:
    """Replace the date's events, and mark the first landed copy of every event id the
    date had or has (SPEC 3): copies of those ids landed on other dates are rewritten too.
    """
    is_landing_date = col("landed_on").eq(lit(landed_on))
    new_events = _stacked(good_rows, "events", columns)
    warehouse.create_relation("landed_events", new_events)
    touched = union(
        [
            exp.select("event_id").from_("events").where(is_landing_date.copy()),
            exp.select("event_id").from_("landed_events"),
        ],
        distinct=True,
    )
    warehouse.create_relation("touched_event_ids", touched)
    is_touched = col("event_id").isin(query=exp.select("event_id").from_("touched_event_ids"))
    other_copies = (
        exp.select(*columns)
        .from_("events")
        .where(is_touched.copy())
        .where(exp.not_(is_landing_date.copy()))
    )
    copies = union([other_copies, exp.select(*columns).from_("landed_events")], distinct=False)
    rank = template(
        "row_number() over (partition by event_id order by landed_on, source_file, source_line)"
    )
    ranked = exp.select(*columns, exp.alias_(rank.eq(lit(1)), "is_first_copy")).from_(
        copies.subquery("copies", copy=False)
    )
    warehouse.create_relation("ranked_events", ranked)
    warehouse.replace_rows(
        "events",
        exp.or_(is_landing_date.copy(), is_touched.copy()),
        exp.select(*columns, "is_first_copy").from_("ranked_events"),
    )


def _record_revision(warehouse: Warehouse, landed_on: date) -> None:
    """Append this ingestion to `landing_revisions` with the next revision number."""
    warehouse.ensure_table(REVISIONS_TABLE, {"landed_on": "DATE", "revision": "BIGINT"})
    warehouse.append(
        REVISIONS_TABLE,
        exp.select(
            exp.alias_(lit(landed_on), "landed_on"),
            exp.alias_(template("coalesce(max(revision), 0) + 1"), "revision"),
        ).from_(REVISIONS_TABLE),
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
