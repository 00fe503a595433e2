"""Builds the hot replication modules with mypyc when ``PHARMASIM_COMPILE=1`` is set at install time
(``PHARMASIM_COMPILE=1 pip install .``); otherwise a pure-Python package (the metadata is in
pyproject.toml).  The list of modules and mypy's options are in sim/core/_compiled.py."""
import os
import runpy

from setuptools import setup

ext_modules = []
if os.environ.get("PHARMASIM_COMPILE") == "1":
    from mypyc.build import mypycify  # a build requirement then (_build/backend.py)

    spec = runpy.run_path(os.path.join("sim", "core", "_compiled.py"))
    ext_modules = mypycify([*spec["MYPY_OPTIONS"], *spec["COMPILED"]], opt_level="3")

setup(ext_modules=ext_modules)
