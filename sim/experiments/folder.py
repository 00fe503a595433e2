"""Whose folder is it?  A results folder is the tool's only if it carries the tool's marker.

The marker (``.pharmasim.json``) names the experiment (a unique id), says whether it is still
``running`` or ``complete``, and lists what the tool wrote at the top of the folder.  A run writes
into a folder only if it is new or empty, or holds an earlier experiment of ours *and* the user said
what to do with it: ``--resume`` (continue it) or ``--overwrite`` (replace it, deleting only what the
marker lists).  A lock (``.pharmasim.lock``, an OS file lock held for the whole run) stops a second
run into the same folder at once.  So a results folder never loses a file the tool did not write,
and the tables of an unfinished experiment are never taken for finished ones.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from sim.experiments.tables import write_json

MARKER = ".pharmasim.json"
LOCK = ".pharmasim.lock"
OWN = ("plan.json", "metadata.json", "scenario.yaml", "metrics", "series", "delays", "metrics.parquet",
       "metrics.csv", "summary.csv", "series.csv", "delays.csv",
       "accounting.csv", "timeline.csv", "failures.csv", "sequential.csv", "scenarios.csv", "design.csv",
       "comparison.csv", "reps", "scenarios", "figures", "figures.yaml", "report.html", "kpis.md", "kpis.tex",
       "trace")
"""Names the tool writes at the top of a results folder (the most a marker may list)."""


PLAN = "plan.json"


def read_plan(root: str | Path) -> dict[str, Any] | None:
    """The stored plan of a results folder (None for folders written before plans existed).  Here, not
    in :mod:`sim.experiments.store`, so that reading a folder (``plot``) imports no model or schema."""
    path = Path(root) / PLAN
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


class StoreError(ValueError):
    """The results folder cannot take this experiment (not ours, in use, or a different experiment)."""


def read_marker(root: str | Path) -> dict[str, Any] | None:
    """The marker of a results folder, or None if the tool did not write one there."""
    path = Path(root) / MARKER
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and marker.get("tool") == "pharmasim" else None


class ResultsFolder:
    """Admission, lock and marker of the folder one experiment writes into."""

    def __init__(self, root: str | Path, resume: bool = False, overwrite: bool = False,
                 check_resume=None) -> None:
        """*check_resume*, called before anything is written when an experiment is resumed, raises
        :class:`StoreError` if the stored experiment is not the one asked for."""
        self.root = root = Path(root)
        marker = read_marker(root)
        legacy = marker is None and (root / "plan.json").is_file() and (root / "reps").is_dir()
        entries = [p.name for p in root.iterdir() if p.name not in (MARKER, LOCK)] if root.is_dir() else []
        ours = marker is not None or legacy
        if root.exists() and not root.is_dir():
            raise StoreError(f"{root}: not a folder; choose another --out")
        if resume and not ours and entries:
            raise StoreError(f"{root}: nothing to resume (not a results folder of this tool); choose another --out")
        if not resume and ours and not overwrite:
            state = marker.get("state", "unknown") if marker else "written by an earlier version"
            raise StoreError(f"{root}: holds an earlier experiment ({state}); add --resume to continue it, "
                             "--overwrite to replace it, or choose another --out")
        if not ours and entries:
            raise StoreError(f"{root}: not empty and not a results folder of this tool ({len(entries)} entries, "
                             f"e.g. {sorted(entries)[0]!r}); choose a new or empty --out")
        self.resumed = resume and ours
        if self.resumed and check_resume is not None:
            check_resume()
        root.mkdir(parents=True, exist_ok=True)
        self._lock()
        if ours and not resume:
            self._clear()
        self.marker = {"tool": "pharmasim", "id": (marker or {}).get("id") if self.resumed else None,
                       "state": "running", "written": []}
        self.marker["id"] = self.marker["id"] or uuid.uuid4().hex
        self._save()

    def _lock(self) -> None:
        import fcntl
        self._fh = open(self.root / LOCK, "a+", encoding="utf-8")
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._fh.seek(0)
            holder = self._fh.read().strip() or "another process"
            self._fh.close()
            raise StoreError(f"{self.root}: in use by another run (pid {holder}); wait for it or choose "
                             "another --out") from None
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(str(os.getpid()))
        self._fh.flush()

    def _clear(self) -> None:
        """Remove what an earlier experiment of ours wrote here (the names of :data:`OWN`), and nothing else."""
        for name in OWN:
            path = self.root / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)

    def _save(self) -> None:
        self.marker["written"] = sorted(n for n in OWN if (self.root / n).exists())
        write_json(self.root / MARKER, self.marker)

    def complete(self) -> None:
        """Every table is written: the experiment is finished."""
        self.marker["state"] = "complete"
        self._save()

    def close(self) -> None:
        """Release the lock (the process's exit would too)."""
        fh = getattr(self, "_fh", None)
        if fh is not None and not fh.closed:
            (self.root / LOCK).unlink(missing_ok=True)
            fh.close()


def default_out(name: str) -> Path:
    """``results/<name>-<time>``: where an experiment goes when no folder is named."""
    return Path("results") / f"{name}-{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"

