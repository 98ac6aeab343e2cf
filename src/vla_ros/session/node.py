"""``record_session``: the operator's recording session (:mod:`vla_ros.session.recording`) on a graph.

Drives ``bag_recorder`` through ``record/start``, ``record/stop`` and ``record/discard``
(std_srvs/Trigger) and the safety supervisor's latched ``safety/estop`` (std_srvs/SetBool); the teleop
(the leader arm) drives the follower the whole time, only the recording phases are saved. Keys come
from the controlling terminal (:class:`vla_ros.session.keys.TerminalKeys`), where the status line is
redrawn every ``status_period_s``; prompts are spoken when a speech program exists. Without a terminal
(a service, a pipeline) the episodes run on their timers and the status is logged.

The first episode starts once ``joint_states`` flow. Subscribes, to show their rates: ``joint_states``,
``joint_commands``, ``cameras/<name>/image_raw``; and ``record/status`` (std_msgs/String JSON) for the
recorder's task. Time is the node's clock (simulated time under ``use_sim_time``, as the bags' stamps).
Ctrl-C (SIGINT, which the launcher also sends when the graph stops) ends the session as Esc does; the
node then exits 0 (``ends_graph``), or 1 when a service failed.
"""

from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rclpy.node import Node
from std_msgs.msg import String

from vla_ros.config import check_range, param
from vla_ros.ros.node_main import run_node
from vla_ros.ros.params import declare_config
from vla_ros.ros.qos import STATUS_QOS
from vla_ros.session.errors import SessionError
from vla_ros.session.io_node import RateBoard, ServiceCaller
from vla_ros.session.keys import TerminalKeys
from vla_ros.session.recording import Phase, RecordingPlan, RecordingSession
from vla_ros.session.speech import Speaker
from vla_ros.session.status import KEYS_HELP, format_status, redraw

__all__ = ["RecordSessionNode", "SessionNode", "SessionOptions", "main"]

LOG_PERIOD_S = 5.0
"""Without a terminal, the status is logged this often (wall seconds) and on every phase change."""
SHUTDOWN_CALL_TIMEOUT_S = 2.0
"""After Ctrl-C, the longest wait for a service to appear and answer, wall s (``ros2 launch`` sends
SIGTERM 5 s after SIGINT)."""


@dataclass(frozen=True)
class SessionOptions:
    """How a session talks to the operator and the graph (parameters of the session nodes)."""

    speech: bool = field(default=True, metadata=param("Speak the prompts (spd-say or say, when installed)."))
    terminal: str = field(default="/dev/tty", metadata=param(
        "Terminal the keys are read from and the status line drawn on ('' = none: run on the timers)",
        read_only=True))
    cameras: list[str] = field(default_factory=lambda: ["front", "wrist"], metadata=param(
        "Cameras whose image_raw rates the status line shows"))
    status_period_s: float = field(default=0.25, metadata=param("Status line redraw period, wall s.",
                                                                range=(0.05, 10.0)))
    startup_timeout_s: float = field(default=300.0, metadata=param(
        "Longest wait for the graph's services (and simulated time) at start, wall s", range=(1.0, 3600.0)))
    service_timeout_s: float = field(default=30.0, metadata=param(
        "Longest wait for a service answer, wall s", range=(0.5, 600.0)))

    def __post_init__(self) -> None:
        check_range(self)


class _Recorder:
    """:class:`~vla_ros.session.recording.EpisodeControl` over bag_recorder's services."""

    def __init__(self, services: ServiceCaller) -> None:
        self.services = services

    def start(self) -> str:
        return self.services.trigger("record/start")

    def save(self) -> str:
        return self.services.trigger("record/stop")

    def discard(self) -> str:
        return self.services.trigger("record/discard")


class _Estop:
    """:class:`~vla_ros.session.recording.EstopControl` over the supervisor's ``safety/estop``."""

    def __init__(self, services: ServiceCaller) -> None:
        self.services = services

    def estop(self, latch: bool) -> str:
        return self.services.set_bool("safety/estop", latch, wait_s=2.0)


