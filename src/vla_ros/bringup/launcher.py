"""Runs a node graph as supervised child processes: ``vla-ros launch`` on the no-ROS-install path.

Each :class:`~vla_ros.bringup.graph.NodeSpec` becomes the same command ``ros2 launch`` would run
(``<exe> --ros-args -r __node:=… -r __ns:=… --params-file config/<file> --params-file <overrides>``).
Children run in their own process groups; their output is prefixed with the node name. Ctrl-C
(SIGINT/SIGTERM) is forwarded as SIGINT, graph-wide, in reverse start order so that the driver can
turn torque off while the (simulated) bus still exists; a required node that dies stops the graph.
"""

from __future__ import annotations

import contextlib
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
                 grace_s: float = 10.0) -> None:
        self.specs = list(specs)
        self.namespace = namespace
        self.out = out or sys.stdout
        self.grace_s = grace_s
        self.children: list[Child] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workdir = Path(tempfile.mkdtemp(prefix="vla_ros_launch_"))

    def say(self, line: str) -> None:
        with self._lock:
            self.out.write(line + "\n")
            self.out.flush()

    def request_stop(self, *_: object) -> None:
        """Ask the supervisor to stop the graph (signal-handler compatible)."""
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
            env = dict(os.environ, PYTHONUNBUFFERED="1", RCUTILS_COLORIZED_OUTPUT="0")
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, start_new_session=True)
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
        for child in reversed(self.children):
            self._stop_child(child)

    def _stop_child(self, child: Child) -> None:
        proc = child.process
        for sig, wait_s in ((signal.SIGINT, self.grace_s), (signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
            if proc.poll() is not None:
                break
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                self.say(f"[launch] {child.spec.name} did not stop on {signal.Signals(sig).name}")
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # anything the node left behind in its group
        self.say(f"[launch] {child.spec.name} stopped ({proc.returncode})")
