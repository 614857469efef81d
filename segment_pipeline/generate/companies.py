"""The company book: every company's current attributes and its daily change records."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from segment_pipeline.generate import vocab
from segment_pipeline.generate.clock import Clock, render_dates, render_timestamps
from segment_pipeline.generate.lifecycle import (
    Lifecycle,
    birth_times,
    change_times,
    plan_day,
)
from segment_pipeline.generate.schema import COMPANIES

#: Share of live companies that change on a landing day, and of deleted ones that come back.
CHANGE_RATE = 0.02
RECREATE_RATE = 0.25
BORN_LATER = 0.04
MAX_EMPLOYEES = 100_000

_KINDS = ("growth", "revenue", "industry", "country", "delete")
_KIND_WEIGHTS = (0.63, 0.12, 0.08, 0.07, 0.10)
_INDUSTRIES = np.array(vocab.INDUSTRIES)
_COUNTRIES = np.array(vocab.COUNTRIES)


def booleans(values: np.ndarray) -> pa.Array:
    """`true`/`false` text, as CSV and the all-text parquet files carry booleans."""
    return pa.array(np.where(values, "true", "false"))


@dataclass
class CompanyBook:
    """Current state of every company, as parallel arrays indexed by company number."""

    ids: pa.Array
    name: np.ndarray
    domain: np.ndarray
    industry: np.ndarray
    country: np.ndarray
    employees: np.ndarray
    revenue: np.ndarray
    founded_days: np.ndarray
    life: Lifecycle

    @classmethod
    def create(cls, rng: np.random.Generator, count: int, days: int, clock: Clock) -> CompanyBook:
        """Companies whose sizes spread over orders of magnitude (lognormal, 1..100k)."""
        employees = np.clip(np.rint(rng.lognormal(np.log(40), 1.9, count)), 1, MAX_EMPLOYEES)
        employees = employees.astype(np.int64)
        country = rng.choice(len(vocab.COUNTRIES), size=count, p=vocab.COUNTRY_WEIGHTS)
        name, domain = _names(rng, country)
        revenue = np.round(employees * rng.lognormal(np.log(150_000), 0.5, count), 2)
        revenue[rng.random(count) < 0.12] = np.nan
        founded_year = np.clip(clock.start.year - 1 - rng.exponential(14, count), 1900, None)
        founded_days = (
            (founded_year.astype(np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[D]")
        ).astype(np.int64) + rng.integers(0, 365, count)
        founded_days[rng.random(count) < 0.05] = -1
        width = max(6, len(str(count)))
        return cls(
            ids=pa.array([f"co_{number:0{width}d}" for number in range(1, count + 1)]),
            name=name,
            domain=domain,
            industry=rng.choice(len(vocab.INDUSTRIES), size=count, p=vocab.INDUSTRY_WEIGHTS),
            country=country,
            employees=employees,
            revenue=revenue,
            founded_days=founded_days,
            life=Lifecycle.create(rng, count, days, BORN_LATER),
        )

    def land(self, rng: np.random.Generator, clock: Clock, day: int) -> pa.Table:
        """Today's company rows: first versions, changes and re-creations, by `updated_at`."""
        plan = plan_day(rng, self.life, day, CHANGE_RATE, RECREATE_RATE)
        self._change(rng, plan.changes, day)
        self._recreate(rng, plan.recreations)
        touched = plan.touched
        index = np.concatenate([plan.births, touched])
        times = np.concatenate(
            [
                birth_times(rng, clock, self.life.birth_day[plan.births]),
                change_times(rng, clock, day, self.life.last_updated_us[touched]),
            ]
        )
        self.life.record(index, times)
        order = np.argsort(times, kind="stable")
        return self.rows(rng, index[order], times[order])

    def size_weights(self, index: np.ndarray) -> np.ndarray:
        """How likely a company is to employ a given contact: big companies have more."""
        weights: np.ndarray = self.employees[index].astype(np.float64) ** 0.6
        return weights

    def rows(self, rng: np.random.Generator, index: np.ndarray, times_us: np.ndarray) -> pa.Table:
        """The current version of these companies as an all-text table."""
        return pa.table(
            {
                "company_id": self.ids.take(index),
                "updated_at": render_timestamps(rng, times_us),
                "is_deleted": booleans(self.life.deleted[index]),
                "name": pa.array(self.name[index], type=pa.string()),
                "domain": pa.array(self.domain[index], type=pa.string()),
                "industry": pa.array(_INDUSTRIES[self.industry[index]]),
                "employee_count": pa.array(self.employees[index]).cast(pa.string()),
                "country": pa.array(_COUNTRIES[self.country[index]]),
                "annual_revenue": pa.array(
                    self.revenue[index], mask=np.isnan(self.revenue[index])
                ).cast(pa.string()),
                "founded_on": render_dates(self.founded_days[index], self.founded_days[index] < 0),
                "tech_stack": tech_stacks(index, self.employees[index], self.industry[index]),
            },
            schema=COMPANIES.arrow_schema,
        )

    def _change(self, rng: np.random.Generator, index: np.ndarray, day: int) -> None:
        """Apply one attribute change (or a deletion) to each company in `index`."""
        kind = np.array(_KINDS)[rng.choice(len(_KINDS), size=len(index), p=_KIND_WEIGHTS)]
        self._grow(rng, index[kind == "growth"])
        revised = index[kind == "revenue"]
        self.revenue[revised] = np.round(
            self.employees[revised] * rng.lognormal(np.log(150_000), 0.5, len(revised)), 2
        )
        edited = index[kind == "industry"]
        self.industry[edited] = rng.choice(
            len(vocab.INDUSTRIES), size=len(edited), p=vocab.INDUSTRY_WEIGHTS
        )
        moved = index[kind == "country"]
        self.country[moved] = rng.choice(
            len(vocab.COUNTRIES), size=len(moved), p=vocab.COUNTRY_WEIGHTS
        )
        self.life.delete(index[kind == "delete"], day)

    def _grow(self, rng: np.random.Generator, index: np.ndarray) -> None:
        """Headcount moves by a few percent (mostly growth); revenue follows it."""
        old = self.employees[index]
        new = np.clip(np.rint(old * np.exp(rng.normal(0.03, 0.08, len(index)))), 1, MAX_EMPLOYEES)
        new = new.astype(np.int64)
        new = np.where(new == old, np.where(old < MAX_EMPLOYEES, old + 1, old - 1), new)
        self.revenue[index] = np.round(self.revenue[index] * new / old, 2)
        self.employees[index] = new

    def _recreate(self, rng: np.random.Generator, index: np.ndarray) -> None:
        """A deleted company comes back (same id), a little bigger or smaller."""
        self.life.deleted[index] = False
        self._grow(rng, index)