class SessionNode(Node):
    """What the session nodes share: terminal, speech, rates, service calls, the session thread.

    A subclass builds ``self.session`` (begin/on_key/tick/interrupt/status/done/error) and calls
    :meth:`start_session`; it tells when the graph is ready (:meth:`missing`) and what to print.
    """

    keys_help: Mapping[Phase, str] = KEYS_HELP
    count_label = "saved"

    def __init__(self, name: str, **node_kwargs: Any) -> None:
        super().__init__(name, **node_kwargs)
        self.options = declare_config(self, SessionOptions)
        self.finished, self.exit_status = False, 0
        self.calls = ServiceCaller(self, self.options.service_timeout_s)
        self.rates = RateBoard(self, self.options.cameras)
        self.task = ""
        self.speaker = Speaker(self.options.speech)
        self.keys: TerminalKeys | None = None
        if self.options.terminal:
            try:
                self.keys = TerminalKeys(self.options.terminal)
            except SessionError as err:
                self.get_logger().warning(f"{err}: keys disabled, the episodes run on their timers")
        self.session: Any = None
        self._interrupted = threading.Event()
        self._previous_sigint = signal.signal(signal.SIGINT, lambda *_: self._on_sigint())

    def _on_sigint(self) -> None:
        # the graph is stopping too: a service that does not answer at once will not (ros2 launch
        # escalates to SIGTERM 5 s after its SIGINT)
        self.calls.timeout_s = min(self.calls.timeout_s, SHUTDOWN_CALL_TIMEOUT_S)
        self._interrupted.set()

    def start_session(self) -> None:
        """Run ``self.session`` on its own thread."""
        threading.Thread(target=self._run, name=self.get_name(), daemon=True).start()

    def missing(self) -> str:
        """What the session still waits for before it begins ('' = nothing)."""
        if self._now_s() <= 0.0:
            return "the clock"
        if not self.rates.flowing("joints"):
            return "joint_states"
        return ""

    def intro(self) -> str:
        """The first line printed."""
        return ""

    def summary(self) -> list[str]:
        """The lines printed when the session is over."""
        return []

    def _now_s(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _speak(self, text: str) -> None:
        self.speaker.say(text)
        self._print(text)

    def _print(self, text: str) -> None:
        self.get_logger().info(text)  # on the same terminal (directly, or through the launcher)

    # -- the session thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._wait_for_graph()
            self._print(self.intro())
            self.session.begin()
            self._loop()
        except SessionError as err:
            self.session.error = str(err)
        finally:
            self._end()

    def _wait_for_graph(self) -> None:
        start = time.monotonic()
        while missing := self.missing():
            if self._interrupted.is_set():
                raise SessionError("interrupted before the session started")
            waited = time.monotonic() - start
            if waited > self.options.startup_timeout_s:
                raise SessionError(f"no {missing} after {self.options.startup_timeout_s} s")
            if self.keys is not None:
                self.keys.write(redraw(f"waiting for {missing} ({waited:.0f} s; Ctrl-C to give up)",
                                       self.keys.width()))
            time.sleep(0.2)

    def _loop(self) -> None:
        last_phase, next_log = None, 0.0
        while not self.session.done:
            period = min(self.options.status_period_s, 0.1)
            keys = self.keys.read(period) if self.keys is not None else []
            if self.keys is None:
                time.sleep(period)
            for key in keys:
                self.session.on_key(key)
            if self._interrupted.is_set():
                self.session.interrupt()
            self.session.tick()
            line = format_status(self.session.status(), self.task, self.rates.rates_hz(), self.keys_help,
                                 self.count_label)
            if self.keys is not None:
                if time.monotonic() > next_log or keys:
                    self.keys.write(redraw(line, self.keys.width()))
                    next_log = time.monotonic() + self.options.status_period_s
            elif self.session.phase is not last_phase or time.monotonic() > next_log:
                self.get_logger().info(line)
                next_log = time.monotonic() + LOG_PERIOD_S
            last_phase = self.session.phase

    def _end(self) -> None:
        for line in self.summary():
            self._print(line)
        if self.session is not None and self.session.error:
            self._print(f"error: {self.session.error}")
            self.exit_status = 1
        if self.keys is not None:
            self.keys.close()
            self.keys = None
        self.finished = True

    def close(self) -> None:
        """Restore the terminal (called by ``run_node`` on shutdown)."""
        if self.keys is not None:
            self.keys.close()
            self.keys = None
        signal.signal(signal.SIGINT, self._previous_sigint)


class RecordSessionNode(SessionNode):
    """The ``record_session`` node (see the module docstring)."""

    def __init__(self, **node_kwargs: Any) -> None:
        super().__init__("record_session", **node_kwargs)
        self.plan = declare_config(self, RecordingPlan)
        self.create_subscription(String, "record/status", self._on_record_status, STATUS_QOS)
        self.session = RecordingSession(self.plan, _Recorder(self.calls), _Estop(self.calls),
                                        self._speak, self._now_s)
        self.start_session()

    def _on_record_status(self, msg: String) -> None:
        with contextlib.suppress(ValueError, AttributeError):
            self.task = str(json.loads(msg.data).get("task", ""))

    def missing(self) -> str:
        return "bag_recorder (record/status)" if not self.task else super().missing()

    def intro(self) -> str:
        return (f"{self.plan.episodes} episode(s) of {self.plan.episode_time_s:g} s, reset "
                f"{self.plan.reset_time_s:g} s; keys: → save and next, ← re-record, Esc stop, space e-stop")

    def summary(self) -> list[str]:
        s = self.session
        return [f"session over: {len(s.saved)} episode(s) saved, {len(s.discarded)} discarded",
                *(f"saved {path}" for path in s.saved)]


def main(args: list[str] | None = None) -> int:
    """Entry point of ``record_session``."""
    return run_node(RecordSessionNode, args)
