"""Named random streams.

Every component draws from its own ``numpy.random.Generator``, keyed by a stable
name (``"line.dp_batch.cycle_time"``).  The stream depends only on the
replication seed and that name, so adding, removing or re-ordering components
leaves every other component's draws unchanged: common random numbers across
scenarios come for free.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache, partial
from typing import Callable, Iterable, Union

import numpy as np
from numpy.random.bit_generator import ISeedSequence

RngSource = Union[np.random.Generator, Callable[[], np.random.Generator]]
"""A generator, or a factory making it when first drawn from (:meth:`Streams.lazy`)."""


def resolve(source: RngSource) -> np.random.Generator:
    """The generator of *source*: itself, or the one its factory makes (and caches) now."""
    return source if isinstance(source, np.random.Generator) else source()


@lru_cache(maxsize=65536)  # the same names in every replication of a process
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
        self._mixed: tuple[list[int], int] | None = None  # the seed sequence's pool after seed and rep

    def __call__(self, name: str) -> np.random.Generator:
        gen = self._cache.get(name)
        if gen is None:
            key = _name_key(name)
            if self._mixed is None:
                self._mixed = _mix_prefix(self.seed, self.rep)
            pool, hc = self._mixed
            gen = np.random.Generator(np.random.PCG64(_Seeded(_pcg64_words(pool, hc, name), self.seed,
                                                              (self.rep, *key))))
            self._cache[name] = gen
        return gen

    def lazy(self, name: str) -> Callable[[], np.random.Generator]:
        """The stream *name*, made only when first drawn from (see :func:`resolve`).  A replication
        names ~500 streams and never draws from a quarter of them (constant times, zero
        probabilities, reservoirs that never fill): seeding those is skipped.  The generator made
        later is the same as one made now, as it depends on the seed, replication and name only."""
        return partial(self, name)


# numpy's SeedSequence (the algorithm of its bit_generator.pyx; tests/test_randomness.py checks the words
# against numpy's own for many seeds), so that a stream is seeded without building a SeedSequence: that
# costs ~70 µs, a replication seeds ~370 streams, and the seed and replication words, mixed first, are
# the same for all of them.
_M32 = 0xFFFFFFFF
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715


def _words32(n: int) -> list[int]:
    """The 32-bit words of *n* >= 0, least significant first ([0] for 0), as numpy splits an int."""
    out = [n & _M32]
    n >>= 32
    while n:
        out.append(n & _M32)
        n >>= 32
    return out


def _hashmix(value: int, hc: int) -> tuple[int, int]:
    value = (value ^ hc) & _M32
    hc = (hc * _MULT_A) & _M32
    value = (value * hc) & _M32
    return value ^ (value >> 16), hc


def _word_hashes(words: list[int], hc: int) -> tuple[list[int], int]:
    """What mixing *words* into a pool from hash constant *hc* takes away from the pool words, one per
    (word, pool word) in order (each hashed word times ``_MIX_R``; :func:`_hashmix` inlined), and the
    hash constant after them: they do not depend on the pool."""
    out = []
    for w in words:
        for _ in range(4):
            v = ((w ^ hc) * (hc := (hc * _MULT_A) & _M32)) & _M32
            out.append(_MIX_R * (v ^ (v >> 16)))
    return out, hc


def _absorb(pool: list[int], hashes: Iterable[int]) -> None:
    """Mix *hashes* (from :func:`_word_hashes`) into the pool words in turn (the pool is changed)."""
    for j, v in enumerate(hashes):
        r = (_MIX_L * pool[j & 3] - v) & _M32
        pool[j & 3] = r ^ (r >> 16)


def _mix_in(pool: list[int], hc: int, words: list[int]) -> int:
    """Mix each of *words* into every pool word (the pool is changed); returns the hash constant."""
    hashes, hc = _word_hashes(words, hc)
    _absorb(pool, hashes)
    return hc


def _mix_prefix(seed: int, rep: int) -> tuple[list[int], int]:
    """The pool and hash constant of ``SeedSequence(seed, spawn_key=(rep, ...))`` after the seed's words
    (padded to the pool's four) and *rep*'s: what every stream of a replication shares."""
    run = _words32(seed)
    run += [0] * (4 - len(run))
    pool, hc = [0] * 4, _INIT_A
    for i in range(4):
        pool[i], hc = _hashmix(run[i], hc)
    for s in range(4):
        for d in range(4):
            if s != d:
                v, hc = _hashmix(pool[s], hc)
                r = (_MIX_L * pool[d] - _MIX_R * v) & _M32
                pool[d] = r ^ (r >> 16)
    hc = _mix_in(pool, hc, run[4:] + _words32(rep))
    return pool, hc


@lru_cache(maxsize=65536)
def _name_hashes(name: str, hc: int) -> tuple[int, ...]:
    """:func:`_word_hashes` of *name*'s key from hash constant *hc*: *hc* is the same in every
    replication whose seed and replication numbers have as many words, so they are made once per name
    in a process (a replication seeds ~370 streams, ~80,000 instructions each at first)."""
    return tuple(_word_hashes([w for k in _name_key(name) for w in _words32(k)], hc)[0])


def _output_constants() -> tuple[tuple[int, int], ...]:
    """The (xor, multiplier) pair with which ``generate_state`` hashes each of its eight 32-bit words."""
    out, hc = [], _INIT_B
    for _ in range(8):
        out.append((hc, hc := (hc * _MULT_B) & _M32))
    return tuple(out)


_OUTPUT = _output_constants()


def _pcg64_words(prefix: list[int], hc: int, name: str) -> list[int]:
    """``generate_state(4, uint64)`` of the seed sequence *prefix* continued by the key of *name*."""
    pool = list(prefix)
    _absorb(pool, _name_hashes(name, hc))  # _mix_in(pool, hc, words of the key), its hashes made already
    out = []
    for i, (x, m) in enumerate(_OUTPUT):
        v = ((pool[i & 3] ^ x) * m) & _M32
        out.append(v ^ (v >> 16))
    return [out[0] | out[1] << 32, out[2] | out[3] << 32, out[4] | out[5] << 32, out[6] | out[7] << 32]


class _Seeded(ISeedSequence):
    """A seed sequence whose PCG64 state words are known (:func:`_pcg64_words`); any other request is
    answered by numpy's own SeedSequence of the same entropy and spawn key."""

    def __init__(self, words: list[int], entropy: int, spawn_key: tuple[int, ...]) -> None:
        self._words = words
        self.entropy = entropy
        self.spawn_key = spawn_key

    def generate_state(self, n_words: int, dtype=np.uint32) -> np.ndarray:
        if n_words == 4 and np.dtype(dtype) == np.uint64:
            return np.array(self._words, dtype=np.uint64)
        return np.random.SeedSequence(self.entropy, spawn_key=self.spawn_key).generate_state(n_words, dtype)
