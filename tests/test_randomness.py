"""Named streams are seeded without numpy's SeedSequence object (sim.core.randomness replays its
algorithm, the seed and replication words mixed once per replication): the generators must be the
very ones numpy's SeedSequence gives, or every result would change."""
import numpy as np
import pytest

from sim.core.randomness import Streams, _name_key, _Seeded


def _numpy_stream(seed: int, rep: int, name: str) -> np.random.Generator:
    ss = np.random.SeedSequence(entropy=seed, spawn_key=(rep, *_name_key(name)))
    return np.random.Generator(np.random.PCG64(ss))


@pytest.mark.parametrize("seed", [0, 1, 20261123, 2**32 - 1, 2**32, 2**64 + 3, 2**130 + 11])
@pytest.mark.parametrize("rep", [0, 1, 7, 2**33])
def test_stream_state_is_numpys(seed, rep):
    streams = Streams(seed, rep)
    for name in ["a", "site.S1.visit_scatter", "stats.reservoir.patient_kit_wait", "lane.NA.transit_time"]:
        assert streams(name).bit_generator.state == _numpy_stream(seed, rep, name).bit_generator.state


def test_random_seeds_and_names_match_numpy():
    rng = np.random.default_rng(11)
    for i in range(200):
        seed, rep = int(rng.integers(0, 2**63)), int(rng.integers(0, 10_000))
        name = f"site.S{i}.stream{int(rng.integers(0, 10**6))}"
        assert Streams(seed, rep)(name).random(3).tolist() == _numpy_stream(seed, rep, name).random(3).tolist()


def test_other_state_requests_fall_back_to_numpy():
    """A bit generator asking for other words (not PCG64's four 64-bit ones) gets numpy's answer."""
    ss = np.random.SeedSequence(entropy=5, spawn_key=(1, 2, 3))
    seeded = _Seeded([0, 0, 0, 0], 5, (1, 2, 3))
    assert seeded.generate_state(8).tolist() == ss.generate_state(8).tolist()
    assert np.random.Philox(seeded).random_raw(4).tolist() == np.random.Philox(ss).random_raw(4).tolist()
