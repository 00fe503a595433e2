"""Reading, validating and writing scenario files.

The schema (pydantic models in this package) is kept apart from the runtime
objects in :mod:`sim.model` and the process modules: the schema says what a
user may write, the runtime says how it behaves.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.distributions import DIST_NAMES
from sim.errors import ScenarioError
from sim.scenario.materials import POLICY_TAGS
from sim.scenario.schema import Scenario

__all__ = ["Scenario", "load_scenario", "load_default", "parse_scenario", "dump_scenario",
           "DEFAULT_SOURCE", "format_errors"]

DEFAULT_SOURCE = "<default scenario>"
_UNION_TAGS = DIST_NAMES | {"batch", "continuous"} | POLICY_TAGS


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _UNION_TAGS or str(part).startswith("function-"):
            continue  # pydantic's name for the union member, not a field the user wrote
        else:
            out += f".{part}" if out else str(part)
    return out


def format_errors(err: ValidationError) -> list[str]:
    """One line per problem: field path, what was expected, the value found."""
    problems = []
    for e in err.errors(include_url=False):
        path = _format_loc(tuple(e["loc"]))
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "missing":
            line = f"{path}: required field is missing"
        elif e["type"] == "extra_forbidden":
            line = f"{path}: unknown field (value {e['input']!r}); check the spelling"
        elif e["type"] == "union_tag_invalid":
            ctx = e.get("ctx", {})
            line = (f"{path}.{ctx.get('discriminator', 'kind').strip(chr(39))}: unknown value "
                    f"{ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}")
        elif e["type"] == "union_tag_not_found":
            line = f"{path}: {msg}"
        else:
            shown = repr(e["input"])
            if len(shown) > 60:
                shown = shown[:57] + "..."
            # pydantic says "Input should be X"; our validators state the expectation itself
            msg = msg.removeprefix("Input should be ")
            line = f"{path}: expected {msg[0].lower() + msg[1:]}; got {shown}" if path else msg
        problems.append(line)
    return problems


def parse_scenario(data: Any, source: str = "<scenario>") -> Scenario:
    """Validate a mapping (as read from YAML) into a :class:`Scenario`."""
    if not isinstance(data, dict):
        raise ScenarioError(source, [f"expected a mapping of fields at the top level; got {type(data).__name__}"])
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        # a cross-reference check reports several problems in one message, one per "\n  - "
        problems = [q for p in format_errors(err) for q in p.split("\n  - ")]
        raise ScenarioError(source, problems) from None


def read_yaml(path: str | Path) -> Any:
    """Read YAML with the safe loader; errors name the file, line and column."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ScenarioError(str(path), [f"cannot read file: {err.strerror}"]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ScenarioError(str(path), [f"{where}not valid YAML: {problem}"]) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    return parse_scenario(read_yaml(path), str(path))


def default_text() -> str:
    return resources.files("sim.data").joinpath("default.yaml").read_text(encoding="utf-8")


def load_default() -> Scenario:
    """The embedded default scenario (a realistic phase III small-molecule programme)."""
    return parse_scenario(yaml.safe_load(default_text()), DEFAULT_SOURCE)


def dump_scenario(scenario: Scenario) -> str:
    """The fully resolved scenario (defaults filled in) as YAML."""
    return yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False)
