"""Results folders as pandas DataFrames.

A :class:`Results` (one scenario's replications) or :class:`BatchResults` (a batch or a comparison)
is a view of a results folder: every table is read from its files when asked for, so an object made
by :func:`sim.api.run` and one made later by :func:`open_results` on the same folder give the same
frames.  pandas is imported only here, when a table is asked for.
"""
from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

from sim.experiments.tables import ResultsFolderError


def _frame(path: Path):
    import pandas as pd
    return pd.read_csv(path) if path.is_file() else pd.DataFrame()


class Results:
    """One scenario's results folder: ``metrics``, ``summary``, ``series``, ``delays``, ``accounting``.

    *run* is the in-memory outcome when the object comes from a run (for ``failures``); a folder opened
    later has none, and its failures come from ``failures.csv``."""

    def __init__(self, path: str | Path, run: Any = None) -> None:
        self.path = Path(path)
        self.run = run
        if not (self.path / "scenario.yaml").is_file():
            raise ResultsFolderError(f"{self.path}: not a scenario's results folder (no scenario.yaml)")

    def __repr__(self) -> str:
        return f"Results({str(self.path)!r}, scenario={self.name!r}, replications={self.replications})"

    @cached_property
    def metadata(self) -> dict[str, Any]:
        """Tool and package versions, seed, replications, wall time (``metadata.json``); a scenario of a
        batch has its batch's."""
        for folder in (self.path, self.path.parent.parent):
            if (folder / "metadata.json").is_file():
                return json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
        return {}

    @cached_property
    def scenario(self):
        """The resolved scenario the folder was made from (rerun it to reproduce the folder)."""
        from sim.scenario import load_scenario
        return load_scenario(self.path / "scenario.yaml")

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def seed(self) -> int:
        return int(self.metadata.get("seed", self.scenario.seed))

    @cached_property
    def reps(self) -> list[int]:
        """The replications stored (each with its record: the complete ones)."""
        from sim.experiments.columnar import stored_reps
        return stored_reps(self.path)

    @property
    def replications(self) -> int:
        return len(self.reps)

    def _dataset(self, table: str):
        from sim.experiments.columnar import read_dataset
        return read_dataset(self.path, table, self.reps).to_pandas()

    @property
    def metrics(self):
        """Tidy: ``rep, metric, value``, one row per replication and metric."""
        return self._dataset("metrics")

    def wide(self):
        """Metrics as replications x metrics (index ``rep``): one column per metric."""
        return self.metrics.pivot(index="rep", columns="metric", values="value")

    @property
    def summary(self):
        """``metric, n, mean, sd, ci_low, ci_high, half_width, interval`` (95 %; the interval's method per
        metric: see the metric catalogue)."""
        return _frame(self.path / "summary.csv")

    @property
    def series(self):
        """Tidy: ``rep, series, period_start, value`` (per-period throughput and average levels)."""
        return self._dataset("series")

    @property
    def delays(self):
        """Tidy: ``rep, delay, value``, a bounded sample of each delay per replication."""
        return self._dataset("delays")

    @property
    def accounting(self):
        """The conservation balance: ``rep, material, entry, quantity``."""
        return _frame(self.path / "accounting.csv")

    @property
    def failures(self):
        """Replications that raised: ``scenario, rep, seed, error_type, message`` (empty if none)."""
        root = self.path if (self.path / "failures.csv").is_file() else self.path.parent.parent
        frame = _frame(root / "failures.csv")
        if len(frame) and "scenario" in frame and self.path.parent.name == "scenarios":
            frame = frame[frame["scenario"] == self.path.name]
        return frame

    def trace(self):
        """The lot genealogy of the traced replication (``run(..., trace=True)``): ``(lots, doses)``
        DataFrames — every lot made (parents, place, line, CDMO, dates) and every dose's kit lot."""
        import pandas as pd
        folder = self.path / "trace"
        if not (folder / "lots.csv").is_file():
            raise ResultsFolderError(f"{self.path}: no lot genealogy (run with trace=True)")
        return pd.read_csv(folder / "lots.csv"), pd.read_csv(folder / "doses.csv")

    def mean(self, metric: str) -> float:
        """The across-replication mean of *metric* (``summary.csv``)."""
        row = self.summary.set_index("metric").loc[metric]
        return float(row["mean"])

    def plot(self, formats: tuple[str, ...] = ("png",)) -> list[Path]:
        """(Re)draw the folder's figures; returns their paths."""
        from sim.figures import plot_results
        return plot_results(self.path, formats=formats)


