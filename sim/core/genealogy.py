"""Lot genealogy: which raw-material deliveries, API lots, drug-product batches and kit lots every
patient dose came from — the traceability serialisation promises, recorded for one replication.

Recording is off unless a run asks for it (``--trace``): :class:`Genealogy` then notes each lot where
it is made (a delivery, a released batch, a packed kit lot, initial stock, a relabelled lot) and each
dose's kit lot; a lot split off another (``KIT-12.7`` from ``KIT-12``) is not noted, its parent is
its id without the last ``.N``.  A batch's parent is the ``+``-joined ids of the lots it consumed; a
delivery's is ``PO:<supplier>``.  Nothing here draws a random number, so a traced replication gives
the same results as an untraced one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

LOT_COLUMNS = ("lot", "material", "qty", "parents", "place", "line", "cdmo", "made", "created", "expiry")
DOSE_COLUMNS = ("patient", "day", "point", "material", "lot", "qty")


class Genealogy:
    """The lots made and the doses given in one replication (rows ready for a table)."""

    __slots__ = ("lots", "doses", "_cdmo")

    def __init__(self, cdmo_of_line: Mapping[str, str] | None = None) -> None:
        self.lots: list[tuple] = []
        self.doses: list[tuple] = []
        self._cdmo = dict(cdmo_of_line or {})

    def made(self, lot, place: str) -> None:
        """*lot* was made at *place* now (its ``created`` time)."""
        self.lots.append((lot.id, lot.material, lot.qty, lot.parent or "", place, lot.line or "",
                          self._cdmo.get(lot.line or "", ""), lot.made, lot.created, lot.expiry))

    def dosed(self, patient: str, day: float, point: str, material: str, issued: list[tuple[str, float]]) -> None:
        """*patient* got the kits *issued* (``(lot id, qty)``, first expiry first) at *point*."""
        for lot, qty in issued:
            self.doses.append((patient, day, point, material, lot, qty))
        issued.clear()


@dataclass(frozen=True)
class Link:
    """One step of a chain: a lot and what it was made from."""

    lot: str
    depth: int
    row: dict | None       # the lot's row, or None for a piece split off its parent


def parents(lot: str, rows: Mapping[str, dict]) -> list[str]:
    """What *lot* was made or split from."""
    row = rows.get(lot)
    if row is None:  # a piece: <parent>.<n>
        head, dot, tail = lot.rpartition(".")
        return [head] if dot and tail.isdigit() else []
    text = row.get("parents") or ""
    if not text or text.startswith("PO:") or text == "none":
        return []
    return text.split("+")


def upstream(lot: str, rows: Mapping[str, dict]) -> list[Link]:
    """*lot* and everything it came from, depth first (a kit piece, its kit lot, the batch packed into
    it, the API lots that batch consumed, down to the supplier deliveries)."""
    out: list[Link] = []
    stack = [(lot, 0)]
    seen: set[str] = set()
    while stack:
        cur, depth = stack.pop()
        if cur in seen:
            continue
        seen.add(cur)
        out.append(Link(cur, depth, rows.get(cur)))
        stack.extend((p, depth + 1) for p in reversed(parents(cur, rows)))
    return out


def downstream(lot: str, rows: Mapping[str, dict], dose_lots: Iterable[str]) -> set[str]:
    """Every lot (recorded, or a piece split off one) that descends from *lot*, *lot* included."""
    children: dict[str, set[str]] = {}
    todo = [*rows, *dose_lots]
    while todo:
        child = todo.pop()
        for p in parents(child, rows):
            if child not in children.setdefault(p, set()):
                children[p].add(child)
                if p not in rows:  # a piece: link it to what it was split from in turn
                    todo.append(p)
    out, stack = set(), [lot]
    while stack:
        cur = stack.pop()
        if cur not in out:
            out.add(cur)
            stack.extend(children.get(cur, ()))
    return out
