"""``report.json`` (schema :data:`SCHEMA`, version :data:`SCHEMA_VERSION`) and the stdout summary.

Layout of ``report.json``::

    {"schema": "vla_ros.diagnose.report", "schema_version": 1, "created": ISO-8601 UTC,
     "inputs": {"train", "deploy", "checkpoint", "images"},
     "training" / "deployment": {"source", "episodes", "frames", "fps", "units", "names", "tasks",
                                 "cameras"},
     "summary": {"worst_severity", "counts": {severity: n}},
     "findings": [{"check", "severity", "message", "joint", "camera", "score", "data"}, ...]  ranked,
     "checks": {check name: its statistics},
     "notes": [what loading left out], "plots": [PNG file names]}

Joint values are in the training dataset's units; NaN/inf are written as null.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import numpy as np

from vla_ros.diagnose.checks import CheckResult
from vla_ros.diagnose.findings import SEVERITIES, Finding, worst_severity
from vla_ros.diagnose.sources import Recording

__all__ = ["SCHEMA", "SCHEMA_VERSION", "build_report", "json_safe", "summary_text"]

SCHEMA = "vla_ros.diagnose.report"
SCHEMA_VERSION = 1


def json_safe(value: Any) -> Any:
    """``value`` with NumPy scalars/arrays as Python values, tuples as lists and NaN/inf as None."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _side(rec: Recording) -> dict[str, Any]:
    return {"source": rec.label, "episodes": len(rec.episodes), "frames": rec.frames, "fps": rec.fps,
            "units": rec.units, "names": rec.names, "tasks": sorted({e.task for e in rec.episodes}),
            "cameras": {c: list(s) for c, s in rec.cameras.items()}}


def build_report(train: Recording, deploy: Recording, results: Sequence[CheckResult],
                 findings: Sequence[Finding], inputs: dict[str, Any], plots: Sequence[str]) -> dict[str, Any]:
    """The ``report.json`` object (see the module docstring); ``findings`` already ranked."""
    counts = {s: sum(f.severity == s for f in findings) for s in SEVERITIES}
    return json_safe({
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "inputs": inputs, "training": _side(train), "deployment": _side(deploy),
        "summary": {"worst_severity": worst_severity(findings), "counts": counts},
        "findings": [f.to_dict() for f in findings],
        "checks": {r.name: r.stats for r in results},
        "notes": [*train.notes, *deploy.notes], "plots": list(plots),
    })


def summary_text(report: dict[str, Any], out_dir: str, limit: int = 10) -> str:
    """A few lines for stdout: the two sides, the counts, the top ``limit`` findings, where files are."""
    t, d, s = report["training"], report["deployment"], report["summary"]
    lines = [f"training:   {t['episodes']} episodes, {t['frames']} frames ({t['source']})",
             f"deployment: {d['episodes']} episodes, {d['frames']} frames ({d['source']})",
             "findings: " + ", ".join(f"{n} {sev}" for sev, n in s["counts"].items())]
    shown = [f for f in report["findings"] if f["severity"] != "info"][:limit] or report["findings"][:limit]
    for i, f in enumerate(shown, 1):
        lines.append(f"{i:>2}. [{f['severity']}] {f['check']}: {f['message']}")
    lines.append(f"report: {out_dir}/report.json, plots: {', '.join(report['plots']) or 'none'}")
    return "\n".join(lines)
