"""Mutated scenarios: every shipped scenario with one number set to an extreme (0, -1, 1e-9, 1e9, NaN,
inf, 1e±300, a string, null) is either rejected with a message (ScenarioError) or runs and passes the
conservation check — no traceback, no hang, no NaN in the ledger.  A quick pass runs with the suite;
``python -m pytest -m slow`` runs thousands."""
from __future__ import annotations

import copy
import random
import signal
from pathlib import Path

import pytest
import yaml

from sim.core.errors import ScenarioError
from sim.model import run_replication
from sim.scenario import default_text, parse_scenario, read_yaml

ROOT = Path(__file__).resolve().parents[1]
EXTREMES = [0, -1, 1e-9, 1e9, float("nan"), float("inf"), "x", None, 1e-300, 1e300]
SKIP = ("horizon", "seed", "replications", "warmup")  # the run's own size is cut below to keep it quick


def _bases() -> dict[str, dict]:
    bases = {"default": yaml.safe_load(default_text())}
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        bases[path.stem] = read_yaml(path)
    return bases


def _numbers(d, path=()):
    if isinstance(d, dict):
        for k, v in d.items():
            yield from _numbers(v, (*path, k))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            yield from _numbers(v, (*path, i))
    elif isinstance(d, (int, float)) and not isinstance(d, bool) and path[0] not in SKIP:
        yield path


class _Hang(Exception):
    pass


def _alarm(*_args):
    raise _Hang


def _mutants(seed: int, n: int):
    rng = random.Random(seed)
    bases = _bases()
    for _ in range(n):
        name = rng.choice(sorted(bases))
        d = copy.deepcopy(bases[name])
        d["horizon"] = min(d["horizon"], 300)
        d.pop("warmup", None)
        path = rng.choice(list(_numbers(d)))
        node = d
        for k in path[:-1]:
            node = node[k]
        value = rng.choice(EXTREMES)
        node[path[-1]] = value
        yield f"{name}: {'.'.join(map(str, path))} = {value!r}", d


def _check(cases, seconds: float = 15.0) -> list[str]:
    bad = []
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        for what, d in cases:
            signal.alarm(int(seconds))
            try:
                try:
                    sc = parse_scenario(d, what)
                except ScenarioError:
                    continue
                run_replication(sc, rep=0)  # checks conservation (NaN and inf included)
            except _Hang:
                bad.append(f"{what}: still running after {seconds:g} s")
            except Exception as err:  # noqa: BLE001 - any other exception is the finding
                bad.append(f"{what}: {type(err).__name__}: {str(err)[:200]}")
            finally:
                signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, old)
    return bad


def test_mutated_scenarios_are_rejected_cleanly_or_run_correctly():
    assert _check(_mutants(seed=2026, n=400)) == []


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10))
def test_many_mutated_scenarios(seed):
    assert _check(_mutants(seed=seed, n=300)) == []
