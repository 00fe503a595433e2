"""Named random streams.

Every component draws from its own ``numpy.random.Generator``, keyed by a stable
name (``"line.dp_batch.cycle_time"``).  The stream depends only on the
replication seed and that name, so adding, removing or re-ordering components
leaves every other component's draws unchanged: common random numbers across
scenarios come for free.
"""
from __future__ import annotations

import hashlib
from functools import partial
from typing import Callable, Union

import numpy as np

RngSource = Union[np.random.Generator, Callable[[], np.random.Generator]]
"""A generator, or a factory making it when first drawn from (:meth:`Streams.lazy`)."""


def resolve(source: RngSource) -> np.random.Generator:
    """The generator of *source*: itself, or the one its factory makes (and caches) now."""
    return source if isinstance(source, np.random.Generator) else source()


def _name_key(name: str) -> tuple[int, int]:
    """Two 32-bit words from a stable hash of *name* (Python's ``hash`` is salted)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest[:4], "little"), int.from_bytes(digest[4:], "little")


def replication_seed(seed: int, rep: int) -> np.random.SeedSequence:
    """The seed sequence of replication *rep* of an experiment seeded with *seed*."""
    return np.random.SeedSequence(entropy=seed, spawn_key=(rep,))


class Streams:
    """Factory of independent, name-addressed generators for one replication."""

    def __init__(self, seed: int, rep: int = 0) -> None:
        self.seed = int(seed)
        self.rep = int(rep)
        self._cache: dict[str, np.random.Generator] = {}

    def __call__(self, name: str) -> np.random.Generator:
        gen = self._cache.get(name)
        if gen is None:
            ss = np.random.SeedSequence(entropy=self.seed, spawn_key=(self.rep, *_name_key(name)))
            gen = np.random.Generator(np.random.PCG64(ss))
            self._cache[name] = gen
        return gen

    def lazy(self, name: str) -> Callable[[], np.random.Generator]:
        """The stream *name*, made only when first drawn from (see :func:`resolve`).  A replication
        names ~500 streams and never draws from a quarter of them (constant times, zero
        probabilities, reservoirs that never fill): seeding those is skipped.  The generator made
        later is the same as one made now, as it depends on the seed, replication and name only."""
        return partial(self, name)
