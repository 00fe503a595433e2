"""Reading, validating and writing scenario files.

The schema (pydantic models in this package) is kept apart from the runtime
objects in :mod:`sim.model` and the process modules: the schema says what a
user may write, the runtime says how it behaves.
"""
from __future__ import annotations

import re
import reprlib
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.core.distributions import DIST_NAMES
from sim.core.errors import ScenarioError
from sim.scenario.base import NAME_PATTERN, NAME_RULE, FieldError
from sim.scenario.kinds import FAMILIES
from sim.scenario.schema import Scenario
from sim.scenario.yamlio import MAX_BYTES, YamlProblem, load_yaml

__all__ = ["Scenario", "load_scenario", "load_default", "parse_scenario", "dump_scenario",
           "DEFAULT_SOURCE", "format_errors"]

DEFAULT_SOURCE = "<default scenario>"
_UNION_TAGS = DIST_NAMES
"""Tags of the distribution union; every other family's tags look like ``<batch>`` (sim.scenario.kinds)."""


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _UNION_TAGS or str(part).startswith(("function-", "<")):
            continue  # pydantic's name for the union member (or a "<tag>"), not a field the user wrote
        else:
            out += f".{part}" if out else str(part)
    return out


def _kind_in(loc: tuple[Any, ...]) -> str | None:
    """The kind a missing field belongs to ("trigger resupply policy"), from the last union tag in *loc*."""
    for part in reversed(loc):
        if isinstance(part, str) and part.startswith("<") and part.endswith(">"):
            value = part[1:-1]
            fam = next((f for f in FAMILIES if value in f.members), None)
            return f"{value} {fam.name}" if fam is not None else None
    return None


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlist = _REPR.maxdict = 6
_REPR.maxlevel = 2


def _shown(value: Any) -> str:
    """A value for an error message: bounded before it is formatted (a value can be huge)."""
    shown = _REPR.repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def format_errors(err: ValidationError) -> list[str]:
    """One line per problem: field path, what was expected, the value found."""
    problems = []
    for e in err.errors(include_url=False):
        path = _format_loc(tuple(e["loc"]))
        msg = e["msg"].removeprefix("Value error, ")
        cause = e.get("ctx", {}).get("error")
        if isinstance(cause, FieldError):  # a model's check that knows which of its fields is wrong
            line = f"{path}.{cause.field}: {cause.message}" if path else f"{cause.field}: {cause.message}"
        elif e["type"] == "missing":
            line = f"{path}: required field is missing"
            kind = _kind_in(tuple(e["loc"]))
            if kind is not None:
                line = f"{path}: required by the {kind}"
        elif e["type"] == "extra_forbidden":
            line = f"{path}: unknown field (value {_shown(e['input'])}); check the spelling"
        elif e["type"] == "union_tag_invalid":
            ctx = e.get("ctx", {})
            field = ctx.get("discriminator", "kind").strip("'").removesuffix("()")
            if not isinstance(e.get("input"), dict):
                problems.append(f"{path}: expected a mapping of fields; got {_shown(e.get('input'))}")
                continue
            tag = str(ctx.get("tag")).strip("<>")
            if tag == "None":
                line = f"{path}.{field}: required field is missing"
            else:
                line = (f"{path}.{field}: unknown value {tag!r}; expected one of "
                        f"{str(ctx.get('expected_tags')).replace('<', '').replace('>', '')}")
        elif e["type"] == "union_tag_not_found":
            line = f"{path}: {msg}"
        elif e["type"] == "string_pattern_mismatch" and e.get("ctx", {}).get("pattern") == NAME_PATTERN:
            line = f"{path}: expected {NAME_RULE}; got {_shown(e['input'])}"
        else:
            # pydantic says "Input should be X"; our validators state the expectation itself
            msg = msg.removeprefix("Input should be ").removeprefix("String should have ")
            msg = re.sub(r" or instance of \w+$", "", msg)  # "a valid dictionary or instance of Region"
            line = f"{path}: expected {msg[0].lower() + msg[1:]}; got {_shown(e['input'])}" if path else msg
        problems.append(line)
    return problems


def top_level_problem(data: Any, what: str) -> str:
    """The problem with a YAML document that is not a mapping of fields."""
    if data is None:
        return f"the file is empty; expected the {what}'s fields (name: value, one a line)"
    return f"expected a mapping of {what} fields at the top level (name: value, one a line); got a {type(data).__name__}"


def parse_scenario(data: Any, source: str = "<scenario>", base: str | Path | None = None) -> Scenario:
    """Validate a mapping (as read from YAML) into a :class:`Scenario`; files it names (a market's
    forecast) are read relative to *base* (default: the working folder)."""
    if not isinstance(data, dict):
        raise ScenarioError(source, [top_level_problem(data, "scenario")])
    try:
        return Scenario.model_validate(data, context={"base": Path(base) if base is not None else Path.cwd()})
    except ValidationError as err:
        # a cross-reference check reports several problems in one message, one per "\n  - "
        problems = [q for p in format_errors(err) for q in p.split("\n  - ")]
        raise ScenarioError(source, problems) from None


def read_yaml(path: str | Path) -> Any:
    """Read YAML with the safe loader; errors name the file, line and column."""
    path = Path(path)
    try:
        if path.exists() and not path.is_file():  # a FIFO or a device would block or never end
            raise ScenarioError(str(path), ["not a regular file; give a YAML file"])
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise ScenarioError(str(path), [f"larger than {MAX_BYTES:,} bytes; a scenario is a few thousand"])
        text = raw.decode("utf-8")
    except OSError as err:
        raise ScenarioError(str(path), [f"cannot read file: {err.strerror}"]) from None
    except UnicodeDecodeError as err:
        raise ScenarioError(str(path), [f"not a UTF-8 text file (byte {err.start}: {err.object[err.start:err.start + 1]!r}); "
                                        "save it as UTF-8 YAML"]) from None
    try:
        return load_yaml(text)
    except YamlProblem as err:
        raise ScenarioError(str(path), [str(err)]) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    return parse_scenario(read_yaml(path), str(path), Path(path).parent)


def default_text() -> str:
    return resources.files("sim.data").joinpath("default.yaml").read_text(encoding="utf-8")


def load_default() -> Scenario:
    """The embedded default scenario (a realistic phase III small-molecule programme)."""
    return parse_scenario(yaml.safe_load(default_text()), DEFAULT_SOURCE)


def dump_scenario(scenario: Scenario) -> str:
    """The fully resolved scenario (defaults filled in) as YAML."""
    return yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False)
