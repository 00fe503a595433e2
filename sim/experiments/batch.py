"""Batch files: scenarios and/or a sweep over field paths, turned into a :class:`Plan`.

Example (paths are relative to the batch file; ``default`` is the embedded scenario)::

    name: qc-sweep
    base: default
    set: {horizon: 730}                 # applied to every scenario of the batch
    replications: 20
    seed: 7                             # one seed for all: common random numbers
    scenarios:                          # optional fixed scenarios
      - {file: other.yaml, name: other, set: {replications: 5}}
    sweep:                              # optional design around `base`
      design: grid                      # grid | ofat | lhs | sobol
      factors:
        trials.P3-001.resupply.trigger: [1, 2, 3]          # levels (grid, ofat)
        lines.dp-batch.qc_failure_prob: {low: 0, high: 0.2} # range (lhs, sobol; ofat: two levels)
      points: 16                        # lhs / sobol
    sequential: {metrics: [dosed_fraction], relative: 0.02, max_reps: 200}
    metrics: [dosed_fraction]            # headline metrics for figures and the printout
    detail: false                       # keep per-period series and delay samples (large)
"""
from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Annotated, Any, Iterable, Literal, Union

from pydantic import Discriminator, Field, Tag, ValidationError, model_validator

from sim.core.errors import ScenarioError
from sim.experiments import designs
from sim.experiments.overrides import PathError, apply_overrides, get_path
from sim.experiments.plan import Plan, Point, unique_ids
from sim.experiments.sequential import SequentialRule
from sim.scenario import Scenario, format_errors, load_default, load_scenario, read_yaml, top_level_problem
from sim.scenario.base import FieldError, Model, Name
from sim.scenario.resolve import experiment_seed

DEFAULT = "default"
MAX_PROBLEMS = 20


MAX_POINTS = 100_000
"""The most scenarios a design may have (each is a scenario object in memory before anything runs)."""


class BatchFileError(ScenarioError):
    """A batch file is wrong: names the file and each problem's field path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        if len(problems) > MAX_PROBLEMS:
            problems = problems[:MAX_PROBLEMS] + [f"... and {len(problems) - MAX_PROBLEMS} more"]
        super().__init__(source, problems)
        lines = [f"{source}: invalid batch file ({len(problems)} problem{'s' if len(problems) != 1 else ''})"]
        self.args = ("\n".join(lines + [f"  - {p}" for p in problems]),)

    def __str__(self) -> str:
        return self.args[0]


class FactorRange(Model):
    """An interval to sample (lhs, sobol); ofat uses its two ends."""

    low: float
    high: float
    integer: bool | None = Field(None, description="whole numbers only (default: if the base value is one)")

    @model_validator(mode="after")
    def _ordered(self):
        if not self.high > self.low:
            raise FieldError("high", f"expected more than low ({self.low:g}); got {self.high:g}")
        return self


def _levels_or_range(v: Any) -> str | None:
    return "<levels>" if isinstance(v, list) else "<range>" if isinstance(v, dict) else None


Factor = Annotated[Union[Annotated[list[Any], Tag("<levels>")], Annotated[FactorRange, Tag("<range>")]],
                   Discriminator(_levels_or_range, custom_error_type="factor_spec",
                                 custom_error_message="a list of levels [a, b, ...] or a range {low: .., high: ..}")]
"""A swept factor: levels, or a range; a mapping is only ever checked as a range (one error, not two)."""


class Sweep(Model):
    design: Literal["grid", "ofat", "lhs", "sobol"]
    factors: dict[str, Factor] = Field(min_length=1)
    points: int | None = Field(None, ge=1, le=MAX_POINTS, description="design points (lhs, sobol)")
    seed: int | None = Field(None, ge=0, description="design seed (default: the batch seed)")

    @model_validator(mode="after")
    def _fits_design(self):
        for path, spec in self.factors.items():
            if self.design == "grid" and not isinstance(spec, list):
                raise FieldError(f"factors.{path}", "a grid needs a list of levels")
            if self.design in ("lhs", "sobol") and not isinstance(spec, FactorRange):
                raise FieldError(f"factors.{path}", f"{self.design} needs a range {{low: .., high: ..}}")
            if isinstance(spec, list) and not spec:
                raise FieldError(f"factors.{path}", "give at least one level")
        if self.design == "grid":
            n = math.prod(len(spec) for spec in self.factors.values() if isinstance(spec, list))
            if n > MAX_POINTS:
                raise FieldError("factors", f"a grid of {n:,} points (the product of the levels); "
                                            f"at most {MAX_POINTS:,}: use fewer levels, or lhs / sobol")
        if self.design in ("lhs", "sobol") and self.points is None:
            raise FieldError("points", f"required: {self.design} needs the number of design points")
        if self.design == "sobol" and self.points & (self.points - 1):
            raise FieldError("points", f"Sobol' designs need a power of 2 points; got {self.points} "
                             f"(try {1 << (self.points.bit_length() - 1)} or {1 << self.points.bit_length()})")
        if self.design in ("grid", "ofat") and self.points is not None:
            raise FieldError("points", f"not used by a {self.design} design (its levels set the points)")
        return self


class ScenarioEntry(Model):
    file: str = Field(description="scenario file (relative to the batch file) or 'default'")
    name: Name | None = Field(None, description="label in the results (default: the scenario's name)")
    set: dict[str, Any] = Field(default_factory=dict, description="overrides for this scenario")


class BatchFile(Model):
    name: Name | None = None
    description: str = ""
    base: str = Field(DEFAULT, description="the scenario a sweep moves around")
    set: dict[str, Any] = Field(default_factory=dict, description="overrides applied to every scenario")
    scenarios: list[ScenarioEntry] = Field(default_factory=list)
    sweep: Sweep | None = None
    replications: int | None = Field(None, ge=1, description="per scenario (default: the base scenario's)")
    seed: int | None = Field(None, ge=0, description="one seed for every scenario (default: the base's)")
    sequential: SequentialRule | None = None
    detail: bool = False
    metrics: list[str] = Field(default_factory=list)


def _load(ref: str, batch_path: Path, field: str) -> Scenario:
    """The scenario *ref* names (relative to the batch file); a file that is not there is a
    problem of the batch file's *field*, a file that is there but wrong one of that file."""
    if ref == DEFAULT:
        return load_default()
    path = Path(ref)
    path = path if path.is_absolute() else batch_path.parent / path
    if not path.is_file():
        raise BatchFileError(str(batch_path), [f"{field}: no scenario file {str(path)!r} (paths are relative to "
                                               f"the batch file; {DEFAULT!r} is the embedded scenario)"])
    return load_scenario(path)


