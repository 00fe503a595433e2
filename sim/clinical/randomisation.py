"""Permuted-block randomisation of patients to arms."""
from __future__ import annotations

import numpy as np

from sim.core.randomness import RngSource, resolve


class BlockRandomiser:
    """Permuted-block randomisation: each block holds every arm ``ratio * m`` times, shuffled.

    Blocks are shuffled a batch at a time (``Generator.permuted`` of the block repeated in rows):
    row by row, that is the same draws as one ``permutation`` call per block (the stream is the
    randomiser's own; ``tests/test_clinical_enrollment.py`` checks it), at a fraction of the calls."""

    BATCH = 256
    """Assignments shuffled at once (whole blocks; at least one)."""

    def __init__(self, rng: RngSource, ratios: list[int], block_size: int | None = None) -> None:
        self._rng = rng
        per = sum(ratios)
        m = (block_size or per) // per
        self._block = np.repeat(np.arange(len(ratios)), np.asarray(ratios) * m)
        self._rows = max(1, self.BATCH // len(self._block))
        self._queue: list[int] = []

    def drop(self, arms: set[int]) -> None:
        """Allocate no more patients to *arms*: later blocks hold only the others (a fresh block now)."""
        self._block = self._block[~np.isin(self._block, sorted(arms))]
        self._rows = max(1, self.BATCH // len(self._block))
        self._queue = []

    def next(self) -> int:
        """Index of the arm of the next randomised patient."""
        if not self._queue:
            if len(self._block) == 1:  # one arm: shuffling a block of one draws nothing (no stream needed)
                self._queue = [int(self._block[0])] * self._rows
            else:
                self._rng = rng = resolve(self._rng)  # a stream made on first use
                blocks = rng.permuted(np.tile(self._block, (self._rows, 1)), axis=1)
                self._queue = blocks.ravel().tolist()[::-1]
        return self._queue.pop()
