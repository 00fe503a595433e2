"""Reading YAML safely: no code runs, no key is given twice, and no document is big enough — in bytes,
in nesting, or once its aliases are expanded — to exhaust memory or time before it is validated."""
from __future__ import annotations

from typing import Any

import yaml

MAX_BYTES = 5_000_000
"""A scenario or batch file is a few kilobytes; anything past this is not one."""
MAX_ITEMS = 1_000_000
"""Values in a document with every alias expanded (a 'billion laughs' file expands to billions)."""


class YamlProblem(ValueError):
    """What is wrong with a YAML text, in words (with line and column where known)."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """The safe loader, refusing a key given twice in one mapping (YAML would keep the last silently)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # "<<: *anchor": merged keys may be overridden, that is what merging is for
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice in one mapping (YAML would keep the last)",
                    key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _expanded_size(value: Any, limit: int) -> int:
    """Values in *value* counting a shared (aliased) value each time it appears; stops past *limit*."""
    memo: dict[int, int] = {}

    def size(v: Any) -> int:
        if not isinstance(v, (dict, list)):
            return 1
        key = id(v)
        if key not in memo:
            children = v.items() if isinstance(v, dict) else enumerate(v)
            total = 1
            for _, child in children:
                total += size(child)
                if total > limit:
                    break
            memo[key] = total
        return memo[key]

    return size(value)


def load_yaml(text: str) -> Any:
    """The document in *text*; raises :class:`YamlProblem` saying what is wrong."""
    if len(text) > MAX_BYTES:
        raise YamlProblem(f"{len(text):,} characters; a scenario is a few thousand (at most {MAX_BYTES:,})")
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise YamlProblem("nested too deeply") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise YamlProblem(f"{where}not valid YAML: {problem}") from None
    try:
        too_big = _expanded_size(data, MAX_ITEMS) > MAX_ITEMS
    except RecursionError:
        raise YamlProblem("nested too deeply") from None
    if too_big:
        raise YamlProblem(f"more than {MAX_ITEMS:,} values once its aliases (*name) are expanded; "
                          "not a scenario")
    return data