def load_batch(path: str | Path, extra_set: Iterable[tuple[str, Any]] = (), reps: int | None = None,
               seed: int | None = None) -> Plan:
    """Read, validate and expand a batch file; every problem is raised before any work."""
    path = Path(path)
    return batch_plan(read_yaml(path), path, extra_set, reps, seed)


def batch_plan(data: Any, path: Path, extra_set: Iterable[tuple[str, Any]] = (), reps: int | None = None,
               seed: int | None = None) -> Plan:
    """A batch given as data (a parsed batch file); *path* names it in messages and anchors its
    relative scenario paths."""
    if not isinstance(data, dict):
        raise BatchFileError(str(path), [top_level_problem(data, "batch")])
    try:
        spec = BatchFile.model_validate(data)
    except ValidationError as err:
        raise BatchFileError(str(path), format_errors(err)) from None
    return expand(spec, path, list(extra_set), reps, seed)


def expand(spec: BatchFile, path: Path, extra_set: list[tuple[str, Any]], reps: int | None,
           seed: int | None) -> Plan:
    common = [*spec.set.items(), *extra_set]
    base = apply_overrides(_load(spec.base, path, "base"), common, f"{path}: base {spec.base} with set")
    points: list[Point] = []
    for i, entry in enumerate(spec.scenarios):
        sc = apply_overrides(_load(entry.file, path, f"scenarios[{i}].file"), [*common, *entry.set.items()],
                             f"{path}: scenarios[{i}] ({entry.file}) with set")
        points.append(Point(entry.name or sc.name, sc, "scenario"))
    design = None
    plan_seed = experiment_seed(base, seed if seed is not None else spec.seed)
    if spec.sweep is not None:
        sweep_seed = spec.sweep.seed if spec.sweep.seed is not None else plan_seed
        design_points, base_values = _design(spec.sweep, base, path, sweep_seed)
        points += _sweep_points(design_points, base, path)
        design = {"kind": spec.sweep.design, "factors": list(spec.sweep.factors),
                  "base_values": base_values, "seed": sweep_seed}
    elif not points:
        points.append(Point(base.name, base, "scenario"))
    for p, pid in zip(points, unique_ids([p.id for p in points])):
        p.id = pid
    if design is not None:
        design["base"] = next((p.id for p in points if p.role == "base"), None)
    return Plan("batch", spec.name or path.stem, points,
                seed=plan_seed,
                reps=reps or spec.replications or base.replications, sequential=spec.sequential,
                detail=spec.detail, design=design, metrics=spec.metrics, source=str(path))


def _design(sweep: Sweep, base: Scenario, path: Path,
            seed: int) -> tuple[list[designs.DesignPoint], dict[str, Any]]:
    """The design's points, and the base scenario's value of each factor."""
    dumped = base.model_dump()
    base_values, problems = {}, []
    for p in sweep.factors:
        try:
            base_values[p] = copy.deepcopy(get_path(dumped, p))
        except PathError as err:
            problems.append(f"sweep.factors.{p}: {err}")
    if problems:
        raise BatchFileError(str(path), problems)
    if sweep.design == "grid":
        return designs.full_grid(sweep.factors), base_values
    if sweep.design == "ofat":
        levels = {p: ([s.low, s.high] if isinstance(s, FactorRange) else s) for p, s in sweep.factors.items()}
        return designs.one_at_a_time(levels, base_values), base_values
    ranges = {}
    for p, s in sweep.factors.items():
        base_is_int = isinstance(base_values[p], int) and not isinstance(base_values[p], bool)
        if not isinstance(base_values[p], (int, float)) or isinstance(base_values[p], bool):
            problems.append(f"sweep.factors.{p}: a range needs a numeric field; the base value is "
                            f"{base_values[p]!r}")
        ranges[p] = designs.Range(s.low, s.high, s.integer if s.integer is not None else base_is_int)
    if problems:
        raise BatchFileError(str(path), problems)
    make = designs.latin_hypercube if sweep.design == "lhs" else designs.sobol
    return make(ranges, sweep.points, seed), base_values


def _sweep_points(design_points: list[designs.DesignPoint], base: Scenario, path: Path) -> list[Point]:
    out, problems = [], []
    for d in design_points:
        try:
            sc = apply_overrides(base, d.factors, f"sweep point {d.id}")
        except ScenarioError as err:
            problems += [f"sweep point {d.id} ({d.label}): {p}" for p in err.problems]
            continue
        out.append(Point(d.id, sc, d.role, dict(d.factors), d.label))
    if problems:
        raise BatchFileError(str(path), problems)
    return out
