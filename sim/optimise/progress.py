"""What a running optimisation tells whoever started it (the explorer, a notebook): candidates
evaluated, replications spent, the best so far with its CI; and how it is stopped.

The optimiser calls ``progress(Progress)`` after every candidate of the search and every stage of the
selection, and asks ``cancel()`` at the same points; a cancelled optimisation raises
:class:`OptimisationCancelled` and leaves its journal, so ``resume`` continues it re-running nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

ProgressCallback = Callable[["Progress"], None]
CancelCheck = Callable[[], bool]


class OptimisationCancelled(Exception):
    """The optimisation was stopped by its ``cancel`` check; what ran is kept in the journal."""


@dataclass(frozen=True)
class Progress:
    """A snapshot: *phase* is ``search``, ``selection`` or ``done``; *candidates* every candidate so far
    (objective as minimised: see :meth:`objective`); *best* the current choice (feasible first, then by
    objective; in the selection, the best survivor)."""

    phase: str
    evaluated: int                    # candidates evaluated by the search
    planned: int                      # candidates the search is to evaluate
    replications: int                 # replications run by this optimisation (journal hits not counted)
    candidates: list[Any]
    best: Any | None
    sense: str = "minimise"
    in_contention: int = 0            # selection: candidates not yet eliminated
    stage_reps: int = 0               # selection: replications each survivor has
    cap: int = 0                      # selection: most replications a finalist may get

    @property
    def fraction(self) -> float:
        """Rough share done, for a progress bar: the search is the first half, the selection (up to
        its replication cap) the second."""
        if self.phase == "done":
            return 1.0
        search = self.evaluated / max(1, self.planned)
        if self.phase == "search":
            return 0.5 * search
        return 0.5 + 0.5 * min(1.0, self.stage_reps / max(1, self.cap))

    def objective(self, candidate) -> tuple[float, float, float]:
        """A candidate's objective mean and 95 % CI in the file's own sense (maximised ones positive)."""
        o = candidate.objective
        sign = -1 if self.sense == "maximise" else 1
        lo, hi = sorted((sign * o.ci_low, sign * o.ci_high))
        return sign * o.mean, lo, hi
