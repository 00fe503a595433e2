"""Controls for :class:`~sim.explorer.fields.FieldSpec`s: one NiceGUI input per field, its unit and range
as a hint, and the schema's message shown beside it when the value is wrong."""
from __future__ import annotations

from typing import Any, Callable

from nicegui import ui

from sim.explorer.fields import CHOICE, INTEGER, NUMBER, SWITCH, TEXT, YAML, FieldSpec
from sim.scenario.yamlio import YamlProblem, load_yaml


def hint(spec: FieldSpec) -> str:
    parts = [spec.description] if spec.description else []
    if spec.range_text:
        parts.append(f"valid: {spec.range_text}")
    if spec.optional and spec.kind == YAML:
        parts.append("empty: not set")
    return "; ".join(parts)


def yaml_text(value: Any) -> str:
    if value is None:
        return ""
    import yaml
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()


def parse(spec: FieldSpec, raw: Any) -> Any:
    """The control's raw value as the scenario's value (YAML text read safely; whole numbers of an
    integer field as int).  Raises :class:`YamlProblem` for text that is not YAML."""
    if spec.kind in (NUMBER, INTEGER):
        if raw is None or raw == "":
            return None
        if spec.kind == INTEGER and isinstance(raw, float) and raw.is_integer():
            return int(raw)
        return raw
    if spec.kind == YAML:
        text = (raw or "").strip()
        return None if not text else load_yaml(text)
    return raw


class Controls:
    """The controls of one tab, by field path; *on_change(path, value)* gets every valid-YAML edit."""

    def __init__(self, on_change: Callable[[str, Any], None]) -> None:
        self.on_change = on_change
        self.elements: dict[str, Any] = {}
        self.specs: dict[str, FieldSpec] = {}

    def clear(self) -> None:
        self.elements.clear()
        self.specs.clear()

    def add(self, spec: FieldSpec, label: str | None = None):
        """The control of *spec*, with its description (unit) and valid range written under it."""
        label = label or spec.label
        handler = (lambda e, s=spec: self._changed(s, e.value))
        kind = spec.kind
        with ui.column().classes("w-full gap-0 q-mb-xs"):
            if kind in (NUMBER, INTEGER):
                el = ui.number(label, value=spec.value, on_change=handler)
            elif kind == SWITCH:
                el = ui.switch(label, value=bool(spec.value), on_change=handler)
            elif kind == CHOICE:
                options = list(spec.choices) + ([None] if spec.optional and None not in spec.choices else [])
                el = ui.select(options, label=label, value=spec.value, on_change=handler)
            elif kind == TEXT:
                el = ui.input(label, value=spec.value, on_change=handler)
            else:
                el = ui.input(label, value=yaml_text(spec.value), on_change=handler)
                el.props["placeholder"] = "not set" if spec.value is None else ""
            if hasattr(el, "without_auto_validation"):
                el.without_auto_validation()  # the errors are the schema's, set by show_problems
            if kind != SWITCH:
                el.props["dense"] = True
                el.classes("w-full")
            text = hint(spec)
            if text:
                ui.label(text).classes("text-[11px] leading-tight text-gray-600")
        el.props["data-path"] = spec.path
        el.mark(f"field:{spec.path}")
        self.elements[spec.path] = el
        self.specs[spec.path] = spec
        return el

    def _changed(self, spec: FieldSpec, raw: Any) -> None:
        el = self.elements.get(spec.path)
        try:
            value = parse(spec, raw)
        except YamlProblem as err:
            if el is not None:
                el.error = f"not valid YAML: {err}"
                el.update()
            return
        self.on_change(spec.path, value)

    def show_problems(self, by_field: dict[str, list[str]]) -> None:
        """The schema's message beside each field it names; cleared elsewhere."""
        for path, el in self.elements.items():
            problems = by_field.get(path)
            message = "; ".join(problems) if problems else None
            if isinstance(el, ui.switch):
                continue
            if el.error != message:
                el.error = message
                el.update()
