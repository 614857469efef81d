"""The synthetic landing zone: layout, determinism, realism and the mess it must contain."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from segment_pipeline.definitions.sources import load_sources
from segment_pipeline.generate import GenerateParams, GenerateSummary, generate_landing, writer
from segment_pipeline.generate.landing import write_landing
from segment_pipeline.generate.schema import COMPANIES, CONTACTS, EVENTS
from segment_pipeline.generate.vocab import EVENT_NAMES
from segment_pipeline.generate.writer import LandingFileWriter

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_like_sql"
PARAMS = GenerateParams(companies=300, contacts=1500, events=20_000, days=10, seed=7)
#: A longer CRM-only run, for what is rare per day (skipped files, company re-creations).
CRM_ONLY = GenerateParams(companies=1000, contacts=3000, events=0, days=30, seed=7)
SCHEMAS = {schema.name: schema for schema in (COMPANIES, CONTACTS, EVENTS)}
OFFSET = re.compile(r"[+-]\d\d:\d\d$")


class Landed:
    """Every file of a generated landing zone, parsed leniently as the tests need it."""

    def __init__(self, root: Path, summary: GenerateSummary) -> None:
        self.root = root
        self.summary = summary
        self.files = sorted(root.glob("*/*.*"))
        #: (landing date, source) -> rows as text dicts, and lines that are not rows
        self.rows: dict[tuple[date, str], list[dict[str, str | None]]] = {}
        self.bad_lines: dict[str, list[str]] = defaultdict(list)
        for path in self.files:
            rows, bad = read_rows(path)
            self.rows[(date.fromisoformat(path.parent.name), path.stem)] = rows
            self.bad_lines[path.suffix].extend(bad)

    def of(self, source: str) -> list[tuple[date, dict[str, str | None]]]:
        """All rows of one source with their landing date, in landing order."""
        return [
            (landed, row)
            for (landed, name), rows in sorted(self.rows.items())
            if name == source
            for row in rows
        ]


def read_rows(path: Path) -> tuple[list[dict[str, str | None]], list[str]]:
    """Rows of a landing file as text (JSON values re-encoded), and its unparseable lines."""
    columns = SCHEMAS[path.stem].columns
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist(), []
    rows: list[dict[str, str | None]] = []
    bad: list[str] = []
    lines = path.read_text().splitlines()
    if path.suffix == ".csv":
        assert lines[0] == ",".join(columns)
        for line in lines[1:]:
            fields = next(csv.reader(io.StringIO(line)))
            if len(fields) != len(columns):
                bad.append(line)
            else:
                rows.append({c: v or None for c, v in zip(columns, fields, strict=True)})
        return rows, bad
    for line in lines:
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            bad.append(line)
            continue
        if not isinstance(value, dict):
            bad.append(line)
            continue
        rows.append({key: as_text(item) for key, item in value.items()})
    return rows, bad


def as_text(value: object) -> str | None:
    """A JSON value as the text a CSV or parquet file would carry."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def instant(text: str | None) -> datetime | None:
    """A timestamp in UTC, or None when it does not parse (a malformed row)."""
    try:
        parsed = datetime.fromisoformat(text or "")
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Landed:
    root = tmp_path_factory.mktemp("landing")
    return Landed(root, generate_landing(root, PARAMS))


@pytest.fixture(scope="module")
def crm_only(tmp_path_factory: pytest.TempPathFactory) -> Landed:
    root = tmp_path_factory.mktemp("crm_only")
    return Landed(root, generate_landing(root, CRM_ONLY))


