"""Scenario schema of treatment arms: randomisation weight and kits per visit, or weight-based dose levels,
optionally titrated (a patient's level changes at given visits, by a schedule or a transition matrix)."""
from __future__ import annotations

from typing import Annotated, Iterator

from pydantic import Field, model_validator

from sim.scenario.base import FieldError, Model, Name, NonNegFloat, PositiveFloat, Probability


class DoseLevel(Model):
    """A dose band of an arm (weight-based dosing): the share of the arm's patients in it and their kits."""

    name: Name
    share: NonNegFloat = Field(description="relative share of the arm's patients at randomisation (e.g. of a "
                                           "weight band); 0 for a level reached only by titration")
    kits: dict[Name, Annotated[int, Field(ge=0)]] = Field(description="kits per dosing visit by kit type")


class Titration(Model):
    """Dose changes during treatment: at each of ``at_visits`` (before its kits are dispensed) a
    patient's dose level changes, to the level ``schedule`` names for that visit or at random by
    ``transitions`` (a Markov chain over the arm's dose levels)."""

    at_visits: list[Annotated[int, Field(ge=2, le=100_000)]] = Field(
        default_factory=list, description="visit numbers (1 is the first dosing visit, repeats counted) at which "
        "the level may change by transitions; a schedule gives its own visits")
    transitions: dict[Name, dict[Name, Probability]] | None = Field(
        None, description="level -> {next level: probability}; what a row leaves out of 1 stays at the level "
        "(up-titration: {low: {mid: 0.6}, mid: {high: 0.3}})")
    schedule: dict[Annotated[int, Field(ge=2, le=100_000)], Name] | None = Field(
        None, description="visit number -> the level every patient of the arm moves to there (forced titration)")

    @model_validator(mode="after")
    def _one_rule(self):
        if (self.transitions is None) == (self.schedule is None):
            raise FieldError("transitions", "give transitions (with at_visits) or a schedule, exactly one")
        if self.transitions is not None:
            if not self.at_visits:
                raise FieldError("at_visits", "required with transitions (the visits where the level may change)")
            for a, row in self.transitions.items():
                if sum(row.values()) > 1 + 1e-9:
                    raise FieldError(f"transitions.{a}", f"expected probabilities summing to at most 1; got "
                                                         f"{sum(row.values()):g}")
        elif self.at_visits:
            raise FieldError("at_visits", "a schedule names its own visits: drop at_visits")
        return self

    def levels(self) -> set[str]:
        """Every level the rule names."""
        if self.schedule is not None:
            return set(self.schedule.values())
        return set(self.transitions) | {b for row in self.transitions.values() for b in row}

    def changes(self) -> list[int]:
        """Visit numbers at which the level may change, in order."""
        return sorted(self.schedule) if self.schedule is not None else sorted(set(self.at_visits))


class Arm(Model):
    """A treatment arm: its share of randomisation and the kits each dosing visit needs."""

    name: Name
    ratio: PositiveFloat = Field(1.0, description="randomisation weight: whole numbers (2:1) or fractions summing to 1")
    kits: dict[Name, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict, description="kits per dosing visit by kit type (blinded: no substitution)")
    dose_levels: list[DoseLevel] = Field(default_factory=list, description="weight-based dosing: each patient's "
                                         "level drawn at randomisation by share, its kits instead of kits")

    titration: Titration | None = Field(None, description="dose changes at given visits (needs dose_levels)")

    @model_validator(mode="after")
    def _kits_or_levels(self):
        if self.dose_levels and self.kits:
            raise FieldError("dose_levels", "give kits or dose_levels (each with its kits), not both")
        if self.dose_levels and sum(d.share for d in self.dose_levels) <= 0:
            raise FieldError("dose_levels", "expected some level with a share above 0 (where patients start)")
        if self.titration is not None:
            names = [d.name for d in self.dose_levels]
            if not names:
                raise FieldError("titration", "titration changes dose levels: give the arm dose_levels")
            unknown = sorted(self.titration.levels() - set(names))
            if unknown:
                raise FieldError("titration", f"unknown dose level(s) {unknown}; expected one of {names}")
        return self

    def level_shares(self, visits: int) -> Iterator[dict[str, float]]:
        """The expected share of the arm's patients at each dose level at visits 1..*visits*: the
        initial shares, moved by the titration rule at each of its visits (initial x P^k)."""
        total = sum(d.share for d in self.dose_levels)
        pi = {d.name: d.share / total for d in self.dose_levels}
        t = self.titration
        for v in range(1, visits + 1):
            if t is not None and t.schedule is not None and v in t.schedule:
                pi = {name: float(name == t.schedule[v]) for name in pi}
            elif t is not None and t.transitions is not None and v in t.at_visits:
                nxt = dict.fromkeys(pi, 0.0)
                for a, p in pi.items():
                    row = t.transitions.get(a, {})
                    nxt[a] += p * (1.0 - sum(row.values()))
                    for b, q in row.items():
                        nxt[b] += p * q
                pi = nxt
            yield pi

    def kit_mix(self, visits: int | None = None) -> dict[str, float]:
        """Expected kits per visit of a patient of this arm (dose levels weighted by share); with a
        titration, averaged over *visits* visits as the levels move."""
        if not self.dose_levels:
            return dict(self.kits)
        mix: dict[str, float] = {}
        if self.titration is None or not visits:
            total = sum(d.share for d in self.dose_levels)
            for d in self.dose_levels:
                for k, n in d.kits.items():
                    mix[k] = mix.get(k, 0.0) + n * d.share / total
            return mix
        shares = list(self.level_shares(visits))
        for pi in shares:
            for d in self.dose_levels:
                for k, n in d.kits.items():
                    mix[k] = mix.get(k, 0.0) + n * pi[d.name] / len(shares)
        return mix
