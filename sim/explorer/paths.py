"""Which scenario files the page may open: only those inside the folders the explorer was started with.

A path typed into the page is resolved (``..`` and symbolic links followed) and refused unless it lies
inside one of the allowed roots; the explorer writes only to its own temporary folder, never beside
the user's files.
"""
from __future__ import annotations

from pathlib import Path

from sim.core.errors import ScenarioError

MAX_LISTED = 200
SKIP = {".git", ".venv", "venv", "node_modules", "results", "__pycache__", ".mypy_cache"}


class Roots:
    """The allowed folders (resolved)."""

    def __init__(self, folders) -> None:
        self.folders = [Path(f).resolve() for f in dict.fromkeys(str(f) for f in folders)]

    def resolve(self, text: str) -> Path:
        """The file *text* names (relative to the first root), if it is inside a root; else a
        :class:`ScenarioError` saying which folders are allowed."""
        text = text.strip()
        if not text:
            raise ScenarioError("(no file)", ["give the path of a scenario YAML file"])
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = self.folders[0] / path
        path = path.resolve()
        if not self.inside(path):
            allowed = ", ".join(str(r) for r in self.folders)
            raise ScenarioError(text, [f"outside the folders this explorer was started with ({allowed}); "
                                       "start it from the folder that holds the file, or give the file "
                                       "as the SCENARIO argument"])
        if path.suffix.lower() not in (".yaml", ".yml"):
            raise ScenarioError(text, ["expected a scenario file ending in .yaml or .yml"])
        return path

    def inside(self, path: Path) -> bool:
        """Whether the resolved *path* lies in one of the folders."""
        return any(path.is_relative_to(root) for root in self.folders)

    def label(self, path: Path) -> str:
        """*path* as the user would type it: relative to the first root it lies in."""
        for root in self.folders:
            if path.is_relative_to(root):
                rel = path.relative_to(root)
                return rel.as_posix() if root == self.folders[0] else str(path)
        return str(path)

    def scenario_files(self, depth: int = 3) -> list[str]:
        """YAML files in the roots (a few levels down, not in results or virtual environments)."""
        out: list[str] = []

        def walk(folder: Path, level: int) -> None:
            try:
                entries = sorted(folder.iterdir())
            except OSError:
                return
            for p in entries:
                if len(out) >= MAX_LISTED:
                    return
                if p.is_dir() and not p.is_symlink() and p.name not in SKIP and not p.name.startswith(".") \
                        and level < depth:
                    walk(p, level + 1)
                elif p.is_file() and p.suffix.lower() in (".yaml", ".yml") and self.inside(p.resolve()):
                    out.append(self.label(p))

        for root in self.folders:
            walk(root, 0)
        return list(dict.fromkeys(out))
