"""One browser tab's what-if: a base scenario, the user's edits, and what they make.

Edits are ``path -> value`` on the dumped scenario and go through the experiment API's own overrides
(:func:`sim.experiments.overrides.apply_overrides`), so the page validates exactly as ``--set`` does and
shows the schema's message beside the field it names.  No web framework here: unit-testable.
"""
from __future__ import annotations

import copy
import shlex
from dataclasses import dataclass, field
from typing import Any

import yaml

from sim.core.errors import ScenarioError
from sim.experiments.overrides import PathError, apply_overrides, get_path, set_path
from sim.explorer.fields import FieldSpec, field_specs
from sim.explorer.whatifs import TOUR, Tour
from sim.scenario import Scenario, dump_scenario

RUN_FIELDS = ("seed", "replications")
"""Set once for both runs (the same seed: common random numbers), not per scenario."""

DEFAULT_REPS = 20


@dataclass
class Check:
    """The edits validated: the scenario they make, or the problems, each by the field it names."""

    scenario: Scenario | None
    by_field: dict[str, list[str]] = field(default_factory=dict)
    other: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.scenario is not None


def _problem_path(problem: str) -> str:
    """``lines[0].qc_time.mean: expected ...`` -> ``lines[0].qc_time.mean``;
    ``lines[0].x=3: no field`` (an override's own problem) -> ``lines[0].x``."""
    head = problem.split(": ", 1)[0]
    return head.split("=", 1)[0].strip()


class Session:
    """The state of one tab: nothing in it is shared with another tab."""

    def __init__(self, base: Scenario, source: str, reps: int = DEFAULT_REPS, seed: int | None = None) -> None:
        self.base = base
        self.source = source                    # the file as the user gave it, or "default"
        self.base_data = base.model_dump()
        self.edits: dict[str, Any] = {}         # index-form path -> value, in the order made
        self.reps = reps
        self.seed = base.seed if seed is None else seed
        self._base_specs: list[FieldSpec] | None = None

    def base_specs(self) -> list[FieldSpec]:
        """Every field of the base scenario (walked once: the page asks often)."""
        if self._base_specs is None:
            self._base_specs = field_specs(self.base_data)
        return self._base_specs

    # -- the controls ------------------------------------------------------------------------
    def data(self) -> dict:
        """The dumped scenario with the edits applied (not validated: for showing the controls)."""
        data = copy.deepcopy(self.base_data)
        for path, value in self.edits.items():
            try:
                set_path(data, path, value)
            except PathError:
                pass
        return data

    def specs(self) -> list[FieldSpec]:
        """Every control, with the current (edited) values; seed and replications are run settings."""
        specs = field_specs(self.data()) if self.edits else self.base_specs()
        return [s for s in specs if s.path not in RUN_FIELDS]

    def base_value(self, path: str) -> Any:
        try:
            return get_path(self.base_data, path)
        except PathError:
            return None

    def set(self, path: str, value: Any) -> None:
        """Record an edit; setting a field back to its base value drops the edit."""
        for p in [p for p in self.edits if p.startswith(path + ".") or p.startswith(path + "[")]:
            del self.edits[p]  # a whole section set replaces earlier edits inside it
        self.edits.pop(path, None)
        if value != self.base_value(path):
            self.edits[path] = value

    def reset(self) -> None:
        self.edits.clear()

    def apply_tour(self, tour: Tour) -> None:
        """Start from the base scenario and make the tour's changes."""
        self.reset()
        by_set = {s.set_path: s.path for s in self.base_specs()}
        for set_path_, value in tour.assignments:
            self.set(by_set[set_path_], value)

    def tours(self) -> list[Tour]:
        """The tour items this scenario has every field for."""
        have = {s.set_path for s in self.base_specs()}
        return [t for t in TOUR if all(p in have for p, _ in t.assignments)]

    # -- validation and what it makes ------------------------------------------------------------
    def check(self) -> Check:
        try:
            return Check(apply_overrides(self.base, list(self.edits.items()), "your changes"))
        except ScenarioError as err:
            known = {s.path for s in field_specs(self.data())} | set(self.edits)
            out = Check(None)
            for problem in err.problems:
                where = _problem_path(problem)
                target = next((k for k in sorted(known, key=len, reverse=True)
                               if where == k or where.startswith(k + ".") or where.startswith(k + "[")), None)
                if target is None:
                    out.other.append(problem)
                else:
                    out.by_field.setdefault(target, []).append(problem.split(": ", 1)[-1])
            return out

    def run_scenario(self, scenario: Scenario) -> Scenario:
        """*scenario* as the run uses it: this session's seed and replications written in, so that the
        file alone reproduces the numbers."""
        return scenario.model_copy(update={"seed": self.seed, "replications": self.reps})

    def yaml_text(self, scenario: Scenario) -> str:
        """The modified scenario as a complete, valid file (``python run_sim.py run FILE`` reproduces the
        explorer's numbers: same seed, same replications)."""
        head = ["# Made by pharmasim explore from " + self.source]
        head += [f"#   {line}" for line in self.set_arguments()] or ["#   (no changes)"]
        head.append(f"# Reproduce: python run_sim.py run FILE  (seed {self.seed}, {self.reps} replications)")
        return "\n".join(head) + "\n" + dump_scenario(self.run_scenario(scenario))

    def set_arguments(self) -> list[str]:
        """The edits as ``--set PATH=VALUE`` arguments, paths by name (``lines.dp-batch.batch_size``)."""
        if not self.edits:
            return []
        names = {s.path: s.set_path for s in field_specs(self.data())}
        names.update({s.path: s.set_path for s in self.base_specs()})
        out = []
        for path, value in self.edits.items():
            text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()
            out.append(f"--set {shlex.quote(names.get(path, path) + '=' + text)}")
        return out

    def command(self) -> str:
        """The equivalent command line."""
        parts = ["python run_sim.py run"]
        if self.source != "default":
            parts.append(shlex.quote(self.source))
        parts += [f"--reps {self.reps}", f"--seed {self.seed}", *self.set_arguments()]
        return " ".join(parts)
