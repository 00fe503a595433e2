"""CPU seconds of drawing a run folder's figures in one process, after the imports and the series are
loaded (what a figure worker does once the replications are stored).

    python bench/bench_figures.py RESULTS_DIR            # each figure's CPU seconds and their total
    python bench/bench_figures.py RESULTS_DIR --no-draw  # imports and series only (the N = 0 of a
                                                         # callgrind difference)

Under ``valgrind --tool=callgrind`` the difference of the two gives the drawing's instructions, steady
on a shared machine where times are not.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib.pyplot  # noqa: F401 - imported before the clock starts, as in a worker

import sim.figures.clinical  # noqa: F401
import sim.figures.gantt  # noqa: F401
import sim.figures.results  # noqa: F401
from sim.figures import folder
from sim.figures.provenance import folder_provenance
from sim.figures.style import FigureStyle


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results_dir", type=Path, help="a run's results folder (its figures are redrawn there)")
    ap.add_argument("--no-draw", action="store_true", help="stop after the imports and the series")
    args = ap.parse_args()
    style = FigureStyle().with_provenance(folder_provenance(args.results_dir))
    folder._series(args.results_dir)
    if args.no_draw:
        return
    total = 0.0
    for kind in folder.RUN_FIGURES:
        t = time.process_time()
        folder.draw_figure(args.results_dir, kind, style)
        total += time.process_time() - t
        print(f"{kind:<12} {time.process_time() - t:6.3f} s")
    print(f"{'total':<12} {total:6.3f} s")


if __name__ == "__main__":
    main()
