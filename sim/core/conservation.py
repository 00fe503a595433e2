"""Conservation of material and patients.

Every process records flows into a :class:`Ledger` as they happen (material
ordered, produced, consumed, dispensed, expired, rejected ...).  At the end of
a run :func:`check` compares, for each material, what came in minus what went
out with what the components actually hold — counted from their stores,
shipments and work in progress, not from the ledger.  A mismatch is a bug and
raises :class:`~sim.core.errors.ConservationError`.
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Iterable, Protocol

from sim.core.errors import ConservationError
from sim.core.node import Holding


class Holder(Protocol):
    def holdings(self) -> Iterable[Holding]: ...


class Ledger:
    """Cumulative flows per (material, reason); inflows positive, outflows negative."""

    def __init__(self) -> None:
        self.inflows: dict[tuple[str, str], float] = defaultdict(float)
        self.outflows: dict[tuple[str, str], float] = defaultdict(float)

    def inflow(self, material: str, reason: str, qty: float) -> None:
        self.inflows[material, reason] += qty

    def outflow(self, material: str, reason: str, qty: float) -> None:
        self.outflows[material, reason] += qty


def account(ledger: Ledger, holders: Iterable[Holder]) -> dict[str, dict[str, float]]:
    """Per material: every inflow, outflow and holding state, for reports and the check."""
    table: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for (m, r), q in ledger.inflows.items():
        table[m][f"in:{r}"] += q
    for (m, r), q in ledger.outflows.items():
        table[m][f"out:{r}"] += q
    for h in holders:
        for m, state, q in h.holdings():
            table[m][f"held:{state}"] += q
    return {m: dict(v) for m, v in table.items()}


def check(ledger: Ledger, holders: Iterable[Holder], tol: float = 1e-6) -> dict[str, dict[str, float]]:
    """Raise :class:`ConservationError` unless in − out = held for every material (NaN or inf anywhere
    is a violation too)."""
    table = account(ledger, holders)
    problems = []
    for m, row in sorted(table.items()):
        bad = sorted(k for k, v in row.items() if not math.isfinite(v))
        if bad:  # NaN passes every comparison, so it is refused before any
            problems.append(f"{m}: not a finite quantity in {', '.join(bad)} ({row})")
            continue
        ins = sum(v for k, v in row.items() if k.startswith("in:"))
        outs = sum(v for k, v in row.items() if k.startswith("out:"))
        held = sum(v for k, v in row.items() if k.startswith("held:"))
        if any(v < -tol for k, v in row.items() if k.startswith("held:")):
            problems.append(f"{m}: negative holding {row}")
        if abs(ins - outs - held) > tol * max(1.0, ins):
            problems.append(f"{m}: in {ins:g} - out {outs:g} = {ins - outs:g} but {held:g} held ({row})")
    if problems:
        raise ConservationError("conservation violated:\n  " + "\n  ".join(problems))
    return table
