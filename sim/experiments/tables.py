"""The results folder: tidy tables and metadata, each file written atomically.

Layout (one folder per run)::

    scenario.yaml     the resolved scenario, defaults filled in
    metadata.json     tool and package versions, seed, replications, timing
    metrics/          Parquet dataset, tidy: rep, metric, value (one file per replication)
    summary.csv       metric, n, mean, sd, ci_low, ci_high, half_width, interval (95 %; the method per metric)
    series/           Parquet dataset: rep, series, period_start, value (per-period throughput and levels)
    delays/           Parquet dataset: rep, delay, value (bounded sample of each delay, for distributions)
    reps/             one JSON record per replication (seed, events, accounting, timeline)
    accounting.csv    rep, material, entry, quantity (the conservation balance of each replication)
    timeline.csv      rep, line, cdmo, start, end, kind, label: what each line did when, for the
                      first stored replication only (the data of the Gantt chart)
    figures/          PNG and SVG figures
"""
from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from sim.core.timeline import TimelineRow
from sim.core.stats import Summary, share_of_runs, summarize, within_range


class ResultsFolderError(ValueError):
    """A folder without the tables figures are drawn from (not a results folder, or an unfinished run)."""


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write *data* to *path* so that readers see the old file or the new one, never half."""
    with _AtomicFile(path, binary=True) as fh:
        fh.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write *text* to *path* so that readers see the old file or the new one, never half."""
    with _AtomicFile(path) as fh:
        fh.write(text)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()
"""Permissions of the files written: what ``open()`` would give (mkstemp's own are owner-only)."""


class _AtomicFile:
    """A temporary file beside *path*, fsynced and renamed over it on success,
    removed on failure: a crash never leaves a half-written file behind."""

    def __init__(self, path: str | Path, binary: bool = False) -> None:
        self.path = Path(path)
        self.binary = binary

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        os.fchmod(fd, _MODE)
        self.fh = (os.fdopen(fd, "wb") if self.binary
                   else os.fdopen(fd, "w", encoding="utf-8", newline=""))
        return self.fh

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.fh.flush()
                os.fsync(self.fh.fileno())
            self.fh.close()
            if exc_type is None:
                os.replace(self.tmp, self.path)
        finally:
            Path(self.tmp).unlink(missing_ok=True)  # already renamed on success


class CsvTable:
    """A CSV file written row by row (memory flat in its length) and atomically:
    ``with CsvTable(path, header) as t: t.row([...])``."""

    def __init__(self, path: str | Path, header: Sequence[str]) -> None:
        self._file = _AtomicFile(path)
        self.header = header

    def __enter__(self) -> "CsvTable":
        self._writer = csv.writer(self._file.__enter__(), lineterminator="\n")
        self._writer.writerow(self.header)
        return self

    def row(self, values: Sequence) -> None:
        self._writer.writerow([_fmt(v) for v in values])

    def __exit__(self, exc_type, exc, tb) -> None:
        self._file.__exit__(exc_type, exc, tb)


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    with CsvTable(path, header) as table:
        for row in rows:
            table.row(row)


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        return repr(float(v))  # round-trips exactly
    return v


def read_csv(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_json(path: str | Path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


SUMMARY_HEADER = ["metric", "n", "mean", "sd", "ci_low", "ci_high", "half_width", "interval"]
TIMELINE_HEADER = ["rep", *TimelineRow._fields]


def summary_rows(summaries: Iterable[Summary]):
    for s in summaries:
        yield [s.metric, s.n, s.mean, s.sd, s.ci_low, s.ci_high, s.half_width, s.interval]


NOT_REACHED = ".not_reached"


def summarize_metrics(rows: Sequence[dict[str, float]]) -> list[Summary]:
    """Across-replication summaries of every metric in *rows* (one dict per replication);
    a metric a replication lacks counts as missing (NaN), not as zero (see :func:`summarize_columns`)."""
    names = sorted({k for r in rows for k in r})
    values = np.array([[r.get(n, np.nan) for n in names] for r in rows], dtype=float).reshape(len(rows), len(names))
    return summarize_columns(names, values)


def summarize_columns(names: Sequence[str], values: np.ndarray) -> list[Summary]:
    """Across-replication summaries of metrics *names* (sorted), given as a (replications x metrics)
    array with NaN where a replication lacks a metric.

    A milestone (a day, catalogue unit ``day``) that some replications did not reach before the
    horizon is censored: the mean of the others would be biased low, so its mean and CI are left
    out (NaN, ``n`` = replications that reached it) and ``<milestone>.not_reached`` gives the share
    of replications that did not."""
    from sim.metrics import lookup
    out = []
    for j, n in enumerate(names):
        column = values[:, j]
        entry = lookup(n)
        s = summarize_metric(n, column, entry.interval if entry is not None else "Student t")
        if entry is not None and entry.unit == "day" and 0 < s.n < len(column):
            out.append(Summary(n, s.n, np.nan, np.nan, np.nan, np.nan))
            out.append(share_of_runs(n + NOT_REACHED, np.isnan(column).astype(float)))
        else:
            out.append(s)
    return out


def summarize_metric(name: str, values: np.ndarray, interval: str) -> Summary:
    """One metric's summary with the interval its catalogue entry names (``Metric.interval``)."""
    if interval == "Wilson score":
        return share_of_runs(name, values)
    s = summarize(name, values)
    if interval == "Student t within [0, 1]":
        return within_range(s, 0.0, 1.0)
    return within_range(s, 0.0) if interval == "Student t, at least 0" else s


HEADLINE = ("dosed_fraction", "total.patients.not_dosed", "risk.missed_dispensing", "risk.out_of_stock",
            "dosed_on_day_fraction", "total.visits.not_dosed", "total.packaged.kits",
            "total.dispensed.kits", "total.expired.", "trial.", "delay.", "utilisation.", "inventory.depot.")


def headline_metrics(names: Iterable[str]) -> list[str]:
    """The metrics worth showing first, in a fixed order: service, volumes, expiry,
    trial milestones, mean delays, utilisation, depot stock (all are in the tables)."""
    names = sorted(set(names))
    chosen: list[str] = []
    for key in HEADLINE:
        for n in names:
            if (n == key or (key.endswith(".") and n.startswith(key))) and n not in chosen:
                if n.startswith("delay.") and not n.endswith(".mean"):
                    continue
                chosen.append(n)
    return chosen
