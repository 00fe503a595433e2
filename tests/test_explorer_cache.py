"""The explorer's run cache: a finished run is served again only under exactly its key (resolved
scenario, seed, replications, code), bit for bit; a damaged entry is ignored and rewritten; entries are
written atomically and the oldest evicted; where the cache lives and how the command turns it off."""
from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from click.testing import CliRunner

from sim.cli import cli
from sim.explorer import cache as cache_mod
from sim.explorer.cache import ENTRY, RESULTS, Finished, RunCache, code_fingerprint, default_dir
from sim.explorer.jobs import Baselines, Job, Pool
from sim.experiments.overrides import apply_overrides
from sim.scenario import load_default

REPS = 2


class NoPool:
    """A pool that must not be used: a run restored from the cache computes nothing."""

    def backend(self):
        raise AssertionError("a cached run asked the worker pool for work")


def same(a: dict, b: dict) -> bool:
    """Equal metrics, NaN equal to NaN (a metric with no observations)."""
    return a.keys() == b.keys() and all(
        a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a)


@pytest.fixture(scope="module")
def base():
    return load_default()


@pytest.fixture(scope="module")
def ran(base, tmp_path_factory):
    """One real run of 2 replications, kept in a cache: (the job, the cache)."""
    root = tmp_path_factory.mktemp("cache")
    cache = RunCache(root / "cache")
    pool = Pool(1)
    try:
        job = Job(base, REPS, base.seed, root / "run", pool, cache).start()
        assert job.wait(120) and job.state == "done", job.error
    finally:
        pool.close()
    return job, cache


def test_a_finished_run_is_restored_bit_for_bit_without_computing(base, ran, tmp_path):
    job, cache = ran
    assert len(cache.entries()) == 1
    again = Job.start_or_restore(base, REPS, base.seed, tmp_path / "again", NoPool(), cache)
    assert again.restored and again.state == "done" and again.finished and again.wait(0)
    assert again.done == REPS and again.version == 1
    for r in range(REPS):
        assert same(again.metrics[r], job.metrics[r])
    assert set(again.series()) == set(job.series()) and len(job.series()) > 10
    for k, v in job.series().items():
        np.testing.assert_array_equal(again.series()[k], v)
    # its own copy of the results folder (for the zip), the same files as the run wrote
    assert (tmp_path / "again" / "summary.csv").read_bytes() == (job.out_dir / "summary.csv").read_bytes()
    assert sorted(p.relative_to(tmp_path / "again") for p in (tmp_path / "again").rglob("*")) == sorted(
        p.relative_to(job.out_dir) for p in job.out_dir.rglob("*"))


def test_never_served_under_another_key(base, ran, monkeypatch):
    _, cache = ran
    assert cache.load(base, REPS, base.seed) is not None
    other = apply_overrides(base, {"packaging.shelf_life": 540})
    assert cache.load(other, REPS, base.seed) is None                  # another scenario
    assert cache.load(base, REPS, base.seed + 1) is None               # another seed
    assert cache.load(base, REPS + 1, base.seed) is None               # other replications
    monkeypatch.setattr(cache_mod, "code_fingerprint", lambda: "0.1.0+another-code")
    assert cache.load(base, REPS, base.seed) is None                   # another simulator


