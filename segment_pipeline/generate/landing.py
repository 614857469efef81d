"""`generate_landing`: a whole synthetic landing zone (SPEC 3), day folder by day folder.

Each landing day gets the CRM change records of that day (an initial extract on day 0) and
that day's events, written in chunks. Independent random streams drive the CRM, the events,
the faults, skipped files and re-sends, so e.g. asking for more events leaves the CRM files
unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
from rich.progress import Progress

from segment_pipeline.generate.clock import Clock
from segment_pipeline.generate.companies import CompanyBook
from segment_pipeline.generate.contacts import ContactBook
from segment_pipeline.generate.events import EventFactory
from segment_pipeline.generate.malformed import FaultInjector
from segment_pipeline.generate.params import FileFormat, GenerateParams, GenerateSummary
from segment_pipeline.generate.schema import COMPANIES, CONTACTS, EVENTS, FileSchema
from segment_pipeline.generate.writer import LandingFileWriter

#: Rows of events generated and written at a time: bounds memory whatever the run's size.
DEFAULT_CHUNK_ROWS = 500_000
#: Share of events that are re-sent copies of an earlier event.
DUPLICATE_SHARE = 0.005
#: Chance that a CRM file is missing on a day after the first (its changes just do not happen).
SKIP_SHARE = {"companies": 0.10, "contacts": 0.07}
_ENTITY_INDEX = {"companies": 0, "contacts": 1, "events": 2}
_LANDING_FILE = re.compile(r"(companies|contacts|events)\.(csv|jsonl|parquet)")
_DAY_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}")


def generate_landing(
    out: Path, params: GenerateParams, *, progress: bool = False
) -> GenerateSummary:
    """Write a synthetic landing zone under `out` and say what was written.

    Landing files left in `out` by an earlier run are removed first (only
    `<YYYY-MM-DD>/{companies,contacts,events}.{csv,jsonl,parquet}`), so the result depends on
    `params` alone: the same params and seed give byte-identical files.
    """
    return write_landing(out, params, progress=progress)


@dataclass
class _Tally:
    """Running counts for the summary."""

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_ENTITY_INDEX, 0))
    files: dict[str, int] = field(default_factory=dict)
    files_per_entity: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(_ENTITY_INDEX, 0)
    )
    days: set[str] = field(default_factory=set)
    malformed: int = 0
    duplicates: int = 0

    def add(self, out: Path, writer: LandingFileWriter, malformed: int) -> None:
        """Count a finished file."""
        self.rows[writer.schema.name] += writer.rows
        self.files[writer.path.relative_to(out).as_posix()] = writer.rows
        self.files_per_entity[writer.schema.name] += 1
        self.days.add(writer.path.parent.name)
        self.malformed += malformed

    def summary(self) -> GenerateSummary:
        """The counts as the public summary model."""
        return GenerateSummary(
            days=len(self.days),
            companies_rows=self.rows["companies"],
            contacts_rows=self.rows["contacts"],
            events_rows=self.rows["events"],
            malformed_rows=self.malformed,
            duplicate_events=self.duplicates,
            files=dict(sorted(self.files.items())),
        )


def write_landing(
    out: Path,
    params: GenerateParams,
    *,
    progress: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> GenerateSummary:
    """`generate_landing` with the events chunk size exposed (tests make it small)."""
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
    run = _Run(out, params, chunk_rows)
    _clear_landing(out)
    with Progress(disable=not progress) as bar:
        days_task = bar.add_task("Landing days", total=params.days)
        events_task = bar.add_task("Events", total=params.events)
        for day in range(params.days):
            run.land_crm(day)
            for size in run.land_events(day):
                bar.advance(events_task, size)
            bar.advance(days_task)
    return run.tally.summary()


class _Run:
    """The state of one generation run: CRM books, event factory, fault injectors, counts."""

    def __init__(self, out: Path, params: GenerateParams, chunk_rows: int) -> None:
        crm_rng, events_rng, crm_faults_rng, events_faults_rng, skip_rng, resend_rng = (
            np.random.default_rng(seed) for seed in np.random.SeedSequence(params.seed).spawn(6)
        )
        self.out = out
        self.params = params
        self.chunk_rows = chunk_rows
        self.clock = Clock(params.start)
        self.crm_rng = crm_rng
        self.skip_rng = skip_rng
        self.resend_rng = resend_rng
        self.companies = CompanyBook.create(crm_rng, params.companies, params.days, self.clock)
        self.contacts = ContactBook.create(
            crm_rng, params.contacts, params.days, self.clock, self.companies
        )
        self.factory = EventFactory(events_rng, self.clock, self.contacts, self.companies)
        self.crm_faults = FaultInjector(crm_faults_rng)
        self.event_faults = FaultInjector(events_faults_rng)
        self.events_per_day = split_events(params.events, params.days, self.clock)
        self.tally = _Tally()

    def folder(self, day: int) -> Path:
        """The landing folder of a day index."""
        return self.out / self.clock.date(day).isoformat()

    def land_crm(self, day: int) -> None:
        """Write the day's companies and contacts files (unless the day has none)."""
        for schema in (COMPANIES, CONTACTS):
            if day and self.skip_rng.random() < SKIP_SHARE[schema.name]:
                continue
            if schema is COMPANIES:
                table = self.companies.land(self.crm_rng, self.clock, day)
            else:
                table = self.contacts.land(self.crm_rng, self.clock, day, self.companies)
            if not len(table):
                continue
            file_format = self.format_for(schema)
            faulted = self.crm_faults.add_copies(table, schema, file_format)
            with LandingFileWriter(self.folder(day), schema, file_format) as writer:
                writer.write(faulted.table, faulted.line_faults)
            self.tally.add(self.out, writer, len(faulted.rows))

    def land_events(self, day: int) -> Iterator[int]:
        """Write the day's events file chunk by chunk, yielding each chunk's size."""
        if not self.events_per_day[day]:
            return
        self.factory.begin_day(day)
        file_format = self.format_for(EVENTS)
        malformed = 0
        with LandingFileWriter(self.folder(day), EVENTS, file_format) as writer:
            for size in chunk_sizes(self.events_per_day[day], self.chunk_rows):
                duplicates = min(int(self.resend_rng.binomial(size, DUPLICATE_SHARE)), size // 2)
                fresh = self.factory.fresh(size - duplicates)
                faulted = self.event_faults.corrupt_some(fresh, EVENTS, file_format)
                malformed_mask = np.zeros(len(faulted.table), dtype=bool)
                malformed_mask[faulted.rows] = True
                clean = np.flatnonzero(~malformed_mask)
                resent = self.factory.resends(faulted.table, clean, duplicates)
                writer.write(pa.concat_tables([faulted.table, resent]), faulted.line_faults)
                malformed += len(faulted.rows)
                self.tally.duplicates += len(resent)
                yield size
        self.tally.add(self.out, writer, malformed)

    def format_for(self, schema: FileSchema) -> FileFormat:
        """The format of the next file of this kind."""
        entity = _ENTITY_INDEX[schema.name]
        return self.params.format_for(entity, self.tally.files_per_entity[schema.name])


def split_events(total: int, days: int, clock: Clock) -> list[int]:
    """Events per landing day, summing to `total`: quieter weekends, slow growth."""
    weights = np.array(
        [
            (0.55 if clock.date(day).weekday() >= 5 else 1.0) * (1 + 0.01 * day)
            for day in range(days)
        ]
    )
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    largest_remainders = np.argsort(counts - exact, kind="stable")[: total - int(counts.sum())]
    counts[largest_remainders] += 1
    per_day: list[int] = counts.tolist()
    return per_day


def chunk_sizes(total: int, chunk_rows: int) -> list[int]:
    """Sizes of the chunks a day's events are generated and written in."""
    full, rest = divmod(total, chunk_rows)
    return [chunk_rows] * full + ([rest] if rest else [])


def _clear_landing(out: Path) -> None:
    """Remove landing files of an earlier run, and day folders left empty by that."""
    if not out.is_dir():
        return
    for folder in sorted(out.iterdir()):
        if not (folder.is_dir() and _DAY_FOLDER.fullmatch(folder.name)):
            continue
        for path in folder.iterdir():
            if path.is_file() and _LANDING_FILE.fullmatch(path.name):
                path.unlink()
        if not any(folder.iterdir()):
            folder.rmdir()
