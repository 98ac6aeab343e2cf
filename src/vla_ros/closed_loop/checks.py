"""The closed loop's checks: what a policy that does the task must show, and the guards that must hold.

Each check is True (passed), False (missed) or None (a condition it needs was not run). The policy's
checks, on unseen scenes, with the thresholds of :data:`THRESHOLDS` (issue 17 of this project):

* ``trained_success``: every instruction's success rate at least ``trained_success_min``;
* ``baseline_low``: the random (untrained start) policy's success at most ``baseline_max``;
* ``follows_instruction``: in at least ``follows_instruction_min`` of the scenes the cube reached changes
  with the instruction (``trained`` reached the named cube, ``instructions_exchanged`` the other one);
* ``uses_vision``: success drops by at least ``vision_drop_min`` with the images frozen (``blind``) or
  the cameras swapped but allowed (``cameras_swapped_allowed``), the larger drop counting;
* ``other_cube_low``: the trained policy reaches the cube not named in at most ``other_cube_max`` of
  the episodes;
* ``language_blind_control_fails``: the same policy given instructions that name no cube
  (``language_blind`` and ``language_blind_exchanged``) misses ``follows_instruction_min`` (else the
  check could not tell a policy that ignores language);
* ``blind_control_fails``: with frozen images some instruction's success is below
  ``trained_success_min`` (else ``trained_success`` could not tell a policy that does not look).

The guards: ``camera_swap_caught`` (the swapped ``camera_map`` refused at start-up) and
``physical_camera_swap_caught`` (swapped devices refused at every enable by what they see).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["GUARD_CHECKS", "POLICY_CHECKS", "THRESHOLDS", "closed_loop_checks", "measures"]

THRESHOLDS = {"trained_success_min": 0.8, "baseline_max": 0.1, "follows_instruction_min": 0.7,
              "vision_drop_min": 0.4, "other_cube_max": 0.1}
"""The policy checks' thresholds (rates in 0..1; from the goals of this project's issue 17)."""
POLICY_CHECKS = ("trained_success", "baseline_low", "follows_instruction", "uses_vision", "other_cube_low",
                 "language_blind_control_fails", "blind_control_fails")
GUARD_CHECKS = ("camera_swap_caught", "physical_camera_swap_caught")
CAMERA_CHECK_MARKERS = ("camera check:", "looks like")
"""In an enable refusal by the camera check for a live camera that looks like another training camera
(:mod:`vla_ros.policy.node`, :func:`vla_ros.contract.signature.match_cameras`)."""


def _evaluated(conds: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    cond = conds.get(name)
    return cond if cond is not None and "per_task" in cond else None


def _rates(cond: Mapping[str, Any] | None) -> list[float] | None:
    return None if cond is None else [s["success_rate"] for s in cond["per_task"].values()]


def follows_rate(conds: Mapping[str, Any], given: str, exchanged: str) -> float | None:
    """Fraction of the scenes where ``given`` reached the named cube and ``exchanged`` (same scenes, the
    other instruction) reached the other one; None unless both were evaluated."""
    first, second = _evaluated(conds, given), _evaluated(conds, exchanged)
    if first is None or second is None:
        return None
    before, after = first["reached_by_episode"], second["reached_by_episode"]
    scenes = set(before) | set(after)
    flips = [k for k in scenes if before.get(k) and after.get(k) and before[k] != after[k]]
    return len(flips) / len(scenes) if scenes else 0.0


def measures(conds: Mapping[str, Any]) -> dict[str, float | None]:
    """The numbers the policy checks compare with :data:`THRESHOLDS` (None: not measured)."""
    trained = _evaluated(conds, "trained")
    trained_rate = None if trained is None else trained["success_rate"]
    drops = [trained_rate - c["success_rate"] for c in (_evaluated(conds, n) for n in
             ("blind", "cameras_swapped_allowed")) if c is not None and trained_rate is not None]
    rates, blind = _rates(trained), _rates(_evaluated(conds, "blind"))
    baseline = _evaluated(conds, "random_baseline")
    return {
        "trained_success_min_rate": min(rates) if rates else None,
        "baseline_rate": None if baseline is None else baseline["success_rate"],
        "follows_instruction_rate": follows_rate(conds, "trained", "instructions_exchanged"),
        "vision_drop": max(drops) if drops else None,
        "other_cube_rate": None if trained is None else trained["other_reached_rate"],
        "language_blind_follows_rate": follows_rate(conds, "language_blind", "language_blind_exchanged"),
        "blind_success_min_rate": min(blind) if blind else None,
    }


def _check(conds: Mapping[str, Any], needs: tuple[str, ...], value: float | None,
           passes: Callable[[float], bool]) -> bool | None:
    """None when a condition in ``needs`` was not run; False when one ran but measured nothing (failed,
    refused, incomplete); else ``passes(value)``."""
    if any(name not in conds for name in needs):
        return None
    return False if value is None else passes(value)


def closed_loop_checks(conds: Mapping[str, Any]) -> dict[str, bool | None]:
    """Every check of the module docstring, from the report's conditions."""
    m, t = measures(conds), THRESHOLDS
    swap = conds.get("cameras_swapped")
    return {
        "trained_success": _check(conds, ("trained",), m["trained_success_min_rate"],
                                  lambda v: v >= t["trained_success_min"]),
        "baseline_low": _check(conds, ("random_baseline",), m["baseline_rate"],
                               lambda v: v <= t["baseline_max"]),
        "follows_instruction": _check(conds, ("trained", "instructions_exchanged"),
                                      m["follows_instruction_rate"],
                                      lambda v: v >= t["follows_instruction_min"]),
        "uses_vision": None if not {"blind", "cameras_swapped_allowed"} & set(conds) else _check(
            conds, ("trained",), m["vision_drop"], lambda v: v >= t["vision_drop_min"]),
        "other_cube_low": _check(conds, ("trained",), m["other_cube_rate"],
                                 lambda v: v <= t["other_cube_max"]),
        "language_blind_control_fails": _check(conds, ("language_blind", "language_blind_exchanged"),
                                               m["language_blind_follows_rate"],
                                               lambda v: v < t["follows_instruction_min"]),
        "blind_control_fails": _check(conds, ("blind",), m["blind_success_min_rate"],
                                      lambda v: v < t["trained_success_min"]),
        "camera_swap_caught": swap.get("status") == "refused_by_guard" if swap else None,
        "physical_camera_swap_caught": _camera_check_refused(conds.get("cameras_swapped_physically")),
    }


def _camera_check_refused(cond: Mapping[str, Any] | None) -> bool | None:
    """Refused at every enable by the camera check, for a mismatch (None: the condition was not run)."""
    if cond is None:
        return None
    return cond.get("status") == "refused_by_guard" and cond.get("refused_at") == "enable" and all(
        all(marker in r for marker in CAMERA_CHECK_MARKERS) for r in cond["refusals"])
