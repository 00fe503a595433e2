"""``pharmasim optimise``: search the decision variables with Optuna (TPE, constraints handled by its
constrained sampler), then choose among the best feasible candidates with Kim and Nelson's procedure
(:mod:`.selection`), every replication under common random numbers, and write the answer.

Output folder: ``candidates.csv`` (every candidate with its objective and constraint means and 95 %
CIs), ``selection.csv`` (the candidates still in contention after each stage), ``best.yaml`` (the chosen
configuration as a ready scenario file), ``optimisation.json`` (what was asked, the answer, the
guarantee, replications spent), ``tradeoff.png``, and ``evaluations.jsonl`` (the journal that makes
``--resume`` re-run nothing).
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.core.errors import ScenarioError
from sim.core.stats import summarize
from sim.experiments.folder import default_out
from sim.experiments.tables import atomic_write_text, write_csv
from sim.optimise.evaluate import Evaluator, key_of
from sim.optimise.progress import CancelCheck, OptimisationCancelled, Progress, ProgressCallback
from sim.optimise.selection import Selection, kn_select
from sim.optimise.spec import OptimisationFile, Variable, load_optimisation


@dataclass
class Candidate:
    values: dict[str, Any]
    objective: Any          # Summary of the objective (as minimised)
    constraints: list[Any]  # Summary per constraint metric
    violation: float

    @property
    def feasible(self) -> bool:
        return self.violation == 0.0


@dataclass
class OptimisationResult:
    best: dict[str, Any]
    candidates: list[Candidate]
    selection: Selection
    out: Path
    replications: int
    guarantee: str
    finalists: list[dict[str, Any]]


def _suggest(trial, v: Variable):
    if v.type == "integer":
        return trial.suggest_int(v.path, int(v.low), int(v.high))
    if v.type == "continuous":
        return trial.suggest_float(v.path, v.low, v.high)
    return v.choices[trial.suggest_categorical(v.path, list(range(len(v.choices))))]


def base_scenario(spec: OptimisationFile, folder: Path, source: str, scenario=None):
    """The scenario the variables are set on: *scenario* if given (a :class:`Scenario`), else the file's
    own (relative to *folder*, or the default), with the file's ``set`` overrides applied."""
    from sim.experiments.overrides import apply_overrides
    from sim.scenario import load_default, load_scenario
    sc = scenario if scenario is not None else \
        load_default() if spec.scenario == "default" else load_scenario(folder / spec.scenario)
    return apply_overrides(sc, list(spec.set.items()), f"{source}: set") if spec.set else sc


def _check_variables(spec: OptimisationFile, base, source: str) -> None:
    """Each variable's bounds make a valid scenario (checked before any replication runs)."""
    from sim.experiments.overrides import apply_overrides
    for i, v in enumerate(spec.variables):
        for value in (v.choices if v.type == "categorical" else
                      [int(v.low), int(v.high)] if v.type == "integer" else [v.low, v.high]):
            try:
                apply_overrides(base, [(v.path, value)], f"{source}: variables[{i}]")
            except ScenarioError as err:
                raise ScenarioError(source, [f"variables[{i}] ({v.path} = {value!r}): {p}" for p in err.problems]) \
                    from None


def _summarise(spec: OptimisationFile, values: dict, rows: list[dict[str, float]]) -> Candidate:
    obj = summarize("objective", [spec.objective.value(m) for m in rows])
    cons = [summarize(c.metric, [m[c.metric] for m in rows]) for c in spec.constraints]
    return Candidate(values, obj, cons, sum(c.violation(s.mean) for c, s in zip(spec.constraints, cons)))


ASKS_PER_CANDIDATE = 20
"""How many proposals the search may make per distinct candidate: proposals of a configuration already
evaluated are told its result again (free), so ``search.candidates`` counts distinct configurations."""


def _space_size(spec: OptimisationFile) -> float:
    """Distinct configurations the variables allow (inf with a continuous one)."""
    n = 1
    for v in spec.variables:
        if v.type == "continuous":
            return math.inf
        n *= len(v.choices) if v.type == "categorical" else int(v.high) - int(v.low) + 1
    return n


