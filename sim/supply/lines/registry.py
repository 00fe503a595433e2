"""Which runtime class runs each kind of line.

A new kind of line is a schema class (a subclass of the line schema with ``kind: Literal["..."]`` and
its product class: :mod:`sim.scenario.supply`), a runtime class (a :class:`LineNode` subclass that
makes one campaign), and one :func:`register_line_kind` call — from the user's own module if they
like; nothing else in the tree changes.
"""
from __future__ import annotations

from sim.scenario.supply import LINES, BatchLine, ContinuousLine
from sim.supply.lines.base import LineNode
from sim.supply.lines.batch import BatchLineNode
from sim.supply.lines.continuous import ContinuousLineNode

LINE_KINDS: dict[type, type[LineNode]] = {BatchLine: BatchLineNode, ContinuousLine: ContinuousLineNode}
"""Registry: schema class of a line -> runtime line class."""


def register_line_kind(spec_cls: type, node_cls: type[LineNode]) -> None:
    """Make a new kind of line available to scenario files (schema) and to the model (runtime)."""
    LINES.register(spec_cls)
    LINE_KINDS[spec_cls] = node_cls


def unregister_line_kind(spec_cls: type) -> None:
    """Undo :func:`register_line_kind` (tests register toy kinds)."""
    LINES.unregister(LINES.kind_of(spec_cls))
    del LINE_KINDS[spec_cls]


def line_node(spec) -> type[LineNode]:
    """The runtime class of a line spec."""
    return LINE_KINDS[type(spec)]
