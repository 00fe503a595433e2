"""Which runtime class runs each kind of line.

A new kind of line is a schema class (a subclass of the line schema with ``kind: Literal["..."]`` and
its product class: :mod:`sim.scenario.supply`), a runtime class (a :class:`LineNode` subclass that
makes one campaign), and one :func:`register_line_kind` call — from the user's own module if they
like; nothing else in the tree changes.
"""
from __future__ import annotations

from sim.scenario.kinds import Registry
from sim.scenario.supply import LINES, BatchLine, ContinuousLine
from sim.supply.lines.batch import BatchLineNode
from sim.supply.lines.continuous import ContinuousLineNode

LINE_KINDS = Registry(LINES, {BatchLine: BatchLineNode, ContinuousLine: ContinuousLineNode})
"""Registry: schema class of a line -> runtime line class."""

register_line_kind = LINE_KINDS.register
"""Make a new kind of line available to scenario files (schema) and to the model (runtime)."""
unregister_line_kind = LINE_KINDS.unregister
line_node = LINE_KINDS.of
