"""Behavioural events, drawn in vectorised chunks so tens of millions never sit in memory.

Only the CRM books (a few arrays per contact) and a small pool of earlier events for
re-sends are kept between chunks; each chunk is generated, written and dropped.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segment_pipeline.generate import vocab
from segment_pipeline.generate.clock import SECOND_US, Clock, render_timestamps, times_of_day_us
from segment_pipeline.generate.companies import CompanyBook
from segment_pipeline.generate.contacts import ContactBook
from segment_pipeline.generate.sampling import cumulative, draw
from segment_pipeline.generate.schema import EVENTS

#: Share of events that name their company; the rest leave it empty for the pipeline to attribute.
WITH_COMPANY_SHARE = 0.4
#: Days an event lands after it happened: mostly the same day, a few one to three days late.
LAG_WEIGHTS = (0.93, 0.04, 0.02, 0.01)
FRACTIONAL_SHARE = 0.15
#: Events kept from earlier landing days to be re-sent (same id, same content) later.
POOL_SIZE = 2000
#: Contacts that left or were deleted still produce a trickle of events.
GONE_ACTIVITY = 0.2

#: Multiplying sequence numbers by a number coprime with 10**12 scatters them into ids that look
#: random but never collide.
_ID_MULTIPLIER = 2_654_435_761
_ID_SPACE = 10**12
_ID_DIGITS = 12


class EventFactory:
    """Draws events for one landing day at a time, chunk by chunk."""

    def __init__(
        self,
        rng: np.random.Generator,
        clock: Clock,
        contacts: ContactBook,
        companies: CompanyBook,
    ) -> None:
        names, properties, weights = vocab.event_vocabulary()
        self._rng = rng
        self._clock = clock
        self._contacts = contacts
        self._companies = companies
        self._entry_names = pa.array(np.array(vocab.EVENT_NAMES)[names])
        self._entry_properties = pa.array(properties)
        self._entry_totals = cumulative(np.array(weights))
        self._id_offset = int(rng.integers(0, _ID_SPACE))
        self._issued = 0
        self._day = 0
        self._contact_totals = cumulative(np.ones(1))
        self._pool: pa.Table | None = None
        self._today: list[pa.Table] = []

    def begin_day(self, day: int) -> None:
        """Fix who is active today and move yesterday's sample into the re-send pool."""
        if self._today:
            pool = pa.concat_tables(self._today)
            self._pool = pool.slice(max(0, len(pool) - POOL_SIZE))
        self._today = []
        self._day = day
        contacts = self._contacts
        gone = contacts.life.deleted | contacts.former
        weights = contacts.activity * (contacts.life.birth_day <= day)
        weights = weights * np.where(gone, GONE_ACTIVITY, 1.0)
        if not weights.any():
            weights = np.ones(len(weights))
        self._contact_totals = cumulative(weights)

    def fresh(self, count: int) -> pa.Table:
        """`count` new events for today's landing, power-law distributed over contacts."""
        rng = self._rng
        contact = draw(rng, self._contact_totals, count)
        entry = pa.array(draw(rng, self._entry_totals, count))
        return pa.table(
            {
                "event_id": self._ids(count),
                "contact_id": self._contacts.ids.take(contact),
                "company_id": self._company_ids(contact),
                "event_name": self._entry_names.take(entry),
                "occurred_at": self._occurred_at(count),
                "properties": self._entry_properties.take(entry),
            },
            schema=EVENTS.arrow_schema,
        )

    def resends(self, fresh: pa.Table, clean: np.ndarray, count: int) -> pa.Table:
        """`count` copies of earlier events: from this chunk and from earlier landing days.

        `clean` are the rows of `fresh` that are well-formed: only those are re-sent or kept
        for re-sending on a later day.
        """
        rng = self._rng
        keep = np.sort(rng.choice(clean, size=min(len(clean), POOL_SIZE), replace=False))
        self._today.append(fresh.take(keep))
        from_pool = rng.binomial(count, 0.5) if self._pool is not None else 0
        parts = [fresh.take(np.sort(rng.choice(clean, size=count - from_pool)))]
        if self._pool is not None and from_pool:
            parts.append(self._pool.take(rng.integers(0, len(self._pool), from_pool)))
        return pa.concat_tables(parts)

    def _ids(self, count: int) -> pa.Array:
        """Unique event ids that do not reveal the order events were generated in."""
        sequence = np.arange(self._issued, self._issued + count, dtype=np.int64)
        self._issued += count
        scattered = (sequence * _ID_MULTIPLIER + self._id_offset) % _ID_SPACE
        digits = pc.utf8_lpad(pa.array(scattered).cast(pa.string()), _ID_DIGITS, "0")
        return pc.binary_join_element_wise("ev_", digits, "")

    def _company_ids(self, contact: np.ndarray) -> pa.Array:
        """The contact's current company on some events, NULL on the others."""
        named = pa.array(self._rng.random(len(contact)) < WITH_COMPANY_SHARE)
        company = self._companies.ids.take(self._contacts.company[contact])
        return pc.if_else(named, company, pa.scalar(None, pa.string()))

    def _occurred_at(self, count: int) -> pa.Array:
        """Today for most events, one to three days ago for late ones."""
        rng = self._rng
        lag = np.minimum(rng.choice(len(LAG_WEIGHTS), size=count, p=LAG_WEIGHTS), self._day)
        micros = self._clock.day_start_us(self._day - lag) + times_of_day_us(rng, count)
        fractional = rng.random(count) < FRACTIONAL_SHARE
        micros = micros + np.where(fractional, rng.integers(1, SECOND_US, count), 0)
        return render_timestamps(rng, micros)