def tech_stacks(index: np.ndarray, employees: np.ndarray, industry: np.ndarray) -> pa.Array:
    """The tools a company runs, as JSON array text (`["hubspot","stripe"]`): its CRM by
    size, a warehouse once it is big, payments in the industries that take them, and a few
    tools by company number; some companies list none, some are not known (NULL). Read off
    the company's state rather than drawn, so adding the column left every other value of
    the generator as it was, and the list changes when headcount or industry do."""
    stacks: list[str | None] = []
    rows = zip(index.tolist(), employees.tolist(), industry.tolist(), strict=True)
    for number, size, sector in rows:
        if number % 17 == 16:
            stacks.append(None)
            continue
        tools = [] if number % 13 == 12 else ["salesforce" if size >= 200 else "hubspot"]
        if size >= 1000:
            tools.append("snowflake")
        if vocab.INDUSTRIES[sector] in vocab.PAYING_INDUSTRIES:
            tools.append("stripe")
        tools += [tool for tool, every in vocab.TOOLS_BY_NUMBER if tools and number % every == 0]
        stacks.append(json.dumps(tools, separators=(",", ":")))
    return pa.array(stacks, type=pa.string())


def _names(rng: np.random.Generator, country: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Company names ("Blue Labs Ltd") and domains unique across the book ("bluelabs2.com")."""
    count = len(country)
    head = rng.integers(0, len(vocab.NAME_HEADS), count)
    tail = rng.integers(0, len(vocab.NAME_TAILS), count)
    legal = rng.random(count) < 0.5
    dot_com = rng.random(count) < 0.6
    names = np.empty(count, dtype=object)
    domains = np.empty(count, dtype=object)
    taken: dict[str, int] = {}
    for i in range(count):
        base = f"{vocab.NAME_HEADS[head[i]]} {vocab.NAME_TAILS[tail[i]]}"
        names[i] = f"{base} {vocab.LEGAL_SUFFIXES[country[i]]}" if legal[i] else base
        slug = base.replace(" ", "").lower()
        tld = "com" if dot_com[i] else vocab.COUNTRY_TLDS[country[i]]
        seen = taken.get(f"{slug}.{tld}", 0)
        taken[f"{slug}.{tld}"] = seen + 1
        domains[i] = f"{slug}{seen + 1 if seen else ''}.{tld}"
    return names, domains
