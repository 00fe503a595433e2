"""A patient waiting at a dispensing point for the kits of a visit, as timed calls.

The wait was a SimPy process's ``yield kits_came | env.timeout(window)``.  It is now timed calls
placed exactly where SimPy puts that process's events, so the order of events, and so the results
for a seed, stay the same:

- the kits are dispensed to the patient (the event succeeds): that event is processed after the
  calls already due at the instant (a hop);
- the window's timeout or that event is processed, whichever first: the condition succeeds, and the
  patient goes on when it is processed in its turn (a hop more): dosed if the kits came by then
  (even if the window closed at that very instant), otherwise not dosed;
- the second of the two finds the condition decided and does nothing.
"""
from __future__ import annotations

from typing import Callable

from sim.clinical.trial import Patient
from sim.core.context import Context


class KitWait:
    """One patient's wait for the kits of a visit (at most one per patient at a time)."""

    __slots__ = ("ctx", "p", "kits", "arrived", "served", "_decided", "_over", "then", "args")

    def __init__(self, ctx: Context, p: Patient, kits: dict[str, int], over: Callable[["KitWait"], None],
                 then: Callable[..., None], args: tuple) -> None:
        """*over(self)* is called when the wait is decided; *then(*args)* is what the patient does next."""
        self.ctx, self.p, self.kits, self.arrived = ctx, p, kits, ctx.now
        self.served = self._decided = False
        self._over, self.then, self.args = over, then, args

    def until(self, window: float) -> None:
        """The window closes *window* days from now (the process's ``env.timeout(window)``)."""
        self.ctx.after(window, self._check)

    def serve(self) -> None:
        """The kits have just been dispensed to the patient (the process's event succeeds)."""
        self.served = True
        self.ctx.after(0, self._check)

    def _check(self) -> None:
        """The kit event or the window's timeout is processed: SimPy's ``Condition._check``."""
        if not self._decided:
            self._decided = True
            self.ctx.after(0, self._over, self)
