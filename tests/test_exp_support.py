"""Shared helpers of the experiment tests (no tests here)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from click.testing import CliRunner

from sim.cli import cli
from sim.experiments.overrides import apply_overrides
from sim.model import run_replication
from sim.scenario import load_default

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("metrics", "summary.csv", "series", "delays", "accounting.csv")


def small(**fields):
    """The default scenario cut to 300 days (~15 ms a replication), plus any overrides."""
    return apply_overrides(load_default(), {"horizon": 300, **fields})


def cli_run(*args: str):
    """Invoke the CLI in-process; returns click's Result (exit_code, output, stderr)."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def table_bytes(folder: Path) -> dict[str, bytes]:
    """Every table under *folder* (CSV files and Parquet parts, recursively), by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted([*folder.rglob("*.csv"), *folder.rglob("*.parquet")])}


def read_table(path: Path) -> list[dict]:
    """A Parquet table or dataset folder as a list of row dicts (for small test tables)."""
    import pyarrow.parquet as pq
    return pq.read_table(path).to_pylist()


def fails_on_rep_2(scenario, seed, rep):
    """A unit of work that raises for replication 2 of scenarios longer than 300 days."""
    if rep == 2 and scenario.horizon > 300:
        raise RuntimeError(f"injected failure (rep {rep})")
    return run_replication(scenario, seed, rep)


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


PYTHON = sys.executable


def dies_on_rep_3(scenario, seed, rep):
    """A unit of work whose worker process dies (as if killed) on replication 3."""
    if rep == 3:
        os._exit(1)
    return run_replication(scenario, seed, rep)
