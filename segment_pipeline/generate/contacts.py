"""The contact book: every contact's current attributes and its daily change records."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segment_pipeline.generate import vocab
from segment_pipeline.generate.clock import DAY_US, Clock, render_timestamps
from segment_pipeline.generate.companies import CompanyBook, booleans
from segment_pipeline.generate.lifecycle import Lifecycle, birth_times, change_times, plan_day
from segment_pipeline.generate.sampling import cumulative, draw
from segment_pipeline.generate.schema import CONTACTS

#: Share of live contacts that change on a landing day, and of deleted ones that come back.
CHANGE_RATE = 0.015
RECREATE_RATE = 0.2
BORN_LATER = 0.06
SIGNED_UP_SHARE = 0.55
#: Share of contacts that ever produce events; the rest only exist in the CRM.
ACTIVE_SHARE = 0.65

_KINDS = ("title", "department", "move", "former", "signup", "delete")
_KIND_WEIGHTS = (0.35, 0.06, 0.17, 0.13, 0.17, 0.12)

_TITLES = np.array([title for title, _, _ in vocab.TITLES])
_SENIORITY = np.array([seniority for _, seniority, _ in vocab.TITLES])
_DEPARTMENT = np.array([department for _, _, department in vocab.TITLES])
_TITLE_WEIGHTS = np.array([vocab.SENIORITY_WEIGHT[s] for s in _SENIORITY])
_TITLE_WEIGHTS /= _TITLE_WEIGHTS.sum()


def _promotions() -> np.ndarray:
    """For each title, the next title up in its department (or a sideways one at the top)."""
    rank = {seniority: level for level, seniority in enumerate(vocab.SENIORITIES)}
    targets = []
    for index, (_, seniority, department) in enumerate(vocab.TITLES):
        same = [i for i, t in enumerate(vocab.TITLES) if t[2] == department and i != index]
        higher = [i for i in same if rank[vocab.TITLES[i][1]] > rank[seniority]]
        targets.append(min(higher, key=lambda i: rank[vocab.TITLES[i][1]]) if higher else same[0])
    return np.array(targets)


_PROMOTION = _promotions()


@dataclass
class ContactBook:
    """Current state of every contact, as parallel arrays indexed by contact number."""

    ids: pa.Array
    company: np.ndarray
    local_part: np.ndarray
    title: np.ndarray
    former: np.ndarray
    signed_up_us: np.ndarray
    activity: np.ndarray
    life: Lifecycle

    @classmethod
    def create(
        cls,
        rng: np.random.Generator,
        count: int,
        days: int,
        clock: Clock,
        companies: CompanyBook,
    ) -> ContactBook:
        """Contacts spread over companies, more of them at bigger companies."""
        company = _employers(rng, count, companies)
        life = Lifecycle.create(rng, count, days, BORN_LATER)
        life.birth_day = np.maximum(life.birth_day, companies.life.birth_day[company])
        signed_up = clock.day_start_us(0) - rng.integers(DAY_US, 365 * DAY_US, count)
        signed_up = np.where(rng.random(count) < SIGNED_UP_SHARE, signed_up, -1)
        rank = rng.permutation(count)
        active = rng.random(count) < ACTIVE_SHARE
        width = max(7, len(str(count)))
        return cls(
            ids=pa.array([f"ct_{number:0{width}d}" for number in range(1, count + 1)]),
            company=company,
            local_part=_local_parts(rng, company),
            title=rng.choice(len(_TITLES), size=count, p=_TITLE_WEIGHTS),
            former=np.zeros(count, dtype=bool),
            signed_up_us=signed_up - signed_up % 1_000_000,
            activity=np.where(active, (rank + 10.0) ** -0.9, 0.0),
            life=life,
        )

    def land(
        self, rng: np.random.Generator, clock: Clock, day: int, companies: CompanyBook
    ) -> pa.Table:
        """Today's contact rows: first versions, changes and re-creations, by `updated_at`."""
        plan = plan_day(rng, self.life, day, CHANGE_RATE, RECREATE_RATE)
        self._rehome(rng, plan.births, companies)
        touched = plan.touched
        change_us = change_times(rng, clock, day, self.life.last_updated_us[touched])
        self._change(rng, plan.changes, change_us[: len(plan.changes)], day, companies)
        self._recreate(rng, plan.recreations, companies)
        index = np.concatenate([plan.births, touched])
        times = np.concatenate(
            [birth_times(rng, clock, self.life.birth_day[plan.births]), change_us]
        )
        self.life.record(index, times)
        order = np.argsort(times, kind="stable")
        return self.rows(rng, index[order], times[order], companies)

    def rows(
        self,
        rng: np.random.Generator,
        index: np.ndarray,
        times_us: np.ndarray,
        companies: CompanyBook,
    ) -> pa.Table:
        """The current version of these contacts as an all-text table."""
        employer = self.company[index]
        title = self.title[index]
        return pa.table(
            {
                "contact_id": self.ids.take(index),
                "updated_at": render_timestamps(rng, times_us),
                "is_deleted": booleans(self.life.deleted[index]),
                "company_id": companies.ids.take(employer),
                "email": pc.binary_join_element_wise(
                    pa.array(self.local_part[index], type=pa.string()),
                    pa.array(companies.domain[employer], type=pa.string()),
                    "@",
                ),
                "title": pa.array(_TITLES[title]),
                "seniority": pa.array(_SENIORITY[title]),
                "department": pa.array(_DEPARTMENT[title]),
                "is_former_employee": booleans(self.former[index]),
                "signed_up_at": render_timestamps(
                    rng, self.signed_up_us[index], missing=self.signed_up_us[index] < 0
                ),
            },
            schema=CONTACTS.arrow_schema,
        )

    def _change(
        self,
        rng: np.random.Generator,
        index: np.ndarray,
        times_us: np.ndarray,
        day: int,
        companies: CompanyBook,
    ) -> None:
        """Apply one change to each contact: promotion, new department, move, leaving, ..."""
        kind = np.array(_KINDS)[rng.choice(len(_KINDS), size=len(index), p=_KIND_WEIGHTS)]
        promoted = index[kind == "title"]
        self.title[promoted] = _PROMOTION[self.title[promoted]]
        switched = index[kind == "department"]
        self.title[switched] = rng.choice(len(_TITLES), size=len(switched), p=_TITLE_WEIGHTS)
        self._move(rng, index[kind == "move"], companies)
        self.former[index[kind == "former"]] = True
        signing = kind == "signup"
        signed = self.signed_up_us[index[signing]]
        self.signed_up_us[index[signing]] = np.where(signed < 0, times_us[signing], signed)
        self.life.delete(index[kind == "delete"], day)

    def _move(self, rng: np.random.Generator, index: np.ndarray, companies: CompanyBook) -> None:
        """Contacts join another live company (bigger ones more likely) as current employees."""
        live = companies.life.live()
        if len(live) == 0 or len(index) == 0:
            return
        totals = cumulative(companies.size_weights(live))
        self.company[index] = live[draw(rng, totals, len(index))]
        self.former[index] = False

    def _rehome(self, rng: np.random.Generator, index: np.ndarray, companies: CompanyBook) -> None:
        """A contact first seen at a company that is gone (or not yet known) joins a live one."""
        employer = self.company[index]
        gone = ~companies.life.landed[employer] | companies.life.deleted[employer]
        self._move(rng, index[gone], companies)

    def _recreate(
        self, rng: np.random.Generator, index: np.ndarray, companies: CompanyBook
    ) -> None:
        """A deleted contact comes back (same id), half of them at another company."""
        self.life.deleted[index] = False
        self.former[index] = False
        self._move(rng, index[rng.random(len(index)) < 0.5], companies)


def _employers(rng: np.random.Generator, count: int, companies: CompanyBook) -> np.ndarray:
    """A company per contact: every company gets one if there are enough, the rest by size."""
    every = np.arange(len(companies.employees))
    first = every[: min(count, len(every))]
    rest = draw(rng, cumulative(companies.size_weights(every)), count - len(first))
    return rng.permutation(np.concatenate([first, rest]).astype(np.int64))


def _local_parts(rng: np.random.Generator, company: np.ndarray) -> np.ndarray:
    """`first.last` email local parts, numbered when a company already has that name."""
    first = rng.integers(0, len(vocab.FIRST_NAMES), len(company))
    last = rng.integers(0, len(vocab.LAST_NAMES), len(company))
    parts = np.empty(len(company), dtype=object)
    taken: dict[tuple[int, str], int] = {}
    for i in range(len(company)):
        base = f"{vocab.FIRST_NAMES[first[i]]}.{vocab.LAST_NAMES[last[i]]}".lower()
        seen = taken.get((company[i], base), 0)
        taken[(company[i], base)] = seen + 1
        parts[i] = f"{base}{seen + 1}" if seen else base
    return parts
