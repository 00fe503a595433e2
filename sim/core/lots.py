"""Lots of material and the first-expiry-first-out stores that hold them.

A :class:`Lot` is the unit of genealogy: it carries an id, a quantity, the id of
the lot it was made or split from, and an expiry time.  A :class:`LotStore`
holds lots of one material at one place, issues them first-expiry-first-out
(splitting a lot when only part of it is taken) and lets processes wait until a
quantity is available.
"""
from __future__ import annotations

import math
from bisect import insort
from collections import deque
from operator import attrgetter
from typing import Callable

import simpy

from sim.core.node import Node


class Lot:
    """A quantity of one material with one history and one expiry date.

    ``made`` is the date of manufacture (GMP: the start of the batch that made it), which is what a
    drug product's shelf life counts from; it defaults to ``created`` and is kept when a lot is split,
    shipped or packed, so that time in QC, in queues and in bulk storage uses up shelf life; ``line``,
    the line that made it, is kept the same way (a shelf-life extension may cover some campaigns only),
    and so is ``label``, the label group a kit lot is labelled for (None: valid in every country).
    """

    __slots__ = ("id", "material", "qty", "parent", "expiry", "created", "made", "line", "label", "store", "_key")

    def __init__(self, id: str, material: str, qty: float, parent: str | None, expiry: float, created: float,
                 made: float | None = None, line: str | None = None, label: str | None = None) -> None:
        self.id = id
        self.material = material
        self.qty = qty
        self.parent = parent
        self.expiry = expiry
        self.created = created
        self.made = created if made is None else made
        self.line = line  # the line (campaign) that made the product, kept by kits packed from it
        self.label = label
        self.store: LotStore | None = None
        self._key = (expiry, id)

    def piece(self, id: str, qty: float, now: float, label: str | None = None) -> "Lot":
        """A part of this lot split off at *now* (its parent this lot): the same material, expiry, date of
        manufacture, line and label (or *label*, a group it is labelled for as it is split)."""
        return Lot(id, self.material, qty, self.id, self.expiry, now, self.made, self.line,
                   self.label if label is None else label)

    def __lt__(self, other: "Lot") -> bool:
        return self._key < other._key

    def __repr__(self) -> str:
        return f"Lot({self.id!r}, {self.material!r}, qty={self.qty:g}, parent={self.parent!r}, expiry={self.expiry:g})"


_fefo = attrgetter("_key")


class Changes:
    """How many times some stores changed (the kit stocks of one shelf share one): a reader that keeps
    a figure worked out from them knows it still holds while the count is the one it saw."""

    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