class BatchResults:
    """A batch or comparison folder: every scenario side by side (``metrics``, ``summary``,
    ``scenarios``), each scenario's own :class:`Results` with :meth:`scenario`."""

    def __init__(self, path: str | Path, run: Any = None) -> None:
        self.path = Path(path)
        self.run = run
        if not (self.path / "scenarios.csv").is_file():
            raise ResultsFolderError(f"{self.path}: not a batch or comparison results folder (no scenarios.csv)")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r}, scenarios={list(self.scenarios['scenario'])})"

    @property
    def scenarios(self):
        """``scenario, role, label, replications, failed``."""
        return _frame(self.path / "scenarios.csv")

    @property
    def design(self):
        """Sweeps: the design matrix, tidy (``scenario, factor, value``); empty otherwise."""
        return _frame(self.path / "design.csv")

    @property
    def metrics(self):
        """Tidy: ``scenario, rep, metric, value``."""
        import pandas as pd
        path = self.path / "metrics.parquet"
        return pd.read_parquet(path) if path.is_file() else pd.DataFrame()

    @property
    def summary(self):
        """``scenario, metric, n, mean, sd, ci_low, ci_high, half_width, interval``."""
        return _frame(self.path / "summary.csv")

    @property
    def failures(self):
        return _frame(self.path / "failures.csv")

    def scenario(self, name: str) -> Results:
        """One scenario's own results (its series and delays are kept for comparisons, and for batches
        with ``detail: true``)."""
        return Results(self.path / "scenarios" / name, self.run)

    def differences(self, a: str, b: str):
        """Paired differences B − A of every metric over the replications both ran (common random
        numbers), with 95 % CIs and a verdict."""
        import pandas as pd
        from sim.experiments.columnar import batch_metrics
        from sim.experiments.compare import HEADER, paired_differences
        path = self.path / "metrics.parquet"
        wide = batch_metrics(path) if path.is_file() else {}
        for s in (a, b):
            if s not in wide:
                raise KeyError(f"{self.path}: no scenario {s!r}; it has {sorted(wide)}")
        return pd.DataFrame([d.row() for d in paired_differences(wide[a], wide[b], b)], columns=HEADER)

    def plot(self, formats: tuple[str, ...] = ("png",), per_scenario: bool | None = None) -> list[Path]:
        from sim.figures import plot_results
        return plot_results(self.path, per_scenario, formats)


class Comparison(BatchResults):
    """A paired comparison: ``comparison`` (B − A per metric, ``comparison.csv``) and the two sides ``a``, ``b``."""

    @property
    def comparison(self):
        """``metric, n, mean_a, mean_b, difference, ci_low, ci_high, half_width, unpaired_half_width,
        relative_difference, verdict``."""
        return _frame(self.path / "comparison.csv")

    @property
    def a(self) -> Results:
        return self.scenario(str(self.scenarios["scenario"].iloc[0]))

    @property
    def b(self) -> Results:
        return self.scenario(str(self.scenarios["scenario"].iloc[1]))


def open_results(path: str | Path) -> Results | BatchResults:
    """The results folder at *path*: a run's, a batch's or a comparison's."""
    path = Path(path)
    if (path / "comparison.csv").is_file():
        return Comparison(path)
    if (path / "scenarios.csv").is_file():
        return BatchResults(path)
    return Results(path)
