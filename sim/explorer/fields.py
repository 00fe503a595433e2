"""The explorer's controls, generated from the scenario schema rather than listed by hand.

:func:`field_specs` walks a scenario's dumped data (plain dicts and lists, as ``--set`` overrides see
it) side by side with the pydantic model classes that validate it.  Every editable value becomes a
:class:`FieldSpec`: its path (index form ``lines[0].qc_time.mean`` — the form validation errors use —
and name form ``lines.dp-batch.qc_time.mean`` — the form ``--set`` shows), its component
(``lines: dp-batch``), the schema's description (which carries the unit), its numeric bounds and its
choices.  A distribution is expanded into its parameters; an optional section that is not set, or a
list of plain values, is one YAML control.  New fields and new kinds (a registered line kind, a new
distribution family) appear without a change here.
"""
from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Iterator, Literal, Union

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.scenario import Scenario

NUMBER, INTEGER, SWITCH, CHOICE, TEXT, YAML = "number", "integer", "switch", "choice", "text", "yaml"


@dataclass(frozen=True)
class FieldSpec:
    """One control: where its value lives, what it means, and what it may be."""

    path: str                       # index form, as validation errors name it: lines[0].qc_time.mean
    set_path: str                   # name form, for --set: lines.dp-batch.qc_time.mean
    component: str                  # "lines: dp-batch", "packaging", "scenario"
    label: str                      # "qc_time · mean"
    description: str                # the schema's description (with the unit)
    kind: str                       # number | integer | switch | choice | text | yaml
    value: Any
    minimum: float | None = None
    maximum: float | None = None
    exclusive_min: bool = False
    exclusive_max: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False          # None is allowed (an optional section or value)

    @property
    def range_text(self) -> str:
        """The valid range in words, e.g. ``> 0``, ``0 – 1``, ``≥ 1``."""
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None:
            return f"{lo:g} – {hi:g}" + (" (excl.)" if self.exclusive_min or self.exclusive_max else "")
        if lo is not None:
            return f"{'>' if self.exclusive_min else '≥'} {lo:g}"
        if hi is not None:
            return f"{'<' if self.exclusive_max else '≤'} {hi:g}"
        return ""


def _flatten(annotation: Any) -> list[Any]:
    """The alternatives of a type: Annotated, Optional and Union unwrapped."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _flatten(typing.get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [a for arg in typing.get_args(annotation) for a in _flatten(arg)]
    return [annotation]


def _metadata(annotation: Any, info: FieldInfo | None) -> list[Any]:
    """Constraint objects (Gt, Ge, Le, Lt ...) of a field and of the aliases in its type."""
    out = list(info.metadata) if info is not None else []
    stack = [annotation]
    while stack:
        a = stack.pop()
        origin = typing.get_origin(a)
        if origin is Annotated:
            base, *meta = typing.get_args(a)
            for m in meta:
                out += list(getattr(m, "metadata", [])) if isinstance(m, FieldInfo) else [m]
            stack.append(base)
        elif origin is Union or origin is types.UnionType:
            stack += [x for x in typing.get_args(a) if x is not type(None)]
    return out


def _bounds(meta: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in meta:
        for attr, key, excl in (("gt", "minimum", True), ("ge", "minimum", False),
                                ("lt", "maximum", True), ("le", "maximum", False)):
            v = getattr(m, attr, None)
            if isinstance(m, (at.Gt, at.Ge, at.Lt, at.Le, at.Interval)) and v is not None and key not in out:
                out[key] = float(v)
                out["exclusive_" + key[:3]] = excl
    return out


def _model_for(alternatives: list[Any], value: dict) -> type[BaseModel] | None:
    """The model class among *alternatives* that *value* (a dumped mapping) is an instance of: the one
    whose literal fields (``kind: batch``, ``dist: lognormal``) match and that has every key."""
    models = [a for a in alternatives if isinstance(a, type) and issubclass(a, BaseModel)]
    best = None
    for m in models:
        fields = m.model_fields
        if not set(value) <= set(fields):
            continue
        literal_ok = True
        for name, f in fields.items():
            choices = _literal_choices(f.annotation)
            if choices and name in value and value[name] not in choices:
                literal_ok = False
        if literal_ok:
            best = best or m
    return best


def _literal_choices(annotation: Any) -> tuple[Any, ...]:
    return tuple(c for a in _flatten(annotation) if typing.get_origin(a) is Literal for c in typing.get_args(a))


def _item_type(annotation: Any, container: type) -> Any:
    """The item (list) or value (dict) type of a list/dict annotation among its alternatives."""
    for a in _flatten(annotation):
        if typing.get_origin(a) is container:
            args = typing.get_args(a)
            return args[-1] if args else Any
    return Any


def _is_distribution(model: type[BaseModel] | None) -> bool:
    return model is not None and "dist" in model.model_fields


def field_specs(data: dict, root: type[BaseModel] = Scenario) -> list[FieldSpec]:
    """Every editable value of *data* (a dumped scenario), in the data's order."""
    return list(_walk(data, root, "", "", ("scenario", ""), "", None))


