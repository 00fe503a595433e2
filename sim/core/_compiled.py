"""Which modules of the replication's hot path an accelerated install compiles with mypyc, and whether
they are compiled in this process.

``PHARMASIM_COMPILE=1 pip install .`` builds the modules in :data:`COMPILED` as C extensions
(``setup.py``); the default install leaves every module pure Python.  Results are the same either way
(the same floating-point operations in the same order: tests/test_compiled.py).  A compiled module
is a ``.so`` file next to its ``.py``, and Python imports the ``.so`` first: an edited ``.py`` then has
no effect until the package is reinstalled, which :func:`stale` detects.

:func:`mypyc_attr` is mypyc's class decorator, or a stand-in that does nothing where mypy is not
installed (the default install), so the modules import without it.
"""
from __future__ import annotations

import os
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_extensions import mypyc_attr
else:
    try:
        from mypy_extensions import mypyc_attr
    except ImportError:  # a pure install: the decorator only tells mypyc how to compile a class
        def mypyc_attr(*args, **kwargs):
            return lambda cls: cls

COMPILED = (
    "sim/core/node.py",
    "sim/core/stats.py",
    "sim/core/lots.py",
    "sim/core/context.py",
    "sim/clinical/inventory.py",
    "sim/clinical/point_supply.py",
    "sim/clinical/dispensing.py",
    "sim/clinical/sites.py",
    "sim/clinical/lanes.py",
    "sim/clinical/depot.py",
    "sim/clinical/trial.py",
    "sim/clinical/kit_wait.py",
    "sim/core/conservation.py",
)
"""The modules compiled by an accelerated install (paths from the repository root), as mypyc builds
them: together, in one extension, so that calls between them are direct C calls."""

MYPY_OPTIONS = ("--follow-imports=silent", "--ignore-missing-imports", "--python-version=3.11")
"""mypy's options for the compiled set (setup.py and tests/test_compiled.py): the set must type-check."""


_ROOT = Path(__file__).resolve().parents[2]  # where the installed (or checked-out) sim package lies


def _name(path: str) -> str:
    return path[:-3].replace("/", ".")


def _extension(path: str) -> Path | None:
    """The C extension built from *path*, if there is one: Python's finder takes it before the ``.py``.
    Found by its file, not by importing the module, so that this core module imports no model layer."""
    base = _ROOT / path[:-3]
    for suffix in EXTENSION_SUFFIXES:
        so = base.with_name(base.name + suffix)
        if so.exists():
            return so
    return None


def compiled_modules() -> list[str]:
    """The modules of :data:`COMPILED` that this installation runs compiled (a ``.so`` beside the ``.py``)."""
    return [_name(path) for path in COMPILED if _extension(path) is not None]


_UNPACKED_TOGETHER = 10.0
"""Seconds: a wheel's files are unpacked in any order (a .py a moment after its .so); an edit comes later."""


def stale() -> list[str]:
    """Compiled modules whose ``.py`` is newer than the extension built from it: an edit the running
    code does not have (reinstall with ``PHARMASIM_COMPILE=1 pip install .``, or delete the ``.so``)."""
    out = []
    for path in COMPILED:
        so, py = _extension(path), _ROOT / path
        if so is not None and py.exists() and os.path.getmtime(py) > os.path.getmtime(so) + _UNPACKED_TOGETHER:
            out.append(_name(path))
    return out


def describe() -> str:
    """One line for ``--version``: pure Python, or how many hot modules are compiled (and any stale)."""
    done = compiled_modules()
    if not done:
        return "replication: pure Python"
    line = f"replication: {len(done)} of {len(COMPILED)} hot modules compiled with mypyc"
    old = stale()
    return line + (f" (STALE, .py edited after the build: {', '.join(old)})" if old else "")
