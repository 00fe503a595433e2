"""The results folder: tidy CSV tables and metadata, each file written atomically.

Layout (one folder per run)::

    scenario.yaml     the resolved scenario, defaults filled in
    metadata.json     tool and package versions, seed, replications, timing
    metrics.csv       tidy: rep, metric, value  (one row per replication x metric)
    summary.csv       metric, n, mean, sd, ci_low, ci_high, half_width (95 % Student t)
    series.csv        tidy: rep, series, period_start, value (per-period throughput and levels)
    delays.csv        tidy: rep, delay, value (bounded sample of each delay, for distributions)
    accounting.csv    rep, material, entry, quantity (the conservation balance of each replication)
    figures/          PNG and SVG figures
"""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from sim.stats import Summary


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write *text* to *path* so that readers see the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([_fmt(v) for v in row])
    atomic_write_text(path, buf.getvalue())


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        return repr(float(v))  # round-trips exactly
    return v


def read_csv(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_json(path: str | Path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


SUMMARY_HEADER = ["metric", "n", "mean", "sd", "ci_low", "ci_high", "half_width"]


def summary_rows(summaries: Iterable[Summary]):
    for s in summaries:
        yield [s.metric, s.n, s.mean, s.sd, s.ci_low, s.ci_high, s.half_width]