def _settle_feasibility(spec: OptimisationFile, ev: Evaluator, found: dict[str, Candidate], reps: int,
                        cap: float) -> None:
    """Give more replications (up to *reps*, within *cap*) to each candidate whose feasibility the search's
    few replications leave open (a constraint's 95 % CI covers its bound) and that could be a finalist (its
    objective beats the best feasible one's), then judge it again on the means.  Without this a
    constraint met by a small margin, e.g. a fill rate of 0.917 against 0.9, is often judged broken on 4
    replications, and the true optimum never reaches the selection."""
    feasible = [c.objective.mean for c in found.values() if c.feasible]
    bar = min(feasible) if feasible else math.inf
    open_ = [(k, c) for k, c in found.items() if c.objective.mean <= bar and c.objective.n < reps
             and any(b.covers(s) for b, s in zip(spec.constraints, c.constraints))]
    if not open_ or ev.ran + sum(reps - c.objective.n for _, c in open_) > cap:
        return
    ev.run([(c.values, r) for _, c in open_ for r in range(c.objective.n, reps)])
    for k, c in open_:
        found[k] = _summarise(spec, c.values, ev.results(c.values, range(reps)))


def _ranked(cands) -> list[Candidate]:
    return sorted(cands, key=lambda c: (c.violation, c.objective.mean))


