"""setuptools' build backend, plus mypy as a build requirement when ``PHARMASIM_COMPILE=1`` asks for
the compiled hot modules (setup.py, sim/core/_compiled.py).  Without it, the build is setuptools'
own: the default install stays pure Python and needs no compiler."""
from __future__ import annotations

import os

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F401,F403 - every hook not overridden here

_MYPY = ["mypy>=1.11"]


def _compiling() -> bool:
    return os.environ.get("PHARMASIM_COMPILE") == "1"


# Compiling, setuptools' own hooks are not asked: they run setup.py, which then imports mypyc, not yet
# installed (setup.py declares no other build requirement).
def get_requires_for_build_wheel(config_settings=None):
    return _MYPY if _compiling() else _setuptools.get_requires_for_build_wheel(config_settings)


def get_requires_for_build_editable(config_settings=None):
    return _MYPY if _compiling() else _setuptools.get_requires_for_build_editable(config_settings)
