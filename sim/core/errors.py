"""Errors the user can act on; the CLI prints them without a traceback."""
from __future__ import annotations


class ScenarioError(Exception):
    """A scenario file is wrong: names the file and each problem's field path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: invalid scenario ({len(problems)} problem{'s' if len(problems) != 1 else ''})"]
        lines += [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


class ConservationError(RuntimeError):
    """Material or patients were created or destroyed without a record: a model bug."""