class LotStore(Node):
    """FEFO store of lots of one material.

    Every callable in ``watchers`` is called as ``watcher(t, qty_on_hand)`` after
    each change, so owners keep time-weighted statistics and review their
    replenishment policies without polling.
    ``get(qty)`` returns a SimPy event that fires, in request order, with the
    list of lots (split as needed) once *qty* is on hand.
    """

    def __init__(self, env: simpy.Environment, name: str, material: str,
                 watchers: list[Callable[[float, float], None]] | None = None, changes: Changes | None = None) -> None:
        self.env = env
        self.name = name
        self.material = material
        self.lots: list[Lot] = []
        self.qty = 0.0
        self._waiting: deque[tuple[float, simpy.Event]] = deque()
        self.watchers = list(watchers or [])
        self.changes = Changes() if changes is None else changes  # counted at every change, as watchers are called
        self._id_seq = 0
        self.issued: list[tuple[str, float]] | None = None  # (lot id, qty) consumed, when a genealogy asks

    # -- bookkeeping -------------------------------------------------------
    def _changed(self) -> None:
        self.changes.n += 1
        t, q = self.env._now, self.qty  # hot: skip SimPy's property
        for watch in self.watchers:
            watch(t, q)

    def put(self, lot: Lot) -> None:
        lot.store = self
        insort(self.lots, lot, key=_fefo)  # by (expiry, id), as Lot.__lt__, without a Python call per comparison
        self.qty += lot.qty
        if self._waiting:
            self._serve_waiting()
        self.changes.n += 1  # _changed(), inlined: every lot shelved
        t, q = self.env._now, self.qty
        for watch in self.watchers:
            watch(t, q)

    def remove(self, lot: Lot) -> float:
        """Take a whole lot out (expiry, recall); returns the quantity removed."""
        self.lots.remove(lot)
        lot.store = None
        self.qty -= lot.qty
        self._changed()
        return lot.qty

    def available(self, min_expiry: float = -math.inf) -> float:
        """Quantity in lots expiring at or after *min_expiry*."""
        # Lots are sorted by expiry, so the unusable ones are a (usually empty) prefix.
        qty = self.qty
        for lot in self.lots:
            if lot.expiry >= min_expiry:
                break
            qty -= lot.qty
        return qty

    def counted(self, min_expiry: float) -> tuple[float, float]:
        """:meth:`available` and the expiry of the first lot it counts (inf if none): the same lots
        count until *min_expiry* passes that expiry."""
        qty = self.qty
        for lot in self.lots:
            if lot.expiry >= min_expiry:
                return qty, lot.expiry
            qty -= lot.qty
        return qty, math.inf

    def take(self, qty: float, min_expiry: float = -math.inf) -> list[Lot]:
        """Issue up to *qty* FEFO from lots expiring at or after *min_expiry*, splitting the last lot."""
        out: list[Lot] = []
        self._issue(qty, min_expiry, out)
        return out

    def consume(self, qty: float, min_expiry: float = -math.inf) -> float:
        """Issue up to *qty* as :meth:`take` does, for material that leaves the system (dispensed kits):
        no lot objects for the pieces.  Returns the quantity issued.

        A dose usually takes part of the first lot, or all that is left of it: those cases are booked
        here, as :meth:`_issue` would book them."""
        lots = self.lots
        if lots and qty > 1e-9:
            lot = lots[0]
            if lot.expiry >= min_expiry:
                if lot.qty > qty + 1e-9:
                    self._id_seq += 1  # as _issue numbers a split
                    lot.qty -= qty
                elif lot.qty == qty:  # the whole lot (_issue's need ends at exactly 0)
                    lots.pop(0)
                    lot.store = None
                else:
                    return self._issue(qty, min_expiry, None)
                self.qty -= qty
                if self.issued is not None:
                    self.issued.append((lot.id, qty))
                self.changes.n += 1  # _changed(), inlined on the hot path (every dose)
                t, q = self.env._now, self.qty
                for watch in self.watchers:
                    watch(t, q)
                return qty
        return self._issue(qty, min_expiry, None)

    def _issue(self, qty: float, min_expiry: float, out: list[Lot] | None,
               accept: Callable[[Lot], bool] | None = None) -> float:
        """Issue up to *qty* FEFO from the lots expiring at or after *min_expiry* (and admitted by
        *accept*, if given), splitting the last: the lots and pieces go to *out*, or, for material
        that leaves the system (*out* None), only to the genealogy when one is kept."""
        need = qty
        i = 0
        lots = self.lots
        while need > 1e-9 and i < len(lots):
            lot = lots[i]
            if lot.expiry < min_expiry or (accept is not None and not accept(lot)):
                i += 1
                continue
            if lot.qty <= need + 1e-9:
                lots.pop(i)
                lot.store = None
                need -= lot.qty
                if out is not None:
                    out.append(lot)
                elif self.issued is not None:
                    self.issued.append((lot.id, lot.qty))
            else:
                self._id_seq += 1  # numbered even when consumed, so later pieces keep their ids
                if out is not None:
                    out.append(lot.piece(f"{lot.id}.{self._id_seq}", need, self.env._now))
                elif self.issued is not None:
                    self.issued.append((lot.id, need))
                lot.qty -= need
                need = 0.0
        taken = qty - need
        if taken:
            self.qty -= taken
            self._changed()
        return taken

    def take_where(self, qty: float, min_expiry: float, accept: Callable[[Lot], bool]) -> list[Lot]:
        """Issue up to *qty* FEFO as :meth:`take` does, from the lots *accept* admits only (the kits of
        some label groups, say): the others are passed over as if they had expired."""
        out: list[Lot] = []
        self._issue(qty, min_expiry, out, accept)
        return out

    def available_where(self, min_expiry: float, accept: Callable[[Lot], bool]) -> float:
        """Quantity in the lots *accept* admits that expire at or after *min_expiry*."""
        return sum(lot.qty for lot in self.lots if lot.expiry >= min_expiry and accept(lot))

    def holdings(self):
        """What this store holds, for the conservation check."""
        yield self.material, "on_hand", sum(l.qty for l in self.lots)

    @property
    def backordered(self) -> float:
        """Quantity requested by processes still waiting for it."""
        return sum(q for q, _ in self._waiting)

    # -- blocking issue ----------------------------------------------------
    def get(self, qty: float) -> simpy.Event:
        ev = self.env.event()
        self._waiting.append((qty, ev))
        self._serve_waiting()
        return ev

    def _serve_waiting(self) -> None:
        while self._waiting and self._waiting[0][0] <= self.qty + 1e-9:
            qty, ev = self._waiting.popleft()
            ev.succeed(self.take(qty))
