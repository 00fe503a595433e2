"""Permuted-block randomisation of patients to arms."""
from __future__ import annotations

import numpy as np


class BlockRandomiser:
    """Permuted-block randomisation: each block holds every arm ``ratio * m`` times, shuffled.

    Blocks are shuffled a batch at a time (``Generator.permuted`` of the block repeated in rows):
    row by row, that is the same draws as one ``permutation`` call per block (the stream is the
    randomiser's own; ``tests/test_clinical_enrollment.py`` checks it), at a fraction of the calls."""

    BATCH = 256
    """Assignments shuffled at once (whole blocks; at least one)."""

    def __init__(self, rng: np.random.Generator, ratios: list[int], block_size: int | None = None) -> None:
        self._rng = rng
        per = sum(ratios)
        m = (block_size or per) // per
        self._block = np.repeat(np.arange(len(ratios)), np.asarray(ratios) * m)
        self._rows = max(1, self.BATCH // len(self._block))
        self._queue: list[int] = []

    def next(self) -> int:
        """Index of the arm of the next randomised patient."""
        if not self._queue:
            blocks = self._rng.permuted(np.tile(self._block, (self._rows, 1)), axis=1)
            self._queue = blocks.ravel().tolist()[::-1]
        return self._queue.pop()
