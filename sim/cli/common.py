"""What every command shares: loading a scenario, failing with a message and an exit status (never a
traceback), formatting numbers, and turning the errors a user can fix into messages."""
from __future__ import annotations

import functools
import math
import os
import sys

import click

from sim.core.errors import ScenarioError


def load(path: str | None):
    from sim.scenario import load_default, load_scenario
    return load_default() if path is None or path == "default" else load_scenario(path)


def fail(err: Exception | str, code: int = 2):
    click.echo(str(err), err=True)
    sys.exit(code)


def fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:,.3f}" if abs(x) < 10 else f"{x:,.1f}"


def user_errors(fn):
    """Known, fixable errors -> a message and exit 2; Ctrl-C -> keep what finished.  The error classes
    are imported only when something was raised: the command starts without loading the model."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except KeyboardInterrupt:
            fail("interrupted: finished replications are stored; continue with --resume --out DIR", 130)
        except Exception as err:  # noqa: BLE001 - sorted below: the user's to fix, the machine's, or a bug
            from sim.experiments.backends import BackendError, WorkerLost
            from sim.experiments.budget import BudgetError
            from sim.experiments.runner import MetricNameError
            from sim.experiments.store import StoreError
            from sim.experiments.tables import ResultsFolderError
            if isinstance(err, (ScenarioError, BackendError, BudgetError, StoreError, MetricNameError,
                                ResultsFolderError)):
                fail(err)
            if isinstance(err, WorkerLost):
                fail(f"{err}; continue with --resume --out DIR", 1)
            if isinstance(err, OSError):  # the machine, not the input: permissions, a full disk, a file in the way
                where = f"{err.filename}: " if err.filename else ""
                fail(f"{where}{err.strerror or err}", 4)
            if debugging():
                raise
            text = " ".join(str(err).split())
            fail(f"internal error: {type(err).__name__}: {text[:300]}\n"
                 "this is a bug in pharmasim; rerun with --debug for the traceback and report it", 1)
    return wrapper


def debugging() -> bool:
    """``--debug`` (before the command) or ``PHARMASIM_DEBUG=1``: show tracebacks of internal errors."""
    ctx = click.get_current_context(silent=True)
    flag = bool(ctx and ctx.find_root().params.get("debug"))
    return flag or os.environ.get("PHARMASIM_DEBUG", "") not in ("", "0")
