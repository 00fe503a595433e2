"""What an experiment will run: scenarios (points), seed, replications, stopping rule.

A :class:`Plan` is built entirely — every scenario validated, every override
applied — before any replication starts, so bad input fails fast.  Every point
shares the plan's seed: replication *r* of every scenario draws from the same
named streams (common random numbers), which is what makes paired comparisons
sharp.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from sim.experiments.sequential import SequentialRule
from sim.scenario import Scenario, dump_scenario

KINDS = ("run", "batch", "compare")


def scenario_hash(scenario: Scenario) -> str:
    """A fingerprint of the fully resolved scenario (to refuse resuming a changed batch)."""
    return hashlib.sha256(dump_scenario(scenario).encode("utf-8")).hexdigest()[:16]


def slug(text: str) -> str:
    """A folder-safe id."""
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", text).strip("._") or "scenario"


def unique_ids(names: list[str]) -> list[str]:
    """Folder-safe ids, suffixed ``-2``, ``-3`` ... where names repeat."""
    seen: dict[str, int] = {}
    out = []
    for n in map(slug, names):
        k = seen.get(n, 0) + 1
        seen[n] = k
        out.append(n if k == 1 else f"{n}-{k}")
    return out


@dataclass
class Point:
    """One scenario of an experiment."""

    id: str
    scenario: Scenario
    role: str = "scenario"                       # scenario | base | grid | ofat | lhs | sobol | a | b
    factors: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "role": self.role, "label": self.label or self.id,
                "factors": self.factors, "scenario": self.scenario.name, "hash": scenario_hash(self.scenario)}


@dataclass
class Plan:
    kind: str
    name: str
    points: list[Point]
    seed: int
    reps: int                                    # fixed count, or the first round when sequential
    sequential: SequentialRule | None = None
    detail: bool = True                          # keep per-period series and delay samples
    design: dict[str, Any] | None = None         # {"kind", "factors", "base"} of a sweep
    metrics: list[str] = field(default_factory=list)   # headline metrics; empty: chosen automatically
    source: str = ""

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind
        ids = [p.id for p in self.points]
        assert len(set(ids)) == len(ids), ids

    @property
    def single(self) -> bool:
        """A plain ``run``: the results folder is the scenario's own folder."""
        return self.kind == "run"

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "seed": self.seed, "replications": self.reps,
                "sequential": self.sequential.model_dump() if self.sequential else None,
                "detail": self.detail, "design": self.design, "metrics": self.metrics,
                "source": self.source, "points": [p.describe() for p in self.points]}
