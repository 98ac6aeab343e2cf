"""Run the inference pipeline in a child process, so inference never competes with control for the GIL.

A SmolVLA forward pass is thousands of small Python-level steps (lerobot, transformers, torch op
dispatch). In a thread of the node's process they hold the GIL most of the time, and every executor
hand-off of the control loop waits for it: on 2 cores the control timer then slips by hundreds of
milliseconds. :class:`PipelineProcess` loads the checkpoint in a ``spawn``-ed child and forwards
:meth:`PolicyPipeline.predict` calls over a pipe; the calling thread blocks in ``recv`` with the GIL
released. Errors raised in the child (stale data, NaN chunk, load failures) come back as the same
exceptions.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from vla_ros.errors import VlaRosError
from vla_ros.lifetime import die_with_parent
from vla_ros.policy.pipeline import ObservationSnapshot, PipelineOutput

__all__ = ["PipelineProcess", "PipelineSpec", "build_pipeline"]


@dataclass(frozen=True)
class PipelineSpec:
    """Everything needed to build a :class:`~vla_ros.policy.pipeline.PolicyPipeline` in another process.

    Attributes:
        policy_path, vlm_dir: for :func:`~vla_ros.policy.checkpoint.inspect_checkpoint`.
        device, dtype, num_flow_steps, n_action_steps: for :func:`~vla_ros.policy.checkpoint.load_policy`.
        rtc: ``RTCConfig`` fields to enable real-time chunking (None = off).
        gripper_span_rad: the :class:`~vla_ros.robot.units.UnitConverter`'s calibration figure.
        units: units of the checkpoint's state/action.
        empty_features: policy image keys declared empty.
        noise: flow-matching noise (:data:`~vla_ros.policy.pipeline.NOISES`).
        torch_threads: intra-op threads (0 = torch's default).
        nice: scheduling niceness added to the inference process (Linux ``nice``; > 0 lets the
            control loop win the CPU when inference saturates the cores).
    """

    policy_path: str
    vlm_dir: str = ""
    device: str = "cpu"
    dtype: str = "float32"
    num_flow_steps: int = 0
    n_action_steps: int = 0
    rtc: dict[str, Any] | None = None
    gripper_span_rad: float = 1.0
    units: str = "lerobot"
    empty_features: tuple[str, ...] = ()
    noise: str = "gaussian"
    torch_threads: int = 0
    nice: int = 0


def build_pipeline(spec: PipelineSpec) -> Any:
    """Load the checkpoint and build its pipeline (in whatever process calls it).

    Raises:
        CheckpointError: the checkpoint cannot be loaded.
    """
    import torch

    from vla_ros.policy.checkpoint import inspect_checkpoint, load_policy
    from vla_ros.policy.pipeline import PolicyPipeline
    from vla_ros.robot.units import UnitConverter

    if spec.torch_threads:
        torch.set_num_threads(spec.torch_threads)
    rtc = None
    if spec.rtc is not None:
        from lerobot.policies.rtc.configuration_rtc import RTCConfig

        rtc = RTCConfig(**spec.rtc)
    info = inspect_checkpoint(spec.policy_path, vlm_dir=spec.vlm_dir)
    loaded = load_policy(info, device=spec.device, dtype=spec.dtype, num_flow_steps=spec.num_flow_steps,
                         n_action_steps=spec.n_action_steps, rtc_config=rtc)
    return PolicyPipeline(loaded, UnitConverter(spec.gripper_span_rad), units=spec.units,
                          empty_features=spec.empty_features, noise=spec.noise)


class PipelineProcess:
    """A :class:`PolicyPipeline` living in a child process; :meth:`predict` has the same contract.

    Args:
        spec: how to build the pipeline.
        start_timeout_s: longest wait for the child to load the checkpoint.

    Raises:
        VlaRosError: (the child's own error, e.g. CheckpointError) loading failed.
        TimeoutError: the child did not get ready in time.
    """

    def __init__(self, spec: PipelineSpec, start_timeout_s: float = 600.0) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._lock = threading.Lock()
        self._proc = ctx.Process(target=_serve, args=(child, spec, os.getpid()), name="smolvla-inference",
                                 daemon=True)
        self._proc.start()
        child.close()
        if not self._conn.poll(start_timeout_s):
            self.close()
            raise TimeoutError(f"inference process did not load {spec.policy_path} in {start_timeout_s:g} s")
        try:
            kind, payload = self._recv()
        except (EOFError, OSError) as err:
            self.close()
            raise VlaRosError(f"inference process exited while loading (exit code {self._proc.exitcode}); "
                              "scripts that start the node must guard their code with "
                              "`if __name__ == '__main__':` (multiprocessing spawn)") from err
        if kind != "ready":
            self.close()
            raise payload
        self.chunk_size: int = payload

    def predict(
        self,
        snap: ObservationSnapshot,
        task: str,
        *,
        now_s: float,
        max_age_s: float,
        inference_delay: int | None = None,
        leftover_raw: np.ndarray | None = None,
    ) -> PipelineOutput:
        """Predict one chunk in the child (see :meth:`PolicyPipeline.predict`); blocks the caller only.

        Raises:
            The child's exception (StaleDataError, BadInputError, NonFiniteChunkError, ...), or
            VlaRosError if the child has died.
        """
        request = ("predict", _portable(snap), task, now_s, max_age_s, inference_delay, leftover_raw)
        with self._lock:
            try:
                self._conn.send(request)
                kind, payload = self._recv()
            except (EOFError, OSError) as err:
                raise VlaRosError(f"inference process died (exit code {self._proc.exitcode})") from err
        if kind == "error":
            raise payload
        return payload

    def close(self, timeout_s: float = 1.0) -> None:
        """Stop the child: ask, after ``timeout_s`` terminate (SIGTERM), after as long again kill.

        A child busy with an inference answers only when it is done (seconds for a full-size model),
        so it is not waited for longer than ``timeout_s``.
        """
        with contextlib.suppress(OSError):
            self._conn.send(None)
        for stop in (None, self._proc.terminate, self._proc.kill):
            if stop is not None:
                stop()
            self._proc.join(timeout_s)
            if not self._proc.is_alive():
                break
        self._conn.close()

    def _recv(self) -> tuple[str, Any]:
        kind, payload = self._conn.recv()
        return kind, payload


def _portable(snap: ObservationSnapshot) -> ObservationSnapshot:
    """A picklable copy: image messages become plain ``sensor_msgs/Image`` field namespaces."""
    images = {
        key: SimpleNamespace(height=int(m.height), width=int(m.width), encoding=str(m.encoding),
                             step=int(m.step), data=bytes(m.data))
        for key, m in snap.images.items()
    }
    return ObservationSnapshot(list(snap.joint_names), [float(p) for p in snap.positions_rad],
                               snap.state_stamp_s, images, dict(snap.image_stamps_s))


def _reply(conn: Any, kind: str, payload: Any) -> None:
    try:
        conn.send((kind, payload))
    except Exception as err:  # an exception that does not pickle: send its description instead
        conn.send(("error", VlaRosError(f"{type(payload).__name__}: {payload} ({err})")))


def _serve(conn: Any, spec: PipelineSpec, parent_pid: int) -> None:
    """Child process: build the pipeline, then answer predict requests until told to stop (or the
    node's process dies, whatever kills it)."""
    die_with_parent(signal.SIGTERM, parent_pid)
    if spec.nice:
        with contextlib.suppress(OSError):
            os.nice(spec.nice)
    try:
        pipeline = build_pipeline(spec)
    except BaseException as err:  # reported to the parent, which refuses to start
        _reply(conn, "error", err)
        return
    _reply(conn, "ready", pipeline.chunk_size)
    while True:
        try:
            request = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if request is None:
            return
        _, snap, task, now_s, max_age_s, delay, leftover = request
        try:
            out = pipeline.predict(snap, task, now_s=now_s, max_age_s=max_age_s, inference_delay=delay,
                                   leftover_raw=leftover)
        except KeyboardInterrupt:
            return
        except Exception as err:  # sent back, raised again in the parent
            _reply(conn, "error", err)
            continue
        _reply(conn, "ok", out)
