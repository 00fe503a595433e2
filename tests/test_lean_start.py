"""A run's processes import only what they use, shown by what makes it: result tables built and read
through Arrow buffers (the arrays pa.array builds, the same Parquet bytes, the values pandas reads)
without importing pandas, a multi-worker run whose main process loads neither matplotlib nor pandas
nor tqdm, and the summary tables written after the hook that starts the figures, once what the
figures read is stored."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa

from sim.experiments.arrow import codes, numeric, strings, to_numpy
from sim.experiments.columnar import _parquet_bytes
from sim.experiments.run import run_plan, single_plan

from test_exp_support import ROOT, small


def test_arrays_from_buffers_are_the_arrays_pa_array_builds():
    names = ["delay.a", "délai.b", "", "x"]
    counts = [3, 1, 2, 0]
    assert strings(names, counts).equals(pa.array(np.repeat(np.array(names, dtype=object), counts), pa.string()))
    assert strings(names).to_pylist() == names
    assert strings([]).equals(pa.array([], pa.string()))
    values = np.array([0.5, -1.0, np.nan, 1e300])
    assert numeric(values).type == pa.float64() and numeric(values).to_pylist()[:2] == [0.5, -1.0]
    assert numeric(np.full(4, 7, dtype=np.int32), np.int32).equals(pa.array(np.full(4, 7, dtype=np.int32)))
    assert np.array_equal(to_numpy(numeric(values)), values, equal_nan=True)
    # a slice has an offset into its buffer: read from there, not from the buffer's start
    assert to_numpy(numeric(np.arange(10.0)).slice(3, 4)).tolist() == [3.0, 4.0, 5.0, 6.0]


def test_a_table_part_has_the_same_parquet_bytes_as_before():
    names, lengths = ["a.x", "b.y"], [3, 2]
    values, starts = np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([0.0, 14.0, 28.0, 0.0, 14.0])
    rep = np.full(5, 4, dtype=np.int32)
    before = {"rep": pa.array(rep), "series": pa.array(np.repeat(names, lengths).astype(object), pa.string()),
              "period_start": pa.array(starts, pa.float64()), "value": pa.array(values, pa.float64())}
    now = {"rep": numeric(rep, np.int32), "series": strings(names, lengths), "period_start": numeric(starts),
           "value": numeric(values)}
    assert _parquet_bytes(now, "series") == _parquet_bytes(before, "series")


def test_name_codes_share_one_dictionary_across_chunks():
    """Two files' name columns, each with its own dictionary: b a | a c -> names b, a, c; codes 0 1 1 2."""
    first = pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()), pa.array(["b", "a"]))
    second = pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()), pa.array(["a", "c"]))
    names, index = codes(pa.chunked_array([first, second]))
    assert names == ["b", "a", "c"] and index.tolist() == [0, 1, 1, 2]
    names, index = codes(pa.chunked_array([pa.array(["q", "p", "q"])]))  # a plain string column too
    assert [names[i] for i in index] == ["q", "p", "q"]


def test_tables_read_into_arrays_without_pandas_and_as_pandas_reads_them(small_run_folder):
    code = (f"import sys; from pathlib import Path; from sim.experiments import columnar as c; d = Path({str(small_run_folder)!r}); "
            "s, t = c.load_series(d); dl = c.load_delays(d); n, v = c.metric_columns(d, [0, 1]); "
            "r = c.read_replication(d, 1); name = sorted(s)[0]; "
            "print(repr(('pandas' in sys.modules, name, s[name][1].tolist(), t.tolist()[:3], n[0], v[:, 0].tolist(), "
            "r.series[name].tolist(), len(dl))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    pandas_loaded, name, rep1, times, metric, column, again, delays = eval(out.stdout)
    assert pandas_loaded is False
    import pandas as pd
    frame = pd.read_parquet(small_run_folder / "series")
    want = frame[(frame["series"] == name) & (frame["rep"] == 1)]
    assert rep1 == want["value"].tolist() == again
    assert times == [0.0, 14.0, 28.0]
    metrics = pd.read_parquet(small_run_folder / "metrics")
    assert column == metrics[metrics["metric"] == metric].sort_values("rep")["value"].tolist()
    assert delays == pd.read_parquet(small_run_folder / "delays")["delay"].nunique()


def test_summaries_are_written_after_the_figures_can_start(tmp_path):
    seen = {}

    def ready(folder):
        seen.update({name: (folder / name).exists() for name in ("metadata.json", "timeline.csv", "summary.csv")})
        seen["replications"] = json.loads((folder / "metadata.json").read_text())["replications"]
    run_plan(single_plan(small(), 2, 3), tmp_path / "r", workers=1, ready=ready)
    assert seen == {"metadata.json": True, "timeline.csv": True, "summary.csv": False, "replications": 2}
    assert (tmp_path / "r" / "summary.csv").exists()


def test_a_run_on_workers_loads_no_matplotlib_pandas_or_tqdm_in_its_main_process(tmp_path):
    """Figures are drawn on the workers; the main process stores and summarises with pyarrow and numpy."""
    out = tmp_path / "run"
    code = ("import sys, atexit; from sim.cli import main; "
            "atexit.register(lambda: print('LOADED', sorted(m for m in ('matplotlib', 'pandas', 'tqdm') "
            "if m in sys.modules), file=sys.stderr)); "
            f"sys.argv = ['run_sim.py', 'run', '--set', 'horizon=300', '--reps', '2', '--workers', '2', '--out', "
            f"{str(out)!r}, '--no-progress']; main()")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert "LOADED []" in res.stderr
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["clinical.png", "delays.png", "gantt.png",
                                                                   "inventory.png", "throughput.png"]
    assert (out / "figures.yaml").exists()
