"""The opt-in compiled replication (``PHARMASIM_COMPILE=1 pip install .``, sim/core/_compiled.py): the
compiled set type-checks with the options mypyc builds it with, and a compiled build gives the same
results as pure Python, bit for bit (the same floating-point operations in the same order).

Both are skipped where they cannot run: without mypy (the default install), and without a compiled
build (run ``python -m pytest tests/test_compiled.py`` from outside the checkout, e.g. ``cd /tmp``,
so that ``sim`` is the installed, compiled package)."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from sim.core import _compiled

ROOT = Path(__file__).resolve().parents[1]

# A replication in a fresh interpreter that imports the compiled set from its .py files (a finder put
# before the path's, which would take the .so), pickled to stdout.
_RUN_PURE = """
import importlib.util, pickle, sys
from pathlib import Path
import sim
from sim.core._compiled import COMPILED
base = Path(sim.__file__).parent.parent
pure = {p[:-3].replace("/", "."): base / p for p in COMPILED}
class Source:
    @staticmethod
    def find_spec(name, path=None, target=None):
        return importlib.util.spec_from_file_location(name, pure[name]) if name in pure else None
sys.meta_path.insert(0, Source)
from tests_compiled_run import run
out = run()
assert all(sys.modules[name].__file__.endswith(".py") for name in pure), "a compiled module was imported"
sys.stdout.buffer.write(pickle.dumps(out))
"""


def run() -> dict:
    """The default scenario's replications 0 and 1 (seed 1), as the golden check keeps them."""
    from sim.model import run_replication
    from sim.scenario import load_default
    sc, out = load_default(), {}
    for rep in (0, 1):
        r = run_replication(sc, 1, rep)
        out[rep] = dict(metrics=r.metrics, series={k: v.tolist() for k, v in r.series.items()},
                        accounting=r.accounting, timeline=r.timeline, samples=r.samples)
    return out


def test_compiled_set_type_checks() -> None:
    """mypyc compiles only modules that type-check: an edit that breaks the compiled install fails here
    (where mypy is installed) rather than at someone's ``PHARMASIM_COMPILE=1 pip install .``."""
    pytest.importorskip("mypy.api")
    # In a subprocess: mypy raises this process's recursion limit (to 2 ** 14), which other tests rely on.
    proc = subprocess.run([sys.executable, "-m", "mypy", *_compiled.MYPY_OPTIONS, "--cache-dir",
                           str(ROOT / ".mypy_cache"), *(str(ROOT / p) for p in _compiled.COMPILED)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_compiled_results_identical_to_pure(tmp_path: Path) -> None:
    """Every metric, series, account, timeline and delay sample of two default replications: the same
    Python objects (pickled bytes) compiled and pure, floats to the bit and ints still ints."""
    if not _compiled.compiled_modules():
        pytest.skip("no compiled build imported (PHARMASIM_COMPILE=1 pip install ., then run from outside "
                    "the checkout)")
    assert _compiled.stale() == []
    compiled = run()
    package_root = Path(sys.modules["sim"].__file__).parents[1]  # the same sim package, its .py files
    (tmp_path / "tests_compiled_run.py").write_text(Path(__file__).read_text(encoding="utf-8"), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", _RUN_PURE], capture_output=True, cwd=tmp_path, check=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(package_root)])})
    pure = pickle.loads(proc.stdout)
    for rep in compiled:
        for part in compiled[rep]:
            assert pickle.dumps(compiled[rep][part]) == pickle.dumps(pure[rep][part]), (rep, part)
