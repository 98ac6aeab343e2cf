"""Fault injection for the bus emulator: lost replies and corrupted replies.

Faults are armed per kind, optionally for one motor, for a number of replies or until cleared. The
emulator asks :meth:`FaultInjector.take` before sending each status packet. Unplugging the whole
adapter is an emulator operation (:meth:`vla_ros.bus.emulator.BusEmulator.unplug`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import Enum

__all__ = ["Fault", "FaultInjector"]


class Fault(str, Enum):
    """Kinds of reply faults."""

    NO_REPLY = "no_reply"
    """The servo does not answer (the host times out: ``COMM_RX_TIMEOUT``)."""
    BAD_CHECKSUM = "bad_checksum"
    """The reply's checksum is wrong (the host reports ``COMM_RX_CORRUPT``)."""


@dataclass
class _Armed:
    remaining: int | None
    """Replies still to affect; None = until cleared."""


class FaultInjector:
    """Thread-safe set of armed reply faults.

    Attributes:
        injected: how many replies each fault kind has affected so far.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: dict[tuple[Fault, int | None], _Armed] = {}
        self.injected: dict[Fault, int] = dict.fromkeys(Fault, 0)

    def arm(self, fault: Fault, count: int | None = 1, motor_id: int | None = None) -> None:
        """Affect the next ``count`` replies (None: all until :meth:`clear`) of ``motor_id`` (None: any)."""
        if count is not None and count < 1:
            raise ValueError(f"count must be >= 1 or None, got {count}")
        with self._lock:
            self._armed[(Fault(fault), motor_id)] = _Armed(count)

    def clear(self, fault: Fault | None = None) -> None:
        """Disarm ``fault`` (None: all faults)."""
        with self._lock:
            for key in [k for k in self._armed if fault is None or k[0] == fault]:
                del self._armed[key]

    def take(self, fault: Fault, motor_id: int) -> bool:
        """Whether the reply of ``motor_id`` should suffer ``fault`` now (consumes one count)."""
        with self._lock:
            for key in ((fault, motor_id), (fault, None)):
                armed = self._armed.get(key)
                if armed is None:
                    continue
                if armed.remaining is not None:
                    armed.remaining -= 1
                    if armed.remaining <= 0:
                        del self._armed[key]
                self.injected[fault] += 1
                return True
            return False

    def armed(self) -> bool:
        """Whether any fault is armed."""
        with self._lock:
            return bool(self._armed)
