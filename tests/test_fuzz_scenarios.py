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


def _nodes(d, path=()):
    """Every (path, value) below the top level."""
    if path:
        yield path, d
    if isinstance(d, dict):
        for k, v in d.items():
            yield from _nodes(v, (*path, k))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            yield from _nodes(v, (*path, i))


def _numbers(d):
    """Paths of every number (not a boolean) outside the skipped sections."""
    return (p for p, v in _nodes(d) if isinstance(v, (int, float)) and not isinstance(v, bool) and p[0] not in SKIP)


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


# -- structure, not only numbers: hypothesis drops keys, changes types, breaks and duplicates references

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_BASES = _bases()


def _mutate(d: dict, path: tuple, op: str, other):
    parent = d
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1]
    value = parent[key]
    if op == "drop":
        del parent[key]
    elif op == "retype":  # a mapping becomes a list, a list a mapping, a scalar a list or a string
        parent[key] = ([value] if not isinstance(value, list) else {"x": value}) if other else str(value) + "x"
    elif op == "rename" and isinstance(value, str):  # a reference to a name that does not exist
        parent[key] = value + "-renamed"
    elif op == "rename" and isinstance(parent, dict):  # a misspelt key
        parent[str(key) + "_"] = parent.pop(key)
    elif op == "duplicate" and isinstance(parent, list):  # a second entry with the same name
        parent.append(copy.deepcopy(value))
    elif op == "scale" and isinstance(value, (int, float)) and not isinstance(value, bool):
        parent[key] = value * other if other else other
    else:
        parent[key] = None


@st.composite
def _structural_mutants(draw):
    name = draw(st.sampled_from(sorted(_BASES)))
    d = copy.deepcopy(_BASES[name])
    d["horizon"] = min(d["horizon"], 300)
    d.pop("warmup", None)
    paths = [p for p, _ in _nodes(d) if p[0] not in SKIP]
    path = draw(st.sampled_from(paths))
    op = draw(st.sampled_from(["drop", "retype", "rename", "duplicate", "scale"]))
    other = draw(st.sampled_from([0, -1, 1e-9, 1e9, float("nan"), float("inf"), True]))
    _mutate(d, path, op, other)
    return f"{name}: {op} {'.'.join(map(str, path))} ({other!r})", d


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_structural_mutants())
def test_structurally_mutated_scenarios_are_rejected_cleanly_or_run_correctly(case):
    what, d = case
    try:
        parse_scenario(d, what)
    except ScenarioError as err:  # the message names the file it came from and a field
        text = str(err)
        assert text.startswith(what) and len(text.splitlines()) >= 2, text
        return
    assert _check([case]) == []


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_structural_mutants())
def test_many_structurally_mutated_scenarios(case):
    test_structurally_mutated_scenarios_are_rejected_cleanly_or_run_correctly.hypothesis.inner_test(case)
