"""Titration at run time: a patient's dose level changes at given visits, so the kits dispensed change
over the visit schedule.

Each titrated arm's rule (:class:`~sim.scenario.arms.Titration`) is applied before the kits of a
visit are dispensed: the level the schedule names, or the next level drawn from the transition row of
the patient's current level (one uniform draw per change visit, from the trial's own stream).  The
dispensing point's count of the kits the patient's remaining visits need moves with the level, and
every forecast of the resupply policies reads the patient's current level: sites are resupplied for
the patients at each level as they are now, not as they were randomised.
"""
from __future__ import annotations

from sim.core.context import Context


class Titrator:
    """The titration rules of one trial's arms, applied to its patients visit by visit."""

    def __init__(self, ctx: Context, trial: str, arms: list, specs: list) -> None:
        """*arms*: the trial's runtime arms (each with its dose levels); *specs*: their schema arms."""
        self._rng = ctx.rng(f"trial.{trial}.titration")
        self.rules: dict[str, tuple] = {}  # arm name -> (changes, schedule, rows, levels by name)
        for arm, spec in zip(arms, specs):
            t = spec.titration
            if t is None:
                continue
            levels = {lv.level: lv for _, lv in arm.levels}
            rows = {a: [(q, levels[b]) for b, q in row.items() if q > 0] for a, row in (t.transitions or {}).items()}
            schedule = {v: levels[name] for v, name in (t.schedule or {}).items()}
            self.rules[arm.name] = (set(t.changes()), schedule, rows, levels)
        self.changes = 0  # level changes so far
        self.at_visit: dict[tuple[int, str, str], int] = {}  # (visit number, arm, level) -> patients dosed at it

    def step(self, p, i: int, point) -> None:
        """Before visit index *i* of patient *p* at *point*: apply the rule of its arm (if any)."""
        rule = self.rules.get(p.arm.name)
        if rule is None:
            return
        changes, schedule, rows, _ = rule
        v = i + 1
        if v in changes:
            new = schedule.get(v) if schedule else self._draw(rows.get(p.arm.level, ()))
            if new is not None and new is not p.arm:
                self._move(p, new, len(p.due) - i, point)
        key = (v, p.arm.name, p.arm.level)
        self.at_visit[key] = self.at_visit.get(key, 0) + 1

    def _draw(self, row: list):
        """The next level from a transition row (None: stay)."""
        u = self._rng.random()
        for q, lv in row:
            if u < q:
                return lv
            u -= q
        return None

    def _move(self, p, new, left: int, point) -> None:
        """*p* moves to level *new* with *left* visits to go: the point's count of kits needed follows."""
        remaining = point.remaining
        for k, n in p.arm.kits.items():
            remaining[k] -= n * left
        for k, n in new.kits.items():
            remaining[k] = remaining.get(k, 0.0) + n * left
        p.arm = new
        self.changes += 1
