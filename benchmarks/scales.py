"""The named sizes the benchmark runs at, and where each keeps its data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from segment_pipeline.generate.params import GenerateParams

#: Days the backfill figure covers (the partitions before the measured day).
BACKFILL_DAYS = 30


@dataclass(frozen=True)
class Scale:
    """A generated data set's size."""

    name: str
    companies: int
    contacts: int
    events: int
    days: int

    def params(self, seed: int) -> GenerateParams:
        """The generator's parameters for this scale."""
        return GenerateParams(
            companies=self.companies,
            contacts=self.contacts,
            events=self.events,
            days=self.days,
            start=date(2026, 1, 1),
            seed=seed,
        )


SCALES = {
    scale.name: scale
    for scale in (
        # CI's smoke test: every step on a few thousand rows.
        Scale("tiny", companies=300, contacts=1_500, events=30_000, days=BACKFILL_DAYS + 5),
        Scale("small", companies=2_000, contacts=10_000, events=200_000, days=40),
        # The reference size the membership figures are quoted at: 100k contacts, 2M events.
        Scale("reference", companies=20_000, contacts=100_000, events=2_000_000, days=40),
        Scale("medium", companies=200_000, contacts=1_000_000, events=20_000_000, days=90),
        # Only when asked for: hours of generation and ingestion, tens of GB of disk.
        Scale("large", companies=1_000_000, contacts=5_000_000, events=200_000_000, days=180),
    )
}