def tree(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*.*")}


def test_same_params_and_seed_give_byte_identical_files(landed: Landed, tmp_path: Path) -> None:
    generate_landing(tmp_path, PARAMS)
    assert tree(tmp_path) == tree(landed.root)


def test_another_seed_gives_other_data(landed: Landed, tmp_path: Path) -> None:
    generate_landing(tmp_path, PARAMS.model_copy(update={"seed": 8}))
    assert tree(tmp_path) != tree(landed.root)


def test_layout_is_one_folder_per_landing_day(landed: Landed) -> None:
    folders = sorted(path.name for path in landed.root.iterdir())
    assert folders == [f"2026-01-{day:02d}" for day in range(1, 11)]
    assert landed.summary.days == 10
    for path in landed.files:
        assert path.stem in SCHEMAS
        assert path.suffix in {".csv", ".jsonl", ".parquet"}


def test_every_format_is_produced_for_every_source(landed: Landed) -> None:
    formats = {(path.stem, path.suffix) for path in landed.files}
    assert formats == {(s, f) for s in SCHEMAS for f in (".csv", ".jsonl", ".parquet")}


def test_some_days_lack_a_crm_file_but_day_one_has_all(crm_only: Landed) -> None:
    per_day = defaultdict(set)
    for path in crm_only.files:
        per_day[path.parent.name].add(path.stem)
    assert per_day["2026-01-01"] == {"companies", "contacts"}
    assert any(stems != {"companies", "contacts"} for stems in per_day.values())


def test_every_file_is_readable_by_duckdb(landed: Landed) -> None:
    for path in landed.files:
        schema = SCHEMAS[path.stem]
        if path.suffix == ".csv":
            relation = duckdb.read_csv(str(path), all_varchar=True, ignore_errors=True)
        elif path.suffix == ".jsonl":
            columns = dict.fromkeys(schema.columns, "VARCHAR")
            relation = duckdb.read_json(
                str(path), format="newline_delimited", columns=columns, ignore_errors=True
            )
        else:
            relation = duckdb.read_parquet(str(path))
        assert relation.columns == list(schema.columns), path
        assert relation.shape[0] >= landed.summary.files[f"{path.parent.name}/{path.name}"] - 5


def test_columns_follow_sources_yml() -> None:
    sources = load_sources(PROJECT_DIR)
    assert list(COMPANIES.columns) == [
        "company_id",
        "updated_at",
        "is_deleted",
        *sources.companies.columns,
    ]
    assert list(CONTACTS.columns) == [
        "contact_id",
        "updated_at",
        "is_deleted",
        *sources.contacts.columns,
    ]


def test_summary_counts_match_the_files(landed: Landed) -> None:
    summary = landed.summary
    assert summary.events_rows == PARAMS.events
    for name in SCHEMAS:
        in_files = sum(rows for file, rows in summary.files.items() if f"/{name}." in file)
        assert getattr(summary, f"{name}_rows") == in_files
    for path in landed.files:
        parsed, bad = read_rows(path)
        assert len(parsed) + len(bad) == summary.files[f"{path.parent.name}/{path.name}"]
    assert 0 < summary.malformed_rows < 0.01 * (summary.events_rows + summary.contacts_rows)
    assert 0 < summary.duplicate_events < 0.02 * summary.events_rows


def test_all_event_names_and_their_properties(landed: Landed) -> None:
    events = [row for _, row in landed.of("events")]
    names = {row["event_name"] for row in events}
    assert names >= set(EVENT_NAMES)
    counts = {name: sum(row["event_name"] == name for row in events) for name in EVENT_NAMES}
    frequent = sorted(counts, key=counts.__getitem__, reverse=True)[:3]
    assert set(frequent) == {"page_viewed", "email_opened", "feature_used"}
    keys = {
        "page_viewed": {"page"},
        "pricing_viewed": {"plan"},
        "feature_used": {"feature", "seats"},
        "trial_started": {"plan"},
        "invite_sent": {"seats"},
        "demo_requested": {"source"},
        "signup": set(),
        "email_opened": {"campaign"},
    }
    for row in events:
        if row["event_name"] in keys and row["properties"] not in (None, "not json"):
            assert set(json.loads(row["properties"])) == keys[row["event_name"]]


def test_events_skew_to_a_minority_of_contacts(landed: Landed) -> None:
    per_contact: dict[str, int] = defaultdict(int)
    for _, row in landed.of("events"):
        per_contact[row["contact_id"] or ""] += 1
    busiest = sorted(per_contact.values(), reverse=True)
    top_fifth = sum(busiest[: PARAMS.contacts // 5])
    assert top_fifth > 0.5 * sum(busiest)
    assert len(per_contact) < PARAMS.contacts


def test_events_often_lack_company_id(landed: Landed) -> None:
    company = [row["company_id"] for _, row in landed.of("events")]
    empty = sum(not value for value in company)
    assert 0.3 * len(company) < empty < 0.9 * len(company)


def test_late_rows_land_after_they_happened(landed: Landed) -> None:
    for source, column in (("events", "occurred_at"), ("contacts", "updated_at")):
        late = [
            (landed_on, row)
            for landed_on, row in landed.of(source)
            if landed_on > PARAMS.start
            and (moment := instant(row[column])) is not None
            and moment.date() < landed_on
        ]
        assert late, source
    for landed_on, row in landed.of("events"):
        moment = instant(row["occurred_at"])
        assert moment is None or moment.date() <= landed_on


def test_initial_versions_are_spread_over_earlier_months(landed: Landed) -> None:
    first_day = landed.rows[(PARAMS.start, "companies")]
    moments = [m for row in first_day if (m := instant(row["updated_at"])) is not None]
    assert all(m.date() < PARAMS.start for m in moments)
    assert (max(moments) - min(moments)).days > 60


def test_timestamps_are_utc_naive_or_with_offsets(landed: Landed) -> None:
    stamps = [row["occurred_at"] or "" for _, row in landed.of("events")]
    with_offset = [s for s in stamps if OFFSET.search(s)]
    utc = [s for s in stamps if s.endswith("Z")]
    assert with_offset and utc
    assert len(with_offset) < 0.1 * len(stamps)
    assert len(utc) + len(with_offset) < len(stamps)  # the rest are naive
    assert all(instant(s) is not None for s in with_offset)
    assert any("." in s for s in stamps)  # microsecond precision occurs


def test_duplicate_events_are_identical_resends(landed: Landed) -> None:
    seen: dict[str, tuple[date, dict[str, str | None]]] = {}
    same_day = later_day = 0
    for landed_on, row in landed.of("events"):
        if not row["event_id"]:
            continue
        if row["event_id"] in seen:
            first_on, first = seen[row["event_id"]]
            assert row == first
            same_day += first_on == landed_on
            later_day += first_on < landed_on
        else:
            seen[row["event_id"]] = (landed_on, row)
    assert same_day and later_day


def test_malformed_rows_of_every_kind(landed: Landed) -> None:
    companies = [row for _, row in landed.of("companies")]
    contacts = [row for _, row in landed.of("contacts")]
    events = [row for _, row in landed.of("events")]
    assert any(not row["company_id"] for row in companies)
    assert any(not row["contact_id"] for row in contacts)
    assert any(not row["event_id"] for row in events)
    assert any(not row["contact_id"] for row in events)
    stamps = {row["updated_at"] for row in companies + contacts} | {
        row["occurred_at"] for row in events
    }
    assert {"not-a-date", "2026-13-45"} & stamps
    assert any(row["employee_count"] == "many" for row in companies)
    assert any(row["is_former_employee"] == "maybe" for row in contacts)
    assert any(row["properties"] == "not json" for row in events)
    assert landed.bad_lines[".csv"]
    assert any(line.startswith("[") for line in landed.bad_lines[".jsonl"])
    assert any(line.startswith("{") for line in landed.bad_lines[".jsonl"])


def histories(landed: Landed, source: str, key: str) -> dict[str, list[dict[str, str | None]]]:
    """Well-formed versions per record, in `updated_at` order."""
    versions = defaultdict(list)
    for _, row in landed.of(source):
        moment = instant(row["updated_at"])
        if row[key] and moment is not None and row["is_deleted"] in ("true", "false"):
            versions[row[key]].append((moment, row))
    return {k: [row for _, row in sorted(v, key=lambda p: p[0])] for k, v in versions.items()}


def recreated(history: list[dict[str, str | None]]) -> bool:
    """Deleted, then a later version that is not deleted."""
    flags = [row["is_deleted"] for row in history]
    return "true" in flags and "false" in flags[flags.index("true") :]


def test_crm_changes_deletions_recreations_moves_and_leavers(landed: Landed) -> None:
    contacts = histories(landed, "contacts", "contact_id")
    companies = histories(landed, "companies", "company_id")
    assert any(recreated(h) for h in contacts.values())
    assert any(row["is_deleted"] == "true" for h in companies.values() for row in h)
    assert any(len({row["company_id"] for row in h}) > 1 for h in contacts.values())
    assert any(row["is_former_employee"] == "true" for h in contacts.values() for row in h)
    assert any(len({row["title"] for row in h}) > 1 for h in contacts.values())
    assert any(len({row["employee_count"] for row in h}) > 1 for h in companies.values())
    assert len(companies) > 0.95 * PARAMS.companies
    first_day = {row["contact_id"] for row in landed.rows[(PARAMS.start, "contacts")]}
    assert len(first_day) < len(contacts)  # some contacts appear later


def test_deleted_companies_come_back_occasionally(crm_only: Landed) -> None:
    companies = histories(crm_only, "companies", "company_id")
    deleted = [h for h in companies.values() if any(r["is_deleted"] == "true" for r in h)]
    assert 0 < sum(map(recreated, deleted)) < len(deleted) < 0.2 * len(companies)


def test_attributes_are_realistic(landed: Landed) -> None:
    companies = [row for _, row in landed.of("companies") if row["company_id"]]
    sizes = [int(row["employee_count"]) for row in companies if row["employee_count"] != "many"]
    assert min(sizes) >= 1 and max(sizes) <= 100_000 and max(sizes) >= 1000 * min(sizes)
    countries = {row["country"] for row in companies}
    assert countries == {"GB", "US", "DE", "FR", "NL", "ES", "IN", "BR", "JP", "AU"}
    contacts = [row for _, row in landed.of("contacts") if row["contact_id"]]
    assert {row["seniority"] for row in contacts} == {"ic", "manager", "director", "vp", "cxo"}
    assert {"finance", "growth", "data"} <= {row["department"] for row in contacts}
    assert {"VP Finance", "Head of Growth", "CFO"} <= {row["title"] for row in contacts}
    per_company: dict[str, set[str]] = defaultdict(set)
    for row in contacts:
        per_company[row["company_id"] or ""].add(row["contact_id"] or "")
    assert max(len(ids) for ids in per_company.values()) >= 5 * (PARAMS.contacts / PARAMS.companies)


def test_events_are_written_in_bounded_chunks(tmp_path: Path, monkeypatch) -> None:
    widths: list[tuple[str, int]] = []
    original = LandingFileWriter.write

    def recording(self: LandingFileWriter, table, line_faults) -> None:
        widths.append((self.schema.name, len(table)))
        original(self, table, line_faults)

    monkeypatch.setattr(LandingFileWriter, "write", recording)
    params = PARAMS.model_copy(update={"events": 3000, "days": 2, "file_format": "parquet"})
    summary = write_landing(tmp_path, params, chunk_rows=400)
    event_chunks = [width for name, width in widths if name == "events"]
    assert max(event_chunks) <= 400 and len(event_chunks) >= 3000 // 400
    assert summary.events_rows == 3000
    for path in tmp_path.glob("*/events.parquet"):
        assert pq.ParquetFile(path).metadata.num_row_groups > 1


@pytest.mark.parametrize("file_format", ["csv", "jsonl"])
def test_text_chunks_append_to_one_file(tmp_path: Path, file_format: str) -> None:
    params = PARAMS.model_copy(update={"events": 2000, "days": 1, "file_format": file_format})
    small = write_landing(tmp_path / "small", params, chunk_rows=300)
    assert small.events_rows == 2000
    (path,) = (tmp_path / "small").glob(f"*/events.{file_format}")
    rows, bad = read_rows(path)
    assert len(rows) + len(bad) == 2000
    assert len({row["event_id"] for row in rows}) > 1900


@pytest.mark.parametrize("file_format", ["csv", "jsonl"])
def test_text_is_rendered_in_slices_without_changing_a_byte(
    tmp_path: Path, monkeypatch, file_format: str
) -> None:
    params = PARAMS.model_copy(update={"events": 3000, "days": 2, "file_format": file_format})
    generate_landing(tmp_path / "whole", params)
    monkeypatch.setattr(writer, "_TEXT_BATCH_ROWS", 70)
    generate_landing(tmp_path / "sliced", params)
    assert tree(tmp_path / "sliced") == tree(tmp_path / "whole")


def test_explicit_format_and_big_runs() -> None:
    assert PARAMS.model_copy(update={"file_format": "csv"}).format_for(1, 5) == "csv"
    big = PARAMS.model_copy(update={"events": 2_000_000})
    assert {big.format_for(entity, n) for entity in range(3) for n in range(3)} == {"parquet"}


def test_crm_does_not_depend_on_the_number_of_events(landed: Landed, tmp_path: Path) -> None:
    generate_landing(tmp_path, PARAMS.model_copy(update={"events": 0}))
    assert not list(tmp_path.glob("*/events.*"))
    crm = {name: data for name, data in tree(tmp_path).items() if "events" not in name}
    assert crm == {name: data for name, data in tree(landed.root).items() if name in crm}


def test_rerun_replaces_earlier_landing_files_only(tmp_path: Path) -> None:
    generate_landing(tmp_path, PARAMS.model_copy(update={"days": 4, "events": 500}))
    notes = tmp_path / "2026-01-02" / "notes.txt"
    notes.write_text("keep me")
    generate_landing(tmp_path, PARAMS.model_copy(update={"days": 2, "events": 500}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-01-01", "2026-01-02"]
    assert notes.read_text() == "keep me"


def test_params_reject_nonsense() -> None:
    with pytest.raises(ValidationError):
        GenerateParams(days=0)
    with pytest.raises(ValidationError):
        GenerateParams(contacts=0, events=10)
    with pytest.raises(ValidationError):
        GenerateParams(rows=5)
    assert GenerateParams(contacts=0, events=0).contacts == 0