def _walk(value: Any, annotation: Any, path: str, set_path: str, component: tuple[str, str], description: str,
          info: FieldInfo | None) -> Iterator[FieldSpec]:
    """*component*: its label and the path its fields' labels are relative to."""
    alts = _flatten(annotation)
    optional = type(None) in alts
    if isinstance(value, dict):
        model = _model_for(alts, value)
        if model is not None:
            for name, f in model.model_fields.items():
                dist = _is_distribution(model)
                if name not in value or (dist and (name == "dist" or value[name] is None)):
                    continue
                p, s = (f"{path}.{name}", f"{set_path}.{name}") if path else (name, name)
                desc = f.description or ""
                if dist:  # a parameter: the unit is the distribution field's
                    desc = f"{value.get('dist')} distribution, {description}" if description else value.get("dist")
                own = (name, p) if component[0] == "scenario" and isinstance(value[name], dict) else component
                yield from _walk(value[name], f.annotation, p, s, own, desc, f)
            return
        item = _item_type(annotation, dict)
        for key, v in value.items():
            yield from _walk(v, item, f"{path}.{key}", f"{set_path}.{key}", component, description, None)
        return
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        item = _item_type(annotation, list)
        for i, v in enumerate(value):
            name = v.get("name")
            s = f"{set_path}.{name}" if isinstance(name, str) and "." not in name else f"{set_path}[{i}]"
            own = component
            if isinstance(name, str):  # a named item is a component of its own: "lines: dp-batch"
                field = path.rsplit("]", 1)[-1].lstrip(".").rsplit(".", 1)[-1]
                own = (f"{field}: {name}" if component[0] == "scenario" else f"{component[0]} · {field}: {name}",
                       f"{path}[{i}]")
            yield from _walk(v, item, f"{path}[{i}]", s, own, description, None)
        return
    yield _leaf(value, alts, path, set_path, component, description, info, optional)


def _leaf(value: Any, alts: list[Any], path: str, set_path: str, component: tuple[str, str],
          description: str, info: FieldInfo | None, optional: bool) -> FieldSpec:
    label = _label(path[len(component[1]):] if component[1] else path)
    choices = _literal_choices(typing.Union[tuple(alts)] if len(alts) > 1 else alts[0]) if alts else ()
    common = dict(path=path, set_path=set_path, component=component[0], label=label, description=description,
                  optional=optional)
    if choices and all(isinstance(c, str) for c in choices) and (value in choices or value is None):
        return FieldSpec(kind=CHOICE, value=value, choices=tuple(choices), **common)
    if isinstance(value, bool):
        return FieldSpec(kind=SWITCH, value=value, **common)
    if isinstance(value, (int, float)):
        bounds = _bounds(_metadata(info.annotation if info else alts[0], info))
        integer = isinstance(value, int) and int in alts
        return FieldSpec(kind=INTEGER if integer else NUMBER, value=value, **common, **bounds)
    if isinstance(value, str):
        return FieldSpec(kind=TEXT, value=value, **common)
    return FieldSpec(kind=YAML, value=value, **common)


def _label(rel: str) -> str:
    """A path relative to its component: ``.qc_time.mean`` -> ``qc_time · mean``, ``visits[2].day`` ->
    ``visits[2] · day``."""
    return " · ".join(p for p in rel.strip(".").split(".") if p)


def by_component(specs: list[FieldSpec]) -> dict[str, list[FieldSpec]]:
    """Specs grouped by component, in order of first appearance."""
    out: dict[str, list[FieldSpec]] = {}
    for s in specs:
        out.setdefault(s.component, []).append(s)
    return out
