"""Permuted-block randomisation of patients to arms."""
from __future__ import annotations

import numpy as np


class BlockRandomiser:
    """Permuted-block randomisation: each block holds every arm ``ratio * m`` times, shuffled."""

    def __init__(self, rng: np.random.Generator, ratios: list[int], block_size: int | None = None) -> None:
        self._rng = rng
        per = sum(ratios)
        m = (block_size or per) // per
        self._block = np.repeat(np.arange(len(ratios)), np.asarray(ratios) * m)
        self._queue: list[int] = []

    def drop(self, arms: set[int]) -> None:
        """Allocate no more patients to *arms*: later blocks hold only the others (a fresh block now)."""
        self._block = self._block[~np.isin(self._block, sorted(arms))]
        self._queue = []

    def next(self) -> int:
        """Index of the arm of the next randomised patient."""
        if not self._queue:
            self._queue = self._rng.permutation(self._block).tolist()[::-1]
        return self._queue.pop()
