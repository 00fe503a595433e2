"""Finished runs kept on disk between explorer sessions, so a second ``explore`` shows its baseline
(and any what-if asked before) at page load instead of after ~20 replications.

An entry is served only when its key matches exactly: the canonical resolved scenario (its YAML dump),
the seed, the number of replications and the simulator's code (version and a hash of every source
file under ``sim/``) — the same key gives the same numbers, so nothing stale is ever shown.  An entry
is written to a temporary folder and renamed into place (readers never see half of one); one that
cannot be read, or whose stored key differs from its name's, is ignored and rewritten by the next
run.  The oldest entries beyond :data:`KEEP` are removed.

Where: ``--cache-dir DIR``, else ``$PHARMASIM_CACHE_DIR``, else the user's cache folder
(``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on
Windows) ``/pharmasim/explorer``.  ``--no-cache`` turns it off.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from sim import __version__
from sim.scenario import Scenario, dump_scenario

ENV = "PHARMASIM_CACHE_DIR"
KEEP = 24
"""Entries kept, the least recently used dropped first (a 20-replication default run is ~1.8 MB)."""
FORMAT = 1
ENTRY = "entry.json"
RESULTS = "results"
_ENTRY_NAME = re.compile(r"[0-9a-f]{32}")  # RunCache.name_of
_LEFTOVER = re.compile(r"\.(tmp|old)-[0-9a-f]{32}-[0-9a-f]{8}")  # what store() writes aside, then renames


def default_dir() -> Path:
    """``$PHARMASIM_CACHE_DIR``, else the platform's cache folder for the user, ``/pharmasim/explorer``."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "pharmasim" / "explorer"


@lru_cache(maxsize=1)
def code_fingerprint(root: Path | None = None) -> str:
    """The package version and a hash of every source and data file of the simulator (``sim/``, or
    *root*): any change to the code that could change a number changes the key."""
    root = root or Path(__file__).resolve().parents[1]
    h = hashlib.sha256(__version__.encode())
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".py", ".yaml", ".json")
                       and "__pycache__" not in p.parts):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return f"{__version__}+{h.hexdigest()[:16]}"


@dataclass
class Finished:
    """What a finished run left that the page shows: metrics per replication, the series summed over
    replications, and the results folder (for the zip)."""

    metrics: dict[int, dict[str, float]]
    series_sum: dict[str, np.ndarray]
    series_n: dict[str, int]
    folder: Path


class RunCache:
    """Finished runs on disk under *root*, one folder per key."""

    def __init__(self, root: Path, keep: int = KEEP, log=None) -> None:
        self.root, self.keep, self.log = Path(root), keep, log

    @staticmethod
    def key_of(scenario: Scenario, reps: int, seed: int) -> dict:
        return {"format": FORMAT, "code": code_fingerprint(), "reps": int(reps), "seed": int(seed),
                "scenario": dump_scenario(scenario)}

    @staticmethod
    def name_of(key: dict) -> str:
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]

    def load(self, scenario: Scenario, reps: int, seed: int) -> Finished | None:
        """The finished run of this key, or None (absent, unreadable, or stored under another key)."""
        key = self.key_of(scenario, reps, seed)
        folder = self.root / self.name_of(key)
        if not folder.is_dir():
            return None
        try:
            data = json.loads((folder / ENTRY).read_text(encoding="utf-8"))
            if data["key"] != key:
                raise ValueError("the stored key differs from the entry's name")
            metrics = {int(r): {str(k): float(v) for k, v in m.items()} for r, m in data["metrics"].items()}
            if sorted(metrics) != list(range(reps)):
                raise ValueError("replications missing")
            series_n = {str(k): int(n) for k, n in data["series_n"].items()}
            series_sum = {str(k): np.asarray(v, dtype=float) for k, v in data["series_sum"].items()}
            if set(series_sum) != set(series_n) or not (folder / RESULTS).is_dir():
                raise ValueError("series or results folder incomplete")
        except Exception as err:  # noqa: BLE001 - any damage: ignore the entry; the next run rewrites it
            self._say(f"ignoring a damaged cache entry {folder.name}: {type(err).__name__}: {err}")
            return None
        os.utime(folder)  # recently used: evicted last
        return Finished(metrics, series_sum, series_n, folder / RESULTS)

    def store(self, scenario: Scenario, reps: int, seed: int, done: Finished) -> Path | None:
        """Keep a finished run (atomically: written aside, then renamed into place); None if the disk
        refused (the explorer works on without its cache)."""
        key = self.key_of(scenario, reps, seed)
        final = self.root / self.name_of(key)
        tmp = self.root / f".tmp-{final.name}-{uuid.uuid4().hex[:8]}"
        try:
            tmp.mkdir(parents=True)
            shutil.copytree(done.folder, tmp / RESULTS)
            entry = {"key": key, "written": time.time(),
                     "metrics": {str(r): {k: float(v) for k, v in m.items()} for r, m in sorted(done.metrics.items())},
                     "series_n": done.series_n,
                     "series_sum": {k: np.asarray(v, dtype=float).tolist() for k, v in done.series_sum.items()}}
            (tmp / ENTRY).write_text(json.dumps(entry), encoding="utf-8")
            if final.exists():  # a damaged entry (or another explorer's copy): replace it
                old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
                os.replace(final, old)
                shutil.rmtree(old, ignore_errors=True)
            os.replace(tmp, final)
        except (OSError, TypeError, ValueError) as err:
            shutil.rmtree(tmp, ignore_errors=True)
            self._say(f"could not keep a finished run in {self.root}: {err}")
            return None
        self._evict()
        return final

    def entries(self) -> list[Path]:
        """The entries, oldest used first: folders named as :meth:`store` names them and holding an
        entry file (a folder of the user's in a ``--cache-dir`` is never one, so never evicted)."""
        if not self.root.is_dir():
            return []
        return sorted((p for p in self.root.iterdir()
                       if _ENTRY_NAME.fullmatch(p.name) and (p / ENTRY).is_file()),
                      key=lambda p: p.stat().st_mtime)

    def _evict(self) -> None:
        for old in self.entries()[:-self.keep or None]:
            shutil.rmtree(old, ignore_errors=True)
        for left in self.root.iterdir():  # a crash left them behind: only this cache's own names
            if _LEFTOVER.fullmatch(left.name) and time.time() - left.stat().st_mtime > 3600:
                shutil.rmtree(left, ignore_errors=True)

    def _say(self, text: str) -> None:
        if self.log is not None:
            self.log(text)
