"""The driver's bus thread: connect, read at a fixed rate, write commands, survive faults.

Threading: one thread owns the arm (lerobot's bus and scservo_sdk's port handler are not
thread-safe, and a serial transaction blocks for up to its packet timeout). It reads the joints every
``1 / publish_rate_hz`` and hands each sample to ``on_sample`` at once; commands and torque requests
from other threads only fill a mailbox and wake it, so a ROS executor never waits on the serial port
and a slow bus can never starve the publishing of fresh data. A sample is produced only from a
successful read, so a failing bus yields silence, never old positions with new stamps.

Faults: a failed read, write or torque switch is retried ``read_retries`` times at once; if all
fail, the bus is declared faulty (status ERROR), the port is closed, pending commands are dropped,
and connection attempts resume with exponential backoff. The same loop waits for a port that does
not exist yet.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from vla_ros.driver.arm import BUS_ERRORS, So101Arm
from vla_ros.driver.config import DriverConfig
from vla_ros.driver.errors import BusFaultError, NotDrivingError
from vla_ros.driver.limits import clamp_to_limits
from vla_ros.robot.description import JointLimit
from vla_ros.robot.joints import JOINT_NAMES, order_positions

__all__ = ["DriverLoop", "DriverState", "DriverStatus", "JointSample", "Level"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


class DriverState(str, enum.Enum):
    """What the bus thread is doing."""

    CONNECTING = "connecting"
    RUNNING = "running"
    FAULT = "fault"
    STOPPED = "stopped"


class Level(enum.IntEnum):
    """Severity, with the values of ``diagnostic_msgs/DiagnosticStatus`` levels."""

    OK = 0
    WARN = 1
    ERROR = 2


@dataclass(frozen=True)
class JointSample:
    """One successful bus read.

    Attributes:
        stamp_ns: time of the read (midpoint of the transaction) on the loop's clock, nanoseconds.
        positions_rad: ``(6,)`` float64 joint positions, radians, :data:`JOINT_NAMES` order.
    """

    stamp_ns: int
    positions_rad: np.ndarray


@dataclass(frozen=True)
class DriverStatus:
    """A snapshot of the driver's health (what ``/diagnostics`` shows).

    Attributes:
        state: the bus thread's state.
        level: severity of ``message``.
        message: one line for humans.
        torque_enabled: whether the motors hold (as last commanded on the bus).
        read_rate_hz: successful reads per second over the last second.
        counters: reads, read_failures, faults, connects, commands_written, commands_rejected,
            commands_clamped, commands_not_driving, write_failures.
        last_error: the last bus error, or ''.
    """

    state: DriverState
    level: Level
    message: str
    torque_enabled: bool = False
    read_rate_hz: float = 0.0
    counters: dict[str, int] = field(default_factory=dict)
    last_error: str = ""


_COUNTERS = (
    "reads",
    "read_failures",
    "faults",
    "connects",
    "commands_written",
    "commands_rejected",
    "commands_clamped",
    "commands_not_driving",
    "write_failures",
)


class DriverLoop:
    """Runs an :class:`So101Arm` on its own thread.

    Args:
        arm: the arm (not yet connected).
        config: rates, retries and backoff.
        limits: hard joint limits, radians, by joint name.
        on_sample: called on the bus thread with every successful read.
        on_status: called on the bus thread whenever the state, level or message changes.
        clock_ns: the time source for sample stamps (e.g. the ROS node clock), nanoseconds.
    """

    def __init__(
        self,
        arm: So101Arm,
        config: DriverConfig,
        limits: Mapping[str, JointLimit],
        *,
        on_sample: Callable[[JointSample], None],
        on_status: Callable[[DriverStatus], None] | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.arm = arm
        self.config = config
        self.limits = dict(limits)
        self._on_sample = on_sample
        self._on_status = on_status
        self._clock_ns = clock_ns
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pending: dict[str, float] = {}
        self._requests: deque[tuple[bool, Future[str]]] = deque()
        self._torque_wanted = True
        self._counters = dict.fromkeys(_COUNTERS, 0)
        self._read_times: deque[float] = deque(maxlen=4096)
        self._status = DriverStatus(DriverState.STOPPED, Level.WARN, "not started")
        self._thread: threading.Thread | None = None

    # public API (any thread) --------------------------------------------------------------------
    def start(self) -> None:
        """Start the bus thread (it connects, retrying until :meth:`stop`)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="so101-driver-bus", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the thread; it disconnects (torque off if configured) before ending. Idempotent."""
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        self._wake.set()
        thread.join(timeout_s)
        if thread.is_alive():
            logger.error("driver bus thread did not stop within %.1f s", timeout_s)
        self._thread = None

    @property
    def status(self) -> DriverStatus:
        """The current status, with fresh counters and rate."""
        with self._lock:
            return replace(
                self._status,
                torque_enabled=self.arm.torque_enabled and self.arm.connected,
                read_rate_hz=self._rate_locked(),
                counters=dict(self._counters),
            )

    def submit(self, names: Sequence[str], positions: Sequence[float]) -> list[str]:
        """Queue a joint command (radians) for the next bus write.

        Joints may come in any order and may be a subset; the others keep their goal. Commands
        queued but not yet written are merged, newest value per joint winning.

        Returns:
            The joints that were clamped to their hard limits (the command is still queued).

        Raises:
            BadInputError: unknown/duplicate names, length mismatch, NaN/inf (nothing is queued).
            NotDrivingError: the bus is not connected or torque is off (nothing is queued).
        """
        try:
            goal = order_positions(names, positions, JOINT_NAMES, allow_subset=True)
        except ValueError:
            self._count("commands_rejected")
            raise
        if not self._driving():
            self._count("commands_not_driving")
            raise NotDrivingError(
                "command ignored: " + ("torque is off" if self.arm.connected else "bus is not connected")
            )
        goal, clamped = clamp_to_limits(goal, self.limits)
        with self._lock:
            self._pending.update(goal)
            if clamped:
                self._counters["commands_clamped"] += 1
        self._wake.set()
        return clamped

    def request_torque(self, enabled: bool) -> Future[str]:
        """Ask the bus thread to switch torque; the future gives a message, or raises BusFaultError.

        The wish is remembered and applied again after every reconnection.
        """
        future: Future[str] = Future()
        with self._lock:
            self._requests.append((bool(enabled), future))
        self._wake.set()
        return future

    # bus thread -----------------------------------------------------------------------------------
    def _run(self) -> None:
        backoff = self.config.reconnect_backoff_s
        started = time.monotonic()
        ever_connected = False
        try:
            while not self._stop.is_set():
                if not self.arm.connected:
                    self._serve_requests()  # answers at once: not connected
                    if self._connect(ever_connected, time.monotonic() - started, backoff):
                        ever_connected, backoff = True, self.config.reconnect_backoff_s
                    else:
                        self._stop.wait(backoff)
                        backoff = min(2 * backoff, self.config.reconnect_backoff_max_s)
                    continue
                try:
                    self._drive()
                except BUS_ERRORS as err:
                    self._fault(err)
                except Exception as err:  # a bug must not kill the thread silently: report, reconnect
                    logger.exception("unexpected error on the bus thread")
                    self._fault(err)
        finally:
            self._shutdown()

    def _connect(self, reconnect: bool, waited_s: float, backoff_s: float) -> bool:
        try:
            self.arm.connect()
            self.arm.set_torque(self._torque_wanted, self.config.read_retries)
        except Exception as err:  # BUS_ERRORS, or anything unexpected: never end the thread
            if not isinstance(err, BUS_ERRORS):
                logger.exception("unexpected error while connecting")
            self.arm.drop()
            missing = not Path(self.arm.port).exists()
            what = f"waiting for port {self.arm.port}" if missing else f"cannot connect on {self.arm.port}"
            level = Level.WARN if not reconnect and waited_s < self.config.connect_timeout_s else Level.ERROR
            reason = "it does not exist yet" if missing else _one_line(err)
            self._set_status(
                DriverState.FAULT if reconnect else DriverState.CONNECTING,
                level,
                f"{what}: {reason}; retrying in {backoff_s:.1f} s",
                error=_one_line(err),
            )
            return False
        with self._lock:
            self._pending.clear()
            self._counters["connects"] += 1
            self._read_times.clear()
        note = " (wrote the calibration file to the motors)" if self.arm.wrote_calibration else ""
        self.arm.wrote_calibration = False
        self._set_running(f"connected to {self.arm.port}{note}")
        return True

    def _drive(self) -> None:
        period = self.config.period_s
        next_read = time.monotonic()
        while not self._stop.is_set():
            delay = next_read - time.monotonic()
            if delay > 0:
                self._wake.wait(delay)
            self._wake.clear()
            self._serve_requests()
            self._write_pending()
            now = time.monotonic()
            if now >= next_read:
                self._read()
                next_read = max(next_read + period, now)

    def _read(self) -> None:
        first: BaseException | None = None
        for _ in range(1 + self.config.read_retries):
            if self._stop.is_set():
                return
            t0 = self._clock_ns()
            try:
                positions = self.arm.read()
            except BUS_ERRORS as err:
                first = first or err
                self._count("read_failures")
                continue
            stamp = (t0 + self._clock_ns()) // 2
            with self._lock:
                self._counters["reads"] += 1
                self._read_times.append(time.monotonic())
            self._notify(self._on_sample, JointSample(stamp, positions))
            return
        raise BusFaultError(
            f"{1 + self.config.read_retries} consecutive reads failed, first: {_one_line(first)}"
        ) from first

    def _write_pending(self) -> None:
        with self._lock:
            goal, self._pending = self._pending, {}
        if not goal:
            return
        if not self.arm.torque_enabled:
            self._count("commands_not_driving")
            return
        first: BaseException | None = None
        for _ in range(1 + self.config.read_retries):  # a sync write is idempotent: safe to repeat
            try:
                self.arm.write(goal)
            except BUS_ERRORS as err:  # with max_relative_target, lerobot reads the position first
                first = first or err
                self._count("write_failures")
                continue
            self._count("commands_written")
            return
        raise BusFaultError(
            f"{1 + self.config.read_retries} consecutive writes failed, first: {_one_line(first)}"
        ) from first

    def _serve_requests(self) -> None:
        while True:
            with self._lock:
                if not self._requests:
                    return
                enabled, future = self._requests.popleft()
            self._torque_wanted = enabled
            word = "on" if enabled else "off"
            if not self.arm.connected:
                future.set_exception(BusFaultError(f"bus not connected; torque will be {word} on connection"))
                continue
            try:
                self.arm.set_torque(enabled, self.config.read_retries)
            except BUS_ERRORS as err:
                future.set_exception(BusFaultError(f"torque {word} failed: {_one_line(err)}"))
                raise
            with self._lock:
                self._pending.clear()
            future.set_result(f"torque {word}")
            self._set_running(f"connected to {self.arm.port}")

    def _fault(self, err: BaseException) -> None:
        self.arm.drop()
        with self._lock:
            self._pending.clear()
            self._counters["faults"] += 1
        self._set_status(
            DriverState.FAULT,
            Level.ERROR,
            f"bus fault on {self.arm.port}: {_one_line(err)}; joint_states stopped, reconnecting",
            error=_one_line(err),
        )

    def _shutdown(self) -> None:
        with self._lock:
            requests, self._requests = list(self._requests), deque()
        for _, future in requests:
            with contextlib.suppress(Exception):
                future.set_exception(BusFaultError("driver stopped"))
        self.arm.close()
        self._set_status(DriverState.STOPPED, Level.WARN, "stopped")

    # helpers --------------------------------------------------------------------------------------
    def _driving(self) -> bool:
        return self.arm.connected and self.arm.torque_enabled and self._status.state == DriverState.RUNNING

    def _set_running(self, message: str) -> None:
        torque = "torque on" if self.arm.torque_enabled else "torque off"
        self._set_status(
            DriverState.RUNNING, Level.OK if self.arm.torque_enabled else Level.WARN, f"{message}; {torque}"
        )

    def _set_status(self, state: DriverState, level: Level, message: str, error: str | None = None) -> None:
        with self._lock:
            old = self._status
            changed = (state, level, message) != (old.state, old.level, old.message)
            self._status = replace(
                self._status,
                state=state,
                level=level,
                message=message,
                last_error=self._status.last_error if error is None else error,
            )
        if changed and self._on_status is not None:
            self._notify(self._on_status, self.status)

    def _notify(self, callback: Callable[[_T], None], value: _T) -> None:
        """Run a consumer callback; its failure (e.g. a ROS context shut down) never reaches the bus."""
        try:
            callback(value)
        except Exception:
            logger.exception("driver callback %s failed", getattr(callback, "__name__", callback))

    def _count(self, name: str) -> None:
        with self._lock:
            self._counters[name] += 1

    def _rate_locked(self) -> float:
        times = self._read_times
        horizon = time.monotonic() - 1.0
        while times and times[0] < horizon:
            times.popleft()
        if len(times) < 2 or self._status.state != DriverState.RUNNING:
            return 0.0
        return (len(times) - 1) / max(times[-1] - times[0], 1e-9)


def _one_line(err: BaseException | None) -> str:
    text = " ".join(str(err).split()) if err is not None else "unknown error"
    return f"{type(err).__name__}: {text}" if err is not None else text
