"""The camera-identity guard of ``smolvla_policy``: do the mapped cameras see what training's cameras saw?

Wraps :func:`vla_ros.contract.signature.match_cameras` for the policy node (ROS-agnostic): the
contract's signatures are keyed by dataset camera (``observation.images.front``) and re-keyed to the
policy features the cameras feed (``observation.images.camera1``), so a live camera is compared with
the feature it is mapped to. Checked before the arm moves (at enable, after the reset) and every
``camera_check_period_s`` while running; while running, a mismatch must be seen
:data:`RUNNING_CONFIRMATIONS` checks in a row (a hand or an arm passing in front of one camera for a
moment does not stop the policy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from vla_ros.contract import DeploymentContract
from vla_ros.contract.signature import CameraSignature, IdentityReport, match_cameras
from vla_ros.errors import ConfigError
from vla_ros.policy.guards import IMAGE_PREFIX, CameraPlan, image_key

__all__ = ["RUNNING_CONFIRMATIONS", "CameraIdentityGuard", "Verdict"]

RUNNING_CONFIRMATIONS = 2
"""Consecutive mismatching checks while running before the arm is held."""


@dataclass(frozen=True)
class Verdict:
    """What a check means for the node.

    Attributes:
        refuse: stop (refuse the enable, or hold while running).
        warn: log ``message`` as a warning (a mismatch under ``camera_check:=warn``, or nothing to compare).
        message: the report line, with the scores.
        report: the full report, or None when there was nothing to check.
    """

    refuse: bool
    warn: bool
    message: str
    report: IdentityReport | None = None


class CameraIdentityGuard:
    """The guard for one deployment.

    Args:
        contract: the checkpoint's training facts (signatures by dataset camera key).
        plan: the deployment's cameras (ROS camera -> policy feature).
        mode: ``refuse``, ``warn`` or ``off``.

    Raises:
        ConfigError: a stored signature is malformed or of another method.
    """

    def __init__(self, contract: DeploymentContract, plan: CameraPlan, mode: str) -> None:
        self.mode = mode
        self.source = contract.source("camera_signatures")
        self.signatures: dict[str, CameraSignature] = {}
        self.labels: dict[str, str] = {}
        for dataset_key, data in contract.camera_signatures.items():
            policy_key = image_key(contract.camera_map.get(dataset_key, dataset_key))
            try:
                self.signatures[policy_key] = CameraSignature.from_dict(data)
            except ConfigError as err:
                raise ConfigError(f"camera signature of {dataset_key} ({self.source}): {err}") from err
            name = dataset_key.removeprefix(IMAGE_PREFIX)
            self.labels[policy_key] = name if name != policy_key.removeprefix(IMAGE_PREFIX) else ""
        self.assigned = {cam: key for cam, key in plan.cameras.items() if key in self.signatures}
        self._strikes = 0

    @property
    def active(self) -> bool:
        """There is something to check (mode not off, at least one mapped camera with a signature)."""
        return self.mode != "off" and bool(self.assigned)

    def describe(self) -> str:
        """One line for the start-up log: what is compared, and where the signatures came from."""
        if self.mode == "off":
            return "camera identity check off (camera_check:=off)"
        if not self.assigned:
            return f"camera identity cannot be checked: no training camera signatures ({self.source})"
        return (f"camera identity ({self.mode}): {', '.join(f'{c}~{k}' for c, k in self.assigned.items())} "
                f"against signatures from {self.source}")

    def check(self, frames: Mapping[str, Sequence[np.ndarray]], *, running: bool = False) -> Verdict:
        """Check live frames (ROS camera -> recent ``(H, W, 3)`` uint8 RGB frames).

        Args:
            frames: the latest frames of the mapped cameras.
            running: a periodic check while running (needs :data:`RUNNING_CONFIRMATIONS` in a row).
        """
        if not self.active:
            return Verdict(False, self.mode != "off", self.describe())
        report = match_cameras(frames, self.assigned, self.signatures, labels=self.labels)
        if report.ok:
            self._strikes = 0
            return Verdict(False, False, report.message, report)
        self._strikes += 1
        confirmed = not running or self._strikes >= RUNNING_CONFIRMATIONS
        refuse = self.mode == "refuse" and confirmed
        return Verdict(refuse, not refuse, report.message, report)

    def reset(self) -> None:
        """Forget earlier mismatches (at each enable)."""
        self._strikes = 0
