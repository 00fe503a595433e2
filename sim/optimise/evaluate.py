"""Replications of candidate configurations, with common random numbers and a cache.

Every candidate runs replication *r* from the same seed, so differences between candidates are not
drowned by noise they share.  Results are cached by (candidate, replication) and appended to a journal
in the output folder, so an interrupted optimisation resumes without re-running anything: the search
sampler, seeded, proposes the same candidates again and finds them done.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from sim.experiments.backends import Backend, Task
from sim.experiments.overrides import apply_overrides
from sim.scenario import Scenario


def key_of(values: dict[str, Any]) -> str:
    """A candidate's identity: its variables' values, in a canonical text."""
    return json.dumps(values, sort_keys=True, default=str)


class Evaluator:
    """Runs and remembers replications of candidates of *base* (only the *metrics* kept)."""

    def __init__(self, base: Scenario, seed: int, backend: Backend, metrics: Iterable[str],
                 journal: Path | None = None) -> None:
        self.base = base
        self.seed = seed
        self.backend = backend
        self.metrics = sorted(set(metrics))
        self.cache: dict[str, dict[int, dict[str, float]]] = {}
        self.scenarios: dict[str, Scenario] = {}
        self.ran = 0
        self.journal = journal
        if journal is not None and journal.is_file():
            for line in journal.read_text(encoding="utf-8").splitlines():
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue  # a line torn by an interruption: that replication runs again
                self.cache.setdefault(rec["candidate"], {})[rec["rep"]] = rec["metrics"]

    def scenario(self, values: dict[str, Any]) -> Scenario:
        k = key_of(values)
        if k not in self.scenarios:
            self.scenarios[k] = apply_overrides(self.base, list(values.items()), f"candidate {k}")
        return self.scenarios[k]

    def run(self, wanted: list[tuple[dict[str, Any], int]]) -> None:
        """Run the (candidate, replication) pairs not cached yet, all at once on the backend."""
        tasks, seen = [], set()
        for values, rep in wanted:
            k = key_of(values)
            if rep in self.cache.get(k, {}) or (k, rep) in seen:
                continue
            seen.add((k, rep))
            tasks.append(Task(k, self.scenario(values), self.seed, rep))
        if not tasks:
            return
        lines = []
        for outcome in self.backend.run(tasks, None, False):
            if outcome.failure is not None:
                f = outcome.failure
                raise RuntimeError(f"candidate {f.point}, replication {f.rep}: {f.error_type}: {f.message}")
            m = {name: float(outcome.result.metrics.get(name, float("nan"))) for name in self.metrics}
            self.cache.setdefault(outcome.point, {})[outcome.rep] = m
            lines.append(json.dumps({"candidate": outcome.point, "rep": outcome.rep, "metrics": m}))
            self.ran += 1
        if self.journal is not None and lines:
            with open(self.journal, "a", encoding="utf-8") as fh:  # a journal: a torn last line is re-run
                fh.write("\n".join(lines) + "\n")

    def results(self, values: dict[str, Any], reps: Iterable[int]) -> list[dict[str, float]]:
        self.run([(values, r) for r in reps])
        got = self.cache[key_of(values)]
        return [got[r] for r in reps]