def test_the_code_fingerprint_follows_every_source_file(tmp_path):
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "a.py").write_text("x = 1\n")
    (tmp_path / "data.yaml").write_text("a: 1\n")
    first = code_fingerprint.__wrapped__(tmp_path)
    assert first == code_fingerprint.__wrapped__(tmp_path) and first.startswith("0.1.0+")
    (tmp_path / "core" / "__pycache__").mkdir()
    (tmp_path / "core" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert code_fingerprint.__wrapped__(tmp_path) == first              # compiled files do not count
    (tmp_path / "core" / "a.py").write_text("x = 2\n")
    assert code_fingerprint.__wrapped__(tmp_path) != first
    assert code_fingerprint() == code_fingerprint()                      # the simulator's own, once


def test_a_damaged_entry_is_ignored_and_rewritten(base, ran, tmp_path):
    job, good = ran
    said = []
    cache = RunCache(tmp_path / "cache", log=said.append)
    done = Finished(job.metrics, job.series_sum, job.series_n, job.out_dir)
    entry = cache.store(base, REPS, base.seed, done)
    for damage in ("truncated", "no results", "another key"):
        cache.store(base, REPS, base.seed, done)
        if damage == "truncated":
            (entry / ENTRY).write_text((entry / ENTRY).read_text()[:1000])
        elif damage == "no results":
            import shutil
            shutil.rmtree(entry / RESULTS)
        else:  # an entry whose name does not match what it holds
            data = json.loads((entry / ENTRY).read_text())
            data["key"]["seed"] += 1
            (entry / ENTRY).write_text(json.dumps(data))
        assert cache.load(base, REPS, base.seed) is None, damage
        assert "damaged cache entry" in said[-1]
    # the next run of that key rewrites it (here restored from the good cache, kept in the damaged one)
    cache.store(base, REPS, base.seed, done)
    assert cache.load(base, REPS, base.seed) is not None
    assert [p.name for p in cache.root.iterdir()] == [entry.name]      # no temporary folders left


def test_written_atomically_and_the_oldest_evicted(base, ran, tmp_path):
    job, _ = ran
    cache = RunCache(tmp_path / "cache", keep=2)
    done = Finished(job.metrics, job.series_sum, job.series_n, job.out_dir)
    seeds = [11, 12, 13]
    for i, seed in enumerate(seeds):
        entry = cache.store(base, REPS, seed, done)
        os.utime(entry, (1e9 + i, 1e9 + i))                             # stored in this order
        if seed == 12:
            assert cache.load(base, REPS, 11) is not None              # used again: now the newest
    assert cache.load(base, REPS, 12) is None                          # the oldest used went
    assert cache.load(base, REPS, 11) is not None and cache.load(base, REPS, 13) is not None
    # a write cut short leaves only a hidden temporary folder, which is never served
    (cache.root / ".tmp-cut-short").mkdir()
    assert len(cache.entries()) == 2
    # a cache that cannot be written is reported and the explorer goes on without it
    said = []
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert RunCache(blocked / "cache", log=said.append).store(base, REPS, 1, done) is None
    assert "could not keep a finished run" in said[0]


def test_a_users_folders_beside_the_entries_are_never_evicted(base, ran, tmp_path):
    """``--cache-dir`` may name a folder of the user's: only folders the cache wrote are removed."""
    job, _ = ran
    cache = RunCache(tmp_path / "mine", keep=1)
    done = Finished(job.metrics, job.series_sum, job.series_n, job.out_dir)
    theirs = [cache.root / "thesis", cache.root / ("a" * 32), cache.root / ".tmp-notes",
              cache.root / f".old-{'b' * 32}-plain"]
    for folder in theirs:
        folder.mkdir(parents=True)
        (folder / "data.txt").write_text("keep me")
        os.utime(folder, (1e9, 1e9))                                     # older than any entry and than an hour
    for seed in (21, 22, 23):
        cache.store(base, REPS, seed, done)
    assert all((folder / "data.txt").read_text() == "keep me" for folder in theirs)
    assert len(cache.entries()) == 1 and cache.load(base, REPS, 23) is not None   # keep=1 still holds


def test_baselines_of_a_new_session_come_from_the_cache(base, ran, tmp_path):
    _, cache = ran
    shared = Baselines(NoPool(), tmp_path, cache=cache)
    job = shared.get(base, REPS, base.seed, object())
    assert job.restored and job.state == "done" and (job.out_dir / "summary.csv").exists()


def test_where_the_cache_lives(monkeypatch, tmp_path):
    monkeypatch.delenv("PHARMASIM_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if os.name == "posix" and not os.uname().sysname == "Darwin":
        assert default_dir() == tmp_path / "xdg" / "pharmasim" / "explorer"
    monkeypatch.setenv("PHARMASIM_CACHE_DIR", str(tmp_path / "mine"))
    assert default_dir() == tmp_path / "mine"


def test_the_command_passes_the_cache_or_none(monkeypatch, tmp_path):
    import sim.explorer.server as server
    got = {}
    monkeypatch.setattr(server, "serve", lambda *a, **k: got.update(k))
    monkeypatch.setenv("PHARMASIM_CACHE_DIR", str(tmp_path / "env"))
    assert CliRunner().invoke(cli, ["explore"]).exit_code == 0
    assert got["cache"].root == tmp_path / "env"
    assert CliRunner().invoke(cli, ["explore", "--cache-dir", str(tmp_path / "opt")]).exit_code == 0
    assert got["cache"].root == tmp_path / "opt"
    assert CliRunner().invoke(cli, ["explore", "--no-cache"]).exit_code == 0
    assert got["cache"] is None
