"""A bus of emulated STS3215 servos behind a pseudo-terminal, for lerobot's Feetech code to talk to.

The emulator answers the protocol subset lerobot 0.4.4 uses (PING, READ, WRITE, SYNC_READ,
SYNC_WRITE; broadcast PING too) from a per-servo :class:`~vla_ros.bus.registers.RegisterFile`, and
moves the motors through a :class:`~vla_ros.bus.physics.MotorPhysics` (by default the
:class:`~vla_ros.bus.servo.ServoModel`). Register semantics, as on the STS3215:

* ``Present_Position = (actual - Homing_Offset) mod 4096``; a ``Goal_Position`` write is clamped to
  ``[Min_Position_Limit, Max_Position_Limit]`` and sent to the physics as ``goal + Homing_Offset``;
* ``Torque_Enable`` 0 makes the motor limp and, while it is off, ``Goal_Position`` follows the present
  position, so switching torque on holds the arm where it is;
* ``Response_Status_Level`` 0 silences WRITE replies; ``Lock`` is stored (there is no flash to protect).

One thread serves the pty; it also owns the file descriptors, so :meth:`BusEmulator.unplug` and
:meth:`BusEmulator.replug` run on it. The emulator keeps a descriptor of the slave side open, so a
client may close and reopen the port at will. Faults: :meth:`BusEmulator.inject_no_reply`,
:meth:`BusEmulator.inject_bad_checksum`, :meth:`BusEmulator.unplug`/:meth:`BusEmulator.replug`.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import queue
import select
import threading
import time
import tty
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from vla_ros.bus.errors import EmulatorConfigError, EmulatorStateError
from vla_ros.bus.faults import Fault, FaultInjector
from vla_ros.bus.physics import MotorPhysics
from vla_ros.bus.protocol import BROADCAST_ID, Instruction, Packet, PacketParser, encode_status
from vla_ros.bus.registers import REGISTERS, RegisterFile
from vla_ros.bus.servo import ServoModel

__all__ = ["BusEmulator", "PacketRecord"]

logger = logging.getLogger(__name__)

_RESOLUTION = 4096
_T = TypeVar("_T")


@dataclass(frozen=True)
class PacketRecord:
    """One instruction the emulator received.

    Attributes:
        time_s: ``time.monotonic()`` at reception.
        motor_id: destination id (254 = broadcast).
        instruction: instruction code.
        address: first register address (None for PING).
        ids: servos addressed (the SYNC_READ/SYNC_WRITE id list, else ``(motor_id,)``).
    """

    time_s: float
    motor_id: int
    instruction: int
    address: int | None
    ids: tuple[int, ...]


class BusEmulator:
    """STS3215 servos on an emulated serial port.

    Args:
        physics: what moves the motors; default a :class:`ServoModel` of ``motor_ids``.
        motor_ids: ids of the servos on the bus (1..252, distinct).
        initial_ticks: start positions (actual ticks) for the default servo model.
        link: if given, a symlink created at this stable path pointing at the current pty (kept across
            :meth:`replug`), so clients can be configured before the emulator starts.

    Raises:
        EmulatorConfigError: bad ids, or ``initial_ticks`` given together with ``physics``.
    """

    def __init__(
        self,
        physics: MotorPhysics | None = None,
        motor_ids: Iterable[int] = (1, 2, 3, 4, 5, 6),
        initial_ticks: Mapping[int, int] | None = None,
        link: str | Path | None = None,
    ) -> None:
        ids = tuple(motor_ids)
        if not ids or len(set(ids)) != len(ids) or not all(1 <= i <= 252 for i in ids):
            raise EmulatorConfigError(f"motor_ids must be distinct ids in 1..252, got {ids}")
        if physics is not None and initial_ticks is not None:
            raise EmulatorConfigError("initial_ticks only applies to the default servo model, not to physics")
        self.physics: MotorPhysics = physics if physics is not None else ServoModel(ids, initial_ticks)
        self.motor_ids = ids
        self.link = Path(link) if link is not None else None
        self.faults = FaultInjector()
        self.history: deque[PacketRecord] = deque(maxlen=20_000)
        self._servos = {i: RegisterFile(i) for i in ids}
        self._goal_actual: dict[int, int] = {}
        self._instruction_counts: Counter[int] = Counter()
        self._register_writes: Counter[str] = Counter()
        self._lock = threading.RLock()
        self._parser = PacketParser()
        self._requests: queue.Queue[tuple[Callable[[], Any], Future[Any]]] = queue.Queue()
        self._master: int | None = None
        self._slave: int | None = None
        self._pty_path: str | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._wake_r, self._wake_w = os.pipe()
        for motor_id in ids:
            self.physics.set_torque(motor_id, False)
            self._refresh(motor_id)

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> str:
        """Open the pty (and the link), start serving; returns the pty's slave path.

        Raises:
            EmulatorStateError: already started.
            EmulatorConfigError: ``link`` exists and is not a symlink.
        """
        if self._thread is not None:
            raise EmulatorStateError("emulator already started")
        self._plug()
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name="sts-bus-emulator", daemon=True)
        self._thread.start()
        assert self._pty_path is not None
        return self._pty_path

    def stop(self) -> None:
        """Stop serving, close the pty and remove the link. Idempotent."""
        thread = self._thread
        if thread is not None:
            self._stopping = True
            self._wake()
            thread.join(timeout=5.0)
            self._thread = None
        self._unplug()

    def close(self) -> None:
        """Stop and release the wake-up pipe; the emulator cannot be restarted afterwards."""
        self.stop()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> BusEmulator:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def pty_path(self) -> str | None:
        """Slave path of the current pty (None while unplugged or stopped)."""
        return self._pty_path

    @property
    def port(self) -> str:
        """The path clients should open: the link if one was given, else the pty.

        Raises:
            EmulatorStateError: no link and the emulator is not plugged in.
        """
        if self.link is not None:
            return str(self.link)
        if self._pty_path is None:
            raise EmulatorStateError("emulator is not plugged in")
        return self._pty_path

    @property
    def plugged(self) -> bool:
        """Whether the pty is open (between :meth:`start`/:meth:`replug` and :meth:`unplug`/:meth:`stop`)."""
        return self._master is not None

    # faults ----------------------------------------------------------------------------------
    def unplug(self) -> None:
        """Pull the USB cable: close the pty (clients get I/O errors) and remove the link."""
        self._call(self._unplug)

    def replug(self) -> str:
        """Plug the adapter back in: a new pty, the link re-pointed at it; returns the new pty path.

        Raises:
            EmulatorStateError: the emulator is not started or is still plugged in.
        """
        if self._thread is None:
            raise EmulatorStateError("emulator is not started")
        if self.plugged:
            raise EmulatorStateError("emulator is already plugged in")
        return self._call(self._plug)

    def inject_no_reply(self, count: int | None = 1, motor_id: int | None = None) -> None:
        """Drop the next ``count`` replies (None: until cleared) of ``motor_id`` (None: of any servo)."""
        self.faults.arm(Fault.NO_REPLY, count, motor_id)

    def inject_bad_checksum(self, count: int | None = 1, motor_id: int | None = None) -> None:
        """Corrupt the checksum of the next ``count`` replies (None: until cleared) of ``motor_id``."""
        self.faults.arm(Fault.BAD_CHECKSUM, count, motor_id)

    def clear_faults(self) -> None:
        """Disarm every reply fault."""
        self.faults.clear()

    # inspection ------------------------------------------------------------------------------
    def register(self, motor_id: int, name: str) -> int:
        """Current decoded value of register ``name`` of servo ``motor_id`` (dynamic ones refreshed)."""
        with self._lock:
            self._refresh(motor_id)
            return self._servos[motor_id].get(name)

    def set_register(self, motor_id: int, name: str, value: int) -> None:
        """Write register ``name`` as the host would (with its side effects), without a packet."""
        reg = REGISTERS[name]
        with self._lock:
            scratch = RegisterFile(motor_id)
            scratch.set(name, value)
            self._apply_write(motor_id, reg.address, scratch.read(reg.address, reg.size))

    def packets(self, instruction: int | None = None) -> int:
        """Number of instruction packets received (of one instruction code, or of all)."""
        with self._lock:
            if instruction is None:
                return sum(self._instruction_counts.values())
            return self._instruction_counts[int(instruction)]

    def writes(self, name: str) -> int:
        """Number of per-servo writes (WRITE or SYNC_WRITE) that touched register ``name``."""
        with self._lock:
            return self._register_writes[name]

    def wait_released(self, quiet_s: float = 0.3, timeout_s: float = 3.0) -> bool:
        """Wait until the bus's client has let go: every servo's torque off, or no packet for ``quiet_s``.

        A simulator shutting down calls this before :meth:`stop`, so that a driver stopping at the same
        moment (``ros2 launch`` signals every node at once) can still turn torque off.

        Returns:
            True if released, False after ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            now = time.monotonic()
            with self._lock:
                last = self.history[-1].time_s if self.history else float("-inf")
                torque = any(self._servos[i].get("Torque_Enable") for i in self.motor_ids)
            if now - last >= quiet_s or not torque:
                return True
            if now >= deadline:
                return False
            time.sleep(0.02)

    # pty plumbing ----------------------------------------------------------------------------
    def _plug(self) -> str:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        path = os.ttyname(slave)
        if self.link is not None:
            try:
                self._make_link(path)
            except BaseException:
                os.close(master)
                os.close(slave)
                raise
        self._parser.reset()
        self._master, self._slave, self._pty_path = master, slave, path
        logger.info("STS3215 bus emulator plugged in at %s (link: %s)", path, self.link)
        return path

    def _make_link(self, target: str) -> None:
        link = self.link
        assert link is not None
        if link.exists() and not link.is_symlink():
            raise EmulatorConfigError(f"link path {link} exists and is not a symlink; not replacing it")
        link.parent.mkdir(parents=True, exist_ok=True)
        tmp = link.with_name(f".{link.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(target, tmp)
        os.replace(tmp, link)

    def _unplug(self) -> None:
        if self.link is not None and self._pty_path is not None:
            with contextlib.suppress(OSError):
                if os.readlink(self.link) == self._pty_path:
                    self.link.unlink()
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        if self._master is not None:
            logger.info("STS3215 bus emulator unplugged from %s", self._pty_path)
        self._master = self._slave = self._pty_path = None

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def _call(self, fn: Callable[[], _T]) -> _T:
        """Run ``fn`` on the serving thread (which owns the descriptors) and return its result."""
        thread = self._thread
        if thread is None or not thread.is_alive() or thread is threading.current_thread():
            return fn()
        future: Future[_T] = Future()
        self._requests.put((fn, future))
        self._wake()
        return future.result(timeout=5.0)

    def _serve(self) -> None:
        while not self._stopping:
            self._run_requests()
            master = self._master
            fds = [self._wake_r] if master is None else [self._wake_r, master]
            readable, _, _ = select.select(fds, [], [], 0.1)
            if self._wake_r in readable:
                os.read(self._wake_r, 4096)
            if master is not None and master in readable and master == self._master:
                self._serve_bytes(master)
        self._run_requests()

    def _run_requests(self) -> None:
        while True:
            try:
                fn, future = self._requests.get_nowait()
            except queue.Empty:
                return
            try:
                future.set_result(fn())
            except BaseException as err:  # handed to the caller
                future.set_exception(err)

    def _serve_bytes(self, master: int) -> None:
        try:
            data = os.read(master, 4096)
        except BlockingIOError:
            return
        except OSError as err:
            if err.errno != errno.EIO:
                raise
            time.sleep(0.005)  # no client has the slave open
            return
        with self._lock:
            replies = b"".join(self._handle_safely(packet) for packet in self._parser.feed(data))
        if replies:
            try:
                os.write(master, replies)
            except (BlockingIOError, OSError) as err:
                logger.warning("emulator dropped %d reply bytes: %s", len(replies), err)

    # protocol --------------------------------------------------------------------------------
    def _handle_safely(self, packet: Packet) -> bytes:
        """Answer one packet; a failure (e.g. in the physics) loses this reply, not the emulator."""
        try:
            return self._handle(packet)
        except Exception:
            logger.exception("emulator failed to handle %s", packet)
            return b""

    def _handle(self, packet: Packet) -> bytes:
        inst, params = packet.instruction, packet.params
        self._record(packet)
        if packet.motor_id == BROADCAST_ID:
            targets = list(self.motor_ids)
        elif packet.motor_id in self._servos:
            targets = [packet.motor_id]
        else:
            return b""
        if inst == Instruction.PING:
            return b"".join(self._reply(i) for i in targets)
        if inst == Instruction.READ and len(params) == 2 and packet.motor_id != BROADCAST_ID:
            return self._read_reply(targets[0], params[0], params[1])
        if inst == Instruction.WRITE and len(params) >= 2:
            for motor_id in targets:
                self._apply_write(motor_id, params[0], params[1:])
            level = self._servos[targets[0]].get("Response_Status_Level")
            silent = packet.motor_id == BROADCAST_ID or level == 0
            return b"" if silent else self._reply(targets[0])
        if inst == Instruction.SYNC_READ and len(params) >= 2:
            ids = [i for i in params[2:] if i in self._servos]
            return b"".join(self._read_reply(i, params[0], params[1]) for i in ids)
        if inst == Instruction.SYNC_WRITE and len(params) >= 2:
            self._sync_write(params[0], params[1], params[2:])
        return b""

    def _record(self, packet: Packet) -> None:
        p = packet.params
        address = p[0] if packet.instruction != Instruction.PING and p else None
        if packet.instruction == Instruction.SYNC_READ:
            ids = tuple(p[2:])
        elif packet.instruction == Instruction.SYNC_WRITE and len(p) >= 2:
            ids = tuple(p[2 :: p[1] + 1])
        else:
            ids = (packet.motor_id,)
        self._instruction_counts[packet.instruction] += 1
        self.history.append(PacketRecord(time.monotonic(), packet.motor_id, packet.instruction, address, ids))

    def _sync_write(self, address: int, length: int, payload: bytes) -> None:
        step = length + 1
        for start in range(0, len(payload) - length, step):
            motor_id = payload[start]
            if motor_id in self._servos:
                self._apply_write(motor_id, address, payload[start + 1 : start + step])

    def _reply(self, motor_id: int, params: bytes = b"") -> bytes:
        if self.faults.take(Fault.NO_REPLY, motor_id):
            return b""
        frame = encode_status(motor_id, 0, params)
        if self.faults.take(Fault.BAD_CHECKSUM, motor_id):
            frame = frame[:-1] + bytes([frame[-1] ^ 0x5A])
        return frame

    def _read_reply(self, motor_id: int, address: int, length: int) -> bytes:
        self._refresh(motor_id)
        return self._reply(motor_id, self._servos[motor_id].read(address, length))

    # register semantics ----------------------------------------------------------------------
    def _refresh(self, motor_id: int) -> None:
        """Fill the dynamic registers of one servo from the physics."""
        regs = self._servos[motor_id]
        actual = int(self.physics.present(motor_id))
        present = (actual - regs.get("Homing_Offset")) % _RESOLUTION
        regs.set("Present_Position", present)
        torque = regs.get("Torque_Enable") != 0
        if not torque:
            regs.set("Goal_Position", present)
        velocity = getattr(self.physics, "velocity", None)
        regs.set("Present_Velocity", round(velocity(motor_id)) if callable(velocity) else 0)
        regs.set("Moving", int(torque and abs(regs.get("Goal_Position") - present) > 1))

    def _apply_write(self, motor_id: int, address: int, data: bytes) -> None:
        regs = self._servos[motor_id]
        torque_before = regs.get("Torque_Enable") != 0
        if not torque_before:
            self._refresh(motor_id)
        touched = regs.write(address, data)
        self._register_writes.update(touched)
        torque_after = regs.get("Torque_Enable") != 0
        if "Homing_Offset" in touched and torque_before and motor_id in self._goal_actual:
            regs.set("Goal_Position", (self._goal_actual[motor_id] - regs.get("Homing_Offset")) % _RESOLUTION)
        if "Goal_Position" in touched or (torque_after and not torque_before):
            self._send_goal(motor_id)
        if torque_after != torque_before:
            self.physics.set_torque(motor_id, torque_after)

    def _send_goal(self, motor_id: int) -> None:
        regs = self._servos[motor_id]
        goal = regs.get("Goal_Position")
        low, high = regs.get("Min_Position_Limit"), regs.get("Max_Position_Limit")
        if low < high:
            goal = min(max(goal, low), high)
            regs.set("Goal_Position", goal)
        actual = (goal + regs.get("Homing_Offset")) % _RESOLUTION
        self._goal_actual[motor_id] = actual
        self.physics.set_goal(motor_id, actual)
