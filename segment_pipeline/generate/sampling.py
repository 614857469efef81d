"""Vectorised weighted draws, the one sampling primitive the generator leans on."""

from __future__ import annotations

import numpy as np


def cumulative(weights: np.ndarray) -> np.ndarray:
    """The running total of non-negative weights, ready for `draw`."""
    return np.cumsum(np.asarray(weights, dtype=np.float64))


def draw(rng: np.random.Generator, totals: np.ndarray, count: int) -> np.ndarray:
    """`count` indices drawn with probability proportional to each weight behind `totals`.

    A binary search per draw instead of `Generator.choice(p=...)`, so the running total can be
    computed once and reused for every chunk of events.
    """
    picks = np.searchsorted(totals, rng.random(count) * totals[-1], side="right")
    indices: np.ndarray = np.minimum(picks, len(totals) - 1)
    return indices
