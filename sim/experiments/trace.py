"""The lot genealogy of one replication of a results folder (``run --trace``, ``pharmasim trace``).

The traced replication is run again in this process from the folder's own scenario and seed, with
the genealogy recorded (:mod:`sim.core.genealogy`); its metrics must equal the stored ones — the
same replication, only watched — and then ``trace/lots.csv`` and ``trace/doses.csv`` are written.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from sim.core.genealogy import DOSE_COLUMNS, LOT_COLUMNS, Link, downstream, upstream
from sim.experiments.columnar import read_metrics, stored_reps
from sim.experiments.tables import ResultsFolderError, read_csv, write_csv

FOLDER = "trace"


def write_trace(folder: str | Path, rep: int | None = None) -> list[Path]:
    """Trace replication *rep* (default: the first stored) of the run in *folder*; returns the tables."""
    from sim.model import run_replication
    from sim.scenario import load_scenario
    folder = Path(folder)
    reps = stored_reps(folder) if (folder / "reps").is_dir() else []
    if not reps or not (folder / "scenario.yaml").is_file():
        raise ResultsFolderError(f"{folder}: no stored replication to trace (give the folder of a finished run)")
    rep = reps[0] if rep is None else rep
    if rep not in reps:
        raise ResultsFolderError(f"{folder}: replication {rep} is not stored (stored: {reps[0]}..{reps[-1]})")
    seed = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))["seed"]
    res = run_replication(load_scenario(folder / "scenario.yaml"), seed, rep, trace=True)
    stored = read_metrics(folder, rep)
    differ = [k for k, v in stored.items() if not (res.metrics.get(k) == v or (math.isnan(v) and math.isnan(
        res.metrics.get(k, math.nan))))]
    if differ:
        raise RuntimeError(f"the traced replication {rep} does not reproduce the stored one ({differ[:3]}): a bug")
    g = res.genealogy
    out = folder / FOLDER
    out.mkdir(exist_ok=True)
    write_csv(out / "lots.csv", ["rep", *LOT_COLUMNS], ([rep, *row] for row in g.lots))
    write_csv(out / "doses.csv", ["rep", *DOSE_COLUMNS], ([rep, *row] for row in g.doses))
    return [out / "lots.csv", out / "doses.csv"]


class Trace:
    """A folder's genealogy tables, read for walking up (what a dose came from) and down (where a lot
    went)."""

    def __init__(self, folder: str | Path) -> None:
        folder = Path(folder) / FOLDER
        if not (folder / "lots.csv").is_file():
            raise ResultsFolderError(f"{folder.parent}: no lot genealogy; run with --trace, or "
                                     f"`pharmasim trace {folder.parent} --record` first")
        self.lots = {r["lot"]: r for r in read_csv(folder / "lots.csv")}
        self.doses = read_csv(folder / "doses.csv")

    def patient(self, pid: str) -> list[dict]:
        return [d for d in self.doses if d["patient"] == pid]

    def up(self, lot: str) -> list[Link]:
        return upstream(lot, self.lots)

    def down(self, lot: str) -> tuple[set[str], list[dict]]:
        """The lots descending from *lot* and the doses given from them."""
        lots = downstream(lot, self.lots, (d["lot"] for d in self.doses))
        return lots, [d for d in self.doses if d["lot"] in lots]

    def known(self, key: str) -> bool:
        return key in self.lots or any(d["lot"] == key for d in self.doses) or bool(self.up(key)[1:])
