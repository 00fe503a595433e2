"""The optimisation file: decision variables (field paths with bounds), an objective and chance or mean
constraints on metrics, validated like a scenario."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from sim.core.errors import ScenarioError
from sim.scenario.base import FieldError, Model, Name, PositiveFloat, Share


class Variable(Model):
    """A decision variable: a scenario field (a ``--set`` path) and the values it may take."""

    path: str = Field(min_length=1, description="field path, as --set takes it (e.g. materials.m.policy.level)")
    type: Literal["integer", "continuous", "categorical"] = "integer"
    low: float | None = None
    high: float | None = None
    choices: list[Any] | None = Field(None, description="values of a categorical variable (any YAML value)")

    @model_validator(mode="after")
    def _domain(self):
        if self.type == "categorical":
            if not self.choices:
                raise FieldError("choices", "a categorical variable needs choices")
        elif self.low is None or self.high is None or self.low > self.high:
            raise FieldError("low", "expected low <= high for an integer or continuous variable")
        return self


class Objective(Model):
    """What to minimise (or maximise): a metric's mean, or a weighted sum of metrics (costs)."""

    metric: str | None = None
    weights: dict[str, float] | None = Field(None, description="metric -> weight: minimise the weighted sum")
    sense: Literal["minimise", "maximise"] = "minimise"

    @model_validator(mode="after")
    def _one(self):
        if (self.metric is None) == (self.weights is None):
            raise FieldError("metric", "expected exactly one of metric, weights")
        return self

    def value(self, metrics: dict[str, float]) -> float:
        """This replication's objective, as a quantity to minimise."""
        v = metrics[self.metric] if self.metric is not None else sum(w * metrics[m] for m, w in self.weights.items())
        return -v if self.sense == "maximise" else v


class Constraint(Model):
    """A metric's mean must stay within bounds; for a 0/1 metric (``risk.*``) that is a chance constraint
    (the probability that, e.g., any patient misses a dose)."""

    metric: str
    max: float | None = None
    min: float | None = None

    @model_validator(mode="after")
    def _bound(self):
        if self.max is None and self.min is None:
            raise FieldError("max", "expected max or min")
        return self

    def covers(self, s) -> bool:
        """Whether the 95 % CI of the summary *s* contains a bound (feasibility not yet settled)."""
        return any(b is not None and s.ci_low <= b <= s.ci_high for b in (self.min, self.max))

    def violation(self, mean: float) -> float:
        """How far *mean* is outside the bounds (0 inside)."""
        over = mean - self.max if self.max is not None else 0.0
        under = self.min - mean if self.min is not None else 0.0
        return max(0.0, over, under)


class Search(Model):
    candidates: int = Field(20, ge=1, le=10_000, description="candidates the search evaluates")
    reps: int = Field(5, ge=2, le=10_000, description="replications per candidate in the search")


class SelectionSpec(Model):
    top: int = Field(4, ge=1, le=100, description="best feasible candidates ranked and selected among")
    indifference: PositiveFloat = Field(description="objective difference worth detecting (delta)")
    confidence: Share = Field(0.95, description="probability of correct selection (1 - alpha)")
    first_reps: int = Field(10, ge=2, le=10_000, description="replications of each candidate before elimination")
    max_reps: int = Field(200, ge=2, le=100_000, description="cap on replications per candidate")


class OptimisationFile(Model):
    name: Name = "optimisation"
    scenario: str = Field("default", description="scenario file (relative to this file) or 'default'")
    set: dict[str, Any] = Field(default_factory=dict, description="overrides applied to the scenario first")
    variables: list[Variable] = Field(min_length=1)
    objective: Objective
    constraints: list[Constraint] = Field(default_factory=list)
    search: Search = Search()
    selection: SelectionSpec
    seed: int = Field(1, ge=0, description="the seed of the search and of every replication (common random numbers)")


def load_optimisation(path: str | Path) -> OptimisationFile:
    """Read and validate an optimisation file; a problem names the file and the field path."""
    from sim.scenario import read_yaml
    return parse_optimisation(read_yaml(path), str(path))


def parse_optimisation(data: Any, source: str = "<optimisation>") -> OptimisationFile:
    """Validate an optimisation file's content (a dict, e.g. built by the explorer); a problem names
    *source* and the field path."""
    from sim.scenario import format_errors, top_level_problem
    if isinstance(data, OptimisationFile):
        return data
    if not isinstance(data, dict):
        raise ScenarioError(source, [top_level_problem(data, "optimisation")])
    try:
        return OptimisationFile.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(source, format_errors(err)) from None
