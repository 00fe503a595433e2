"""The layout is the architecture: each layer imports only the layers below it, no module imports in a
circle (lazy and TYPE_CHECKING imports included), and no module outgrows one concern."""
from __future__ import annotations

import ast
from pathlib import Path

SIM = Path(__file__).resolve().parents[1] / "sim"

# Which packages each layer may import.  Data flows one way: scenario -> resolved scenario -> model
# -> collectors -> tables -> figures / report -> the API -> the CLI.
ALLOWED = {
    "core": {"core"},
    "scenario": {"core", "scenario"},
    "supply": {"core", "scenario", "supply"},
    "clinical": {"core", "scenario", "clinical"},
    "metrics": set(),
    "model": {"core", "scenario", "supply", "clinical", "metrics"},
    "experiments": {"core", "scenario", "model", "metrics", "experiments"},
    "figures": {"core", "experiments", "metrics", "figures"},
    "studies": {"core", "scenario", "experiments", "figures", "studies"},
    "report": {"core", "experiments", "figures", "metrics", "report"},
    "optimise": {"core", "scenario", "experiments", "figures", "metrics", "optimise"},
    "api": {"core", "scenario", "experiments", "figures", "report", "metrics", "optimise", "api"},
    "explorer": {"core", "scenario", "experiments", "figures", "metrics", "api", "explorer"},
    "cli": {"core", "scenario", "experiments", "figures", "studies", "metrics", "report", "api", "explorer", "optimise",
            "cli"},
    "data": set(),
    "__main__": {"cli"},
}


def _module(path: Path) -> str:
    rel = path.relative_to(SIM.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every ``sim`` module *path* imports, anywhere in the file."""
    out: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "sim"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sim":
            for a in node.names:  # "from sim.x import y" may import the module sim.x.y
                sub = f"{node.module}.{a.name}"
                out.add(sub if (SIM.parent / (sub.replace(".", "/") + ".py")).exists()
                        or (SIM.parent / sub.replace(".", "/")).is_dir() else node.module)
    return out


def _graph() -> dict[str, set[str]]:
    mods = {_module(p): p for p in SIM.rglob("*.py")}
    return {m: {i for i in _imports(p) if i in mods and i != m} for m, p in mods.items()}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "sim"


def test_layers_import_only_downwards():
    bad = []
    for m, deps in sorted(_graph().items()):
        layer = _layer(m)
        if layer == "sim":
            continue
        allowed = ALLOWED[layer]
        bad += [f"{m} imports {d}" for d in sorted(deps) if _layer(d) not in allowed and _layer(d) != "sim"]
    assert bad == []


def test_no_import_cycles():
    graph = _graph()
    cycles = []
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycles.append(" -> ".join(stack[stack.index(d):] + [d]) if d in stack else f"{m} -> {d}")
            elif d not in state:
                visit(d, stack + [d])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_modules_stay_small():
    big = {_module(p): n for p in SIM.rglob("*.py") if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert big == {}


def test_no_kind_switch_by_string():
    """A kind of component (line, raw-material policy, plan, resupply policy) is a class: its behaviour
    lives in its schema and runtime classes, not in string tests or ``hasattr`` checks elsewhere."""
    found = []
    for p in [*(SIM / "scenario").rglob("*.py"), *(SIM / "supply").rglob("*.py"), *(SIM / "clinical").rglob("*.py"),
              SIM / "model.py"]:
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            if any(s in code for s in ("kind ==", "kind !=", "policy ==", "policy !=", "hasattr(")):
                found.append(f"{_module(p)}:{i}: {line.strip()}")
    assert found == []
