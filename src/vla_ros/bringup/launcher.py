"""Runs a node graph as supervised child processes: ``vla-ros launch`` on the no-ROS-install path.

Each :class:`~vla_ros.bringup.graph.NodeSpec` becomes the same command ``ros2 launch`` would run
(``<exe> --ros-args -r __node:=… -r __ns:=… --params-file config/<file> --params-file <overrides>``).
Children run in their own process groups; their output is prefixed with the node name; a required
node that dies stops the graph. One stop for the whole graph: SIGINT to the nodes marked
``stops_first`` (the driver, so that it turns torque off while the simulated bus still exists), then
to all others at once; a node still running ``grace_s`` after its SIGINT gets SIGTERM, then SIGKILL.
A second Ctrl-C (SIGINT/SIGTERM) while stopping kills what is left at once. Children die with the
launcher however it dies (:func:`vla_ros.lifetime.die_with_parent`), so a killed launcher leaves no
node holding the serial port or the simulator's pty.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml

from vla_ros.bringup.graph import SHARE, URDF_TEXT, NodeSpec
from vla_ros.lifetime import die_with_parent
from vla_ros.paths import share_dir, urdf_file

__all__ = ["Child", "Supervisor", "find_executable", "node_command"]


def find_executable(spec: NodeSpec) -> str | None:
    """Path of the node's executable, or None if it is not installed here.

    vla_ros executables come from this environment's ``bin`` (pip) or ``lib/vla_ros`` (colcon);
    other packages' from the ament index (a sourced ROS install).
    """
    if spec.package == "vla_ros":
        local = Path(sys.executable).parent / spec.executable
        if local.is_file():
            return str(local)
    try:
        from ament_index_python.packages import get_package_prefix

        exe = Path(get_package_prefix(spec.package)) / "lib" / spec.package / spec.executable
        if exe.is_file():
            return str(exe)
    except (ImportError, LookupError, OSError, ValueError):
        pass
    return shutil.which(spec.executable) if spec.package == "vla_ros" else None


def _substitute(value: Any) -> Any:
    if isinstance(value, str):
        if value == URDF_TEXT:
            return urdf_file().read_text()
        return value.replace(SHARE, str(share_dir()))
    if isinstance(value, list):
        return [_substitute(v) for v in value]
    return value


def node_command(spec: NodeSpec, exe: str, namespace: str, workdir: Path) -> list[str]:
    """The command line of one node, writing its parameter overrides into ``workdir``."""
    cmd = [exe, *(_substitute(a) for a in spec.arguments), "--ros-args", "-r", f"__node:={spec.name}"]
    if namespace:
        cmd += ["-r", f"__ns:=/{namespace.strip('/')}"]
    if spec.params_file:
        cmd += ["--params-file", str(share_dir() / "config" / spec.params_file)]
    if spec.parameters:
        overrides = workdir / f"{spec.name}.params.yaml"
        params = {k: _substitute(v) for k, v in spec.parameters.items()}
        overrides.write_text(yaml.safe_dump({"/**": {"ros__parameters": params}}))
        cmd += ["--params-file", str(overrides)]
    for src, dst in spec.remappings:
        cmd += ["-r", f"{src}:={dst}"]
    return cmd


@dataclass
class Child:
    """A running node process."""

    spec: NodeSpec
    process: subprocess.Popen[bytes]


class Supervisor:
    """Starts, watches and stops the processes of one graph."""

    def __init__(self, specs: Sequence[NodeSpec], namespace: str = "", out: IO[str] | None = None,
                 grace_s: float = 5.0) -> None:
        self.specs = list(specs)
        self.namespace = namespace
        self.out = out or sys.stdout
        self.grace_s = grace_s
        self.children: list[Child] = []
        self._stop = threading.Event()
        self._kill = threading.Event()
        self._lock = threading.Lock()
        self._workdir = Path(tempfile.mkdtemp(prefix="vla_ros_launch_"))

    def say(self, line: str) -> None:
        # On a terminal, clear the line first: a session's status line may be drawn there.
        clear = "\r\x1b[2K" if self.out.isatty() else ""
        with self._lock:
            self.out.write(clear + line + "\n")
            self.out.flush()

    def request_stop(self, *_: object) -> None:
        """Ask the supervisor to stop the graph; asked again while stopping, kill it (signal-handler
        compatible)."""
        if self._stop.is_set():
            self._kill.set()
        self._stop.set()

    def run(self, duration_s: float = 0.0) -> int:
        """Start every node, wait for Ctrl-C, ``duration_s`` or a required node's death, stop all.

        Returns:
            0 after a requested stop, 1 if a required node exited by itself, 2 if one could not start.
        """
        previous = {sig: signal.signal(sig, self.request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            status = self._start_all()
            if status == 0:
                status = self._watch(duration_s)
            return status
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            shutil.rmtree(self._workdir, ignore_errors=True)

    def _start_all(self) -> int:
        for spec in self.specs:
            exe = find_executable(spec)
            if exe is None:
                if spec.optional:
                    self.say(f"[launch] skipping {spec.name}: '{spec.package} {spec.executable}' "
                             "is not installed here (needs a ROS 2 install)")
                    continue
                self.say(f"[launch] cannot start {spec.name}: executable {spec.executable} not found")
                return 2
            cmd = node_command(spec, exe, self.namespace, self._workdir)
            env = spec.environment(PYTHONUNBUFFERED="1", RCUTILS_COLORIZED_OUTPUT="0")  # + discovery range
            with_parent = functools.partial(die_with_parent, signal.SIGTERM, os.getpid())
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, start_new_session=True,
                                    preexec_fn=with_parent)
            self.children.append(Child(spec, proc))
            threading.Thread(target=self._pump, args=(spec.name, proc), daemon=True).start()
            self.say(f"[launch] started {spec.name} (pid {proc.pid})")
        return 0

    def _pump(self, name: str, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            self.say(f"[{name}] {raw.decode(errors='replace').rstrip()}")

    def _watch(self, duration_s: float) -> int:
        deadline = time.monotonic() + duration_s if duration_s > 0 else None
        while not self._stop.wait(0.2):
            if deadline is not None and time.monotonic() >= deadline:
                self.say(f"[launch] duration of {duration_s:g} s reached, stopping")
                return 0
            for child in self.children:
                code = child.process.poll()
                if code == 0 and child.spec.ends_graph:
                    self.say(f"[launch] {child.spec.name} finished its job; stopping")
                    return 0
                if code is not None and child.spec.required:
                    self.say(f"[launch] required node {child.spec.name} exited with {code}; stopping all")
                    return 1
        self.say("[launch] stop requested, shutting down")
        return 0

    def _stop_all(self) -> None:
        first = [c for c in self.children if c.spec.stops_first]
        self._stop_group(first)
        self._stop_group([c for c in self.children if not c.spec.stops_first])

    def _stop_group(self, children: list[Child]) -> None:
        """SIGINT to every child at once; SIGTERM, then SIGKILL, to those still running."""
        for sig, wait_s in ((signal.SIGINT, self.grace_s), (signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
            if self._kill.is_set():
                sig = signal.SIGKILL
            running = [c for c in children if c.process.poll() is None]
            if not running:
                break
            if sig != signal.SIGINT:
                names = ", ".join(c.spec.name for c in running)
                self.say(f"[launch] {names}: still running, sending {signal.Signals(sig).name}")
            for child in running:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(child.process.pid, sig)
            self._wait_exit(running, wait_s)
        for child in children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.process.pid, signal.SIGKILL)  # anything the node left in its group
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=1.0)
            self.say(f"[launch] {child.spec.name} stopped ({child.process.returncode})")

    def _wait_exit(self, children: list[Child], wait_s: float) -> None:
        deadline = time.monotonic() + wait_s
        while any(c.process.poll() is None for c in children) and time.monotonic() < deadline:
            if self._kill.wait(0.05):
                return