def optimise(path: str | Path, out: str | Path | None = None, workers: int | None = None,
             budget: int | None = None, resume: bool = False, *, backend=None, figures: bool = True,
             progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> OptimisationResult:
    """Run the optimisation file at *path*; see the module docstring for what is written and
    :func:`optimise_spec` for *backend*, *progress* and *cancel*."""
    path = Path(path)
    spec = load_optimisation(path)
    return optimise_spec(spec, base_scenario(spec, path.parent, str(path)), str(path), out, workers, budget, resume,
                         backend=backend, figures=figures, progress=progress, cancel=cancel)


def optimise_spec(spec: OptimisationFile, base, source: str, out: str | Path | None = None,
                  workers: int | None = None, budget: int | None = None, resume: bool = False, *,
                  backend=None, figures: bool = True, progress: ProgressCallback | None = None,
                  cancel: CancelCheck | None = None) -> OptimisationResult:
    """Optimise *spec*'s variables on the scenario *base* (*source* names them in messages).  *backend*:
    run the replications there (kept open; default: ``workers`` local processes, closed at the end);
    *figures*: draw ``tradeoff.png``.
    *progress* gets a :class:`~sim.optimise.progress.Progress` after every candidate and selection
    stage; *cancel*, asked at the same points, stops the run with :class:`OptimisationCancelled` when it
    returns true (the journal keeps what ran: ``resume`` continues)."""
    import optuna
    from sim.experiments.backends import make_backend
    _check_variables(spec, base, source)
    out = Path(out) if out is not None else default_out(spec.name)
    if out.exists() and any(out.iterdir()) and not resume:
        raise ScenarioError(str(out), ["folder is not empty; give --resume to continue it, or another --out"])
    out.mkdir(parents=True, exist_ok=True)
    names = ([spec.objective.metric] if spec.objective.metric else list(spec.objective.weights)) + \
        [c.metric for c in spec.constraints]
    search, sel = spec.search, spec.selection
    cap = budget if budget is not None else math.inf
    t0 = time.perf_counter()
    own = backend is None
    backend = make_backend(workers) if own else backend
    found: dict[str, Candidate] = {}

    def check() -> None:  # before each candidate and selection stage
        if cancel is not None and cancel():
            raise OptimisationCancelled(f"{spec.name}: cancelled after {ev.ran} replications")

    def tell(phase: str, best: Candidate | None, **kw) -> None:
        if progress is not None:
            progress(Progress(phase, len(found), search.candidates, ev.ran, _ranked(found.values()), best,
                              spec.objective.sense, **kw))
    try:
        ev = Evaluator(base, spec.seed, backend, names, out / "evaluations.jsonl")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.TPESampler(seed=spec.seed)  # feasibility through Trial.set_constraint
        study = optuna.create_study(direction="minimize", sampler=sampler)
        tell("search", None)
        distinct = min(search.candidates, _space_size(spec))
        for _ in range(distinct * ASKS_PER_CANDIDATE):
            if len(found) >= distinct or ev.ran + search.reps + sel.top * sel.first_reps > cap:
                break
            check()
            trial = study.ask()
            values = {v.path: _suggest(trial, v) for v in spec.variables}
            k = key_of(values)
            new = k not in found  # a repeat is told its known result again and costs nothing
            if new:
                found[k] = _summarise(spec, values, ev.results(values, range(search.reps)))
            trial.set_constraint("violation", found[k].violation)  # <= 0: feasible
            study.tell(trial, found[k].objective.mean)
            if new:
                tell("search", _ranked(found.values())[0])
        check()
        _settle_feasibility(spec, ev, found, max(sel.first_reps, search.reps), cap - sel.top * sel.first_reps)
        ranked = _ranked(found.values())  # finalists: the best feasible ones (KN compares objectives only)
        top = [c for c in ranked if c.feasible][:sel.top] or ranked[:1]
        rows = lambda i, r: spec.objective.value(ev.results(top[i].values, [r])[0])  # noqa: E731
        per_candidate_cap = max(sel.first_reps, min(sel.max_reps, int((cap - ev.ran) / max(1, len(top)))
                                                    if cap < math.inf else sel.max_reps))

        def stage(pairs: list[tuple[int, int]]) -> None:  # KN's next replications: report, then run them
            alive = sorted({i for i, _ in pairs})
            r = min((r for _, r in pairs), default=0)
            for i in alive:  # the survivors' summaries over the replications they have so far
                k = key_of(top[i].values)
                done = ev.cache.get(k, {})
                found[k] = _summarise(spec, top[i].values, [done[j] for j in sorted(done)]) if done else found[k]
            tell("selection", _ranked(found[key_of(top[i].values)] for i in alive)[0], in_contention=len(alive),
                 stage_reps=r, cap=per_candidate_cap)
            check()
            ev.run([(top[i].values, r) for i, r in pairs])
        selection = kn_select(rows, len(top), sel.indifference, 1 - sel.confidence, sel.first_reps,
                              per_candidate_cap, prefetch=stage)
        for c in top:  # every replication each finalist got, summarised again
            n = selection.replications.get(top.index(c), 0)
            found[key_of(c.values)] = _summarise(spec, c.values, ev.results(c.values, range(max(n, search.reps))))
    finally:
        if own:
            backend.close()
    best = found[key_of(top[selection.best].values)]
    feasible = "feasible " if top[0].feasible else ""
    guarantee = (f"Kim-Nelson fully sequential selection among the {len(top)} best {feasible}candidates of the "
                 f"search, with common random numbers: if the best of them is at least {sel.indifference:g} better "
                 f"in the objective than every other, it is the one chosen with probability >= {sel.confidence:g} "
                 f"(normal outputs)" + ("; stopped at the replication cap, so the guarantee does not hold"
                                         if selection.stopped_by_cap else "") +
                 ". Constraints are judged on the means (a candidate whose constraint CI covered its bound after the "
                 f"search got {max(sel.first_reps, search.reps)} replications first); see candidates.csv for their CIs.")
    _write(out, spec, base, list(found.values()), best, top, selection, ev.ran, guarantee, time.perf_counter() - t0,
           figures)
    tell("done", best, in_contention=1, cap=per_candidate_cap)
    return OptimisationResult(best.values, list(found.values()), selection, out, ev.ran, guarantee,
                              [c.values for c in top])


def _write(out: Path, spec, base, cands: list[Candidate], best: Candidate, top: list[Candidate],
           selection: Selection, spent: int, guarantee: str, seconds: float, figures: bool = True) -> None:
    from sim.optimise.report import tradeoff_figure, write_best
    paths = [v.path for v in spec.variables]
    header = [*paths, "n", "objective_mean", "objective_ci_low", "objective_ci_high"]
    for c in spec.constraints:
        header += [f"{c.metric}.mean", f"{c.metric}.ci_low", f"{c.metric}.ci_high"]
    header += ["violation", "feasible", "finalist", "chosen"]
    sign = -1 if spec.objective.sense == "maximise" else 1
    finalists = {key_of(c.values) for c in top}

    def row(c: Candidate):
        o = c.objective
        lo, hi = sorted((sign * o.ci_low, sign * o.ci_high))
        cells = [c.values[p] for p in paths] + [o.n, sign * o.mean, lo, hi]
        for s in c.constraints:
            cells += [s.mean, s.ci_low, s.ci_high]
        return cells + [c.violation, c.feasible, key_of(c.values) in finalists, c is best]

    write_csv(out / "candidates.csv", header, (row(c) for c in _ranked(cands)))
    write_csv(out / "selection.csv", ["stage", "in_contention"],
              ([i, ";".join(key_of(top[j].values) for j in alive)] for i, alive in enumerate(selection.stages)))
    write_best(out / "best.yaml", base, best.values, spec)
    atomic_write_text(out / "optimisation.json", json.dumps({
        "name": spec.name, "seed": spec.seed, "best": best.values, "objective_mean": sign * best.objective.mean,
        "objective_ci": sorted((sign * best.objective.ci_low, sign * best.objective.ci_high)),
        "constraints": {s.metric: {"mean": s.mean, "ci": [s.ci_low, s.ci_high]} for s in best.constraints},
        "feasible": best.feasible, "guarantee": guarantee, "replications": spent,
        "replications_per_finalist": {key_of(top[i].values): n for i, n in selection.replications.items()},
        "wall_seconds": round(seconds, 2), "spec": spec.model_dump(mode="json")}, indent=2, default=float) + "\n")
    if figures:
        tradeoff_figure(out, spec, cands, best)
