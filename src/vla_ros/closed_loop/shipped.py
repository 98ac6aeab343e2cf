"""What a shipped closed-loop policy carries besides the checkpoint, and the scene it was trained in.

Pure Python (no numpy, yaml or lerobot): the launch graph reads it.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["SHIPPED_REPORT", "report_summary", "trained_scene"]

SHIPPED_REPORT = "closed_loop_report.json"
"""The run's ``report.json`` as shipped beside the checkpoint (its ``config`` names the scene)."""

SCENE_KEYS = ("cube_layout", "swap_slots")
"""The closed-loop settings that define the simulated scene (launch arguments of the same names)."""


def trained_scene(policy_dir: str | Path) -> dict[str, str]:
    """The scene a shipped closed-loop policy was trained in, as launch arguments
    (``{"cube_layout": "slots", "swap_slots": "true"}``); ``{}`` for any other checkpoint."""
    path = Path(policy_dir) / SHIPPED_REPORT
    if not path.is_file():
        return {}
    config = json.loads(path.read_text()).get("config", {})
    return {k: str(config[k]).lower() for k in SCENE_KEYS if k in config}


def report_summary(policy_dir: str | Path) -> str:
    """One line of what a shipped policy's closed-loop report measured: success per instruction in the
    ``trained`` condition and the checks it missed (``""`` for any other checkpoint)::

        so101_reach_cubes: closed loop, trained: 'reach the red cube' 9/10, 'reach the blue cube'
        10/10; checks missed: uses_vision
    """
    path = Path(policy_dir) / SHIPPED_REPORT
    if not path.is_file():
        return ""
    report = json.loads(path.read_text())
    per_task = report.get("conditions", {}).get("trained", {}).get("per_task", {})
    rates = ", ".join(f"{task!r} {s['successes']}/{s['episodes']}" for task, s in per_task.items())
    missed = [name for name, ok in report.get("checks", {}).items() if ok is False]
    return (f"{Path(policy_dir).name}: closed loop, trained: {rates or 'not evaluated'}; checks missed: "
            f"{', '.join(missed) or 'none'}")
