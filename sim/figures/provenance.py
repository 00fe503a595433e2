"""Where a results folder's figures come from (tool version, scenario, its fingerprint, seed,
replications), read from its ``metadata.json`` and ``plan.json`` without matplotlib: the process
that hands figures to workers needs it, not the drawing."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def folder_provenance(results_dir: Path) -> dict[str, str]:
    """Tool and version, scenario, scenario fingerprint(s), seed and replications of a results folder
    (from its ``metadata.json`` and ``plan.json``; a batch's scenario folder borrows its batch's)."""
    meta, plan = _json(results_dir, "metadata.json"), _json(results_dir, "plan.json")
    if not meta and results_dir.parent.name == "scenarios":
        meta, plan = _json(results_dir.parent.parent, "metadata.json"), _json(results_dir.parent.parent, "plan.json")
    out: dict[str, str] = {"tool": f"{meta.get('tool', 'pharmasim')} {meta.get('version', '')}".strip()}
    scenario = meta.get("scenario") or meta.get("name") or plan.get("name")
    if scenario:
        out["scenario"] = str(scenario)
    points = plan.get("points") or []
    own = [p for p in points if p.get("id") == results_dir.name]
    hashes = [f"{p['id']}={p['hash']}" if len(points) > 1 and not own else p["hash"]
              for p in (own or points) if p.get("hash")]
    if hashes:
        out["scenario_hash"] = ", ".join(hashes[:20]) + (", ..." if len(hashes) > 20 else "")
    for key in ("seed", "replications"):
        if meta.get(key, plan.get(key)) is not None:
            out[key] = str(meta.get(key, plan.get(key)))
    return out


def _json(folder: Path, name: str) -> dict[str, Any]:
    try:
        data = json.loads((folder / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
