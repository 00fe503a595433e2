"""What-if overrides: ``--set path=value`` on any field of a scenario.

Written against the *dumped* scenario (plain dicts and lists), never against
field names of the schema, so it keeps working as the schema grows.  A path is
dot-separated; list items are addressed by index (``lines[0]``, ``lines.0``)
or by their ``name`` (``lines.dp-batch``, ``lines[dp-batch]``; names may
contain dots).  The value is read as YAML (``120``, ``true``,
``{dist: exponential, mean: 20}``, ``[0, 28, 56]``).  The result is validated
exactly like a scenario file, so a wrong value gets the same error.
"""
from __future__ import annotations

import copy
import difflib
import re
from typing import Any, Iterable, Mapping

import yaml

from sim.core.errors import ScenarioError
from sim.scenario import Scenario, parse_scenario
from sim.scenario.yamlio import YamlProblem, load_yaml

_TOKEN = re.compile(r"\[([^\]]*)\]|([^.\[\]]+)")


class PathError(ValueError):
    """A path that does not lead to a field of the scenario."""


def parse_assignment(text: str) -> tuple[str, Any]:
    """``"lines.api.rate=120"`` -> ``("lines.api.rate", 120)``; the value is YAML."""
    path, sep, raw = text.partition("=")
    path = path.strip()
    if not sep or not path:
        raise PathError(f"{text!r}: expected PATH=VALUE, e.g. horizon=730")
    try:
        value = load_yaml(raw) if raw.strip() else ""
    except YamlProblem as err:
        raise PathError(f"{path}: value {raw[:60]!r} is not valid YAML ({err})") from None
    return path, value


def split_path(path: str) -> list[tuple[str, bool]]:
    """Tokens of *path* as ``(text, bracketed)``; raises on empty segments."""
    tokens: list[tuple[str, bool]] = []
    pos = 0
    for m in _TOKEN.finditer(path):
        gap = path[pos:m.start()]
        if gap not in ("", ".") or (gap == "." and pos == 0):
            raise PathError(f"{path}: malformed path near {path[pos:]!r}")
        bracket, plain = m.group(1), m.group(2)
        tokens.append((bracket.strip().strip("'\""), True) if bracket is not None else (plain, False))
        pos = m.end()
    if pos != len(path) or not tokens:
        raise PathError(f"{path}: malformed path")
    return tokens


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _list_item(node: list, tokens: list[tuple[str, bool]], i: int, where: str) -> tuple[int, int]:
    """Index into *node* for the token(s) at *i*: returns (index, tokens consumed)."""
    text, bracketed = tokens[i]
    if re.fullmatch(r"-?\d+", text):
        k = int(text)
        if not -len(node) <= k < len(node):
            raise PathError(f"{where}: index {k} is out of range ({where} has {len(node)} items)")
        return k % len(node), 1
    names = [item.get("name") for item in node if isinstance(item, dict)]
    # Names may contain dots: take the longest run of plain tokens that names an item.
    stop = i + 1 if bracketed else len(tokens)
    for j in range(stop, i, -1):
        if any(b for _, b in tokens[i + 1:j]):
            continue
        candidate = ".".join(t for t, _ in tokens[i:j])
        if candidate in names:
            return names.index(candidate), j - i
    known = ", ".join(str(n) for n in names if n is not None) or "none"
    raise PathError(f"{where}: no item named {text!r} (names: {known}){_suggest(text, filter(None, names))}")


def _resolve(data: Any, path: str) -> tuple[Any, Any]:
    """The container holding the field at *path* and its key or index.

    Every step must exist already (the dumped scenario holds every field, so a
    missing key is a misspelling, not a new field).
    """
    tokens = split_path(path)
    node, where, i = data, "", 0
    while True:
        text = tokens[i][0]
        if isinstance(node, dict):
            if text not in node:
                fields = ", ".join(node)
                raise PathError(f"{where or 'the scenario'} has no field {text!r}{_suggest(text, node)} "
                                f"(fields: {fields})")
            key, used = text, 1
            here = f"{where}.{key}" if where else key
        elif isinstance(node, list):
            key, used = _list_item(node, tokens, i, where)
            here = f"{where}[{key}]"
        elif node is None:
            raise PathError(f"{where} is not set, so it has no field {text!r} yet; set it as a whole, "
                            f"e.g. {where}={{{text}: ...}} with every field it needs")
        else:
            raise PathError(f"{where} is a single value ({node!r}); it has no field {text!r}")
        i += used
        if i == len(tokens):
            return node, key
        node, where = node[key], here


def get_path(data: Any, path: str) -> Any:
    """The value at *path* in nested dicts/lists (e.g. a dumped scenario)."""
    node, key = _resolve(data, path)
    return node[key]


def set_path(data: Any, path: str, value: Any) -> None:
    """Set the existing field at *path* in nested dicts/lists *data*, in place."""
    node, key = _resolve(data, path)
    node[key] = value


def apply_overrides(scenario: Scenario, assignments: Mapping[str, Any] | Iterable[tuple[str, Any]],
                    source: str = "--set") -> Scenario:
    """A new scenario with each ``path -> value`` applied, validated like a file.

    Raises :class:`ScenarioError` naming *source*, the path and the problem.
    """
    items = list(assignments.items()) if isinstance(assignments, Mapping) else list(assignments)
    if not items:
        return scenario
    data = copy.deepcopy(scenario.model_dump())
    problems = []
    for path, value in items:
        try:
            set_path(data, path, value)
        except PathError as err:
            problems.append(f"{path}={_short(value)}: {err}")
    if problems:
        raise ScenarioError(source, problems)
    return parse_scenario(data, f"{source} ({', '.join(f'{p}={_short(v)}' for p, v in items)})")


def parse_assignments(texts: Iterable[str], source: str = "--set") -> list[tuple[str, Any]]:
    """Parse several ``PATH=VALUE`` strings, collecting every problem in one error."""
    out, problems = [], []
    for t in texts:
        try:
            out.append(parse_assignment(t))
        except PathError as err:
            problems.append(str(err))
    if problems:
        raise ScenarioError(source, problems)
    return out


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=True).strip()
    text = text.removesuffix("\n...").strip()
    return text if len(text) <= 40 else text[:37] + "..."
