"""What every runtime component of the chain (a *node*) offers the model.

A node is built from the resolved scenario without scheduling anything; the
model then calls :meth:`Node.start` on every node in one documented order
(:meth:`sim.model.SupplyChainModel.start`), so which of two simultaneous events
comes first never depends on the order objects happened to be built in.  At the
end of a run the model walks the same nodes twice: :meth:`holdings` for the
conservation check and :meth:`metrics` for the results.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from sim.core._compiled import mypyc_attr

Holding = tuple[str, str, float]  # (material, state, quantity)


@mypyc_attr(allow_interpreted_subclasses=True)  # most nodes are not compiled (sim.core._compiled)
class Node:
    """Base of runtime components: nothing to start, hold or report unless overridden."""

    def start(self) -> None:
        """Schedule this node's processes and initial actions (called once, at time 0)."""

    def holdings(self) -> Iterable[Holding]:
        """Material (and patients, visits) this node holds now, by state."""
        return ()

    def metrics(self, t_end: float) -> Mapping[str, float]:
        """This node's scalar metrics at the end of the run; every name is in :mod:`sim.metrics`."""
        return {}
