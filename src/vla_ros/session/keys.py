"""The operator's keys, read from the controlling terminal (``/dev/tty``) in cbreak mode.

lerobot-record listens to the keyboard with pynput, which needs an X display (and, on Wayland or over
SSH, gets nothing); reading the terminal works wherever the session was started: a console, SSH, tmux.
The terminal is put in cbreak mode (``tty.setcbreak``: no line buffering, no echo; Ctrl-C still sends
SIGINT) and restored on :meth:`TerminalKeys.close`. Arrow keys arrive as escape sequences (``ESC [ C``,
or ``ESC O C`` in application cursor mode, as tmux sends them); a lone ``ESC`` followed by nothing for
:data:`ESC_WAIT_S` is the Esc key.
"""

from __future__ import annotations

import contextlib
import enum
import os
import select
import termios
import time
import tty

from vla_ros.session.errors import SessionError

__all__ = ["ESC_WAIT_S", "Key", "TerminalKeys", "decode_keys"]

ESC_WAIT_S = 0.05
"""How long a lone ESC byte waits for the rest of an escape sequence before it counts as the Esc key
(terminals send a sequence in one write; tmux's own default ``escape-time`` is 500 ms on input, it
forwards a sequence whole)."""


class Key(enum.Enum):
    """Keys the sessions act on; any other printable key comes as its character."""

    RIGHT = "right"
    LEFT = "left"
    UP = "up"
    DOWN = "down"
    ESC = "esc"
    SPACE = "space"
    ENTER = "enter"


_SEQUENCES = {b"\x1b[C": Key.RIGHT, b"\x1b[D": Key.LEFT, b"\x1b[A": Key.UP, b"\x1b[B": Key.DOWN,
              b"\x1bOC": Key.RIGHT, b"\x1bOD": Key.LEFT, b"\x1bOA": Key.UP, b"\x1bOB": Key.DOWN}
_SINGLE = {b" ": Key.SPACE, b"\r": Key.ENTER, b"\n": Key.ENTER}


def decode_keys(data: bytes, final: bool = False) -> tuple[list[Key | str], bytes]:
    """Split terminal input into keys.

    Args:
        data: bytes read from the terminal (possibly ending inside an escape sequence).
        final: no more bytes follow soon: a trailing lone ESC is the Esc key.

    Returns:
        ``(keys, rest)``: the keys (:class:`Key`, or a one-character ``str`` for other printable keys;
        unknown escape sequences and control bytes are dropped) and the undecoded tail to prepend to
        the next read.
    """
    keys: list[Key | str] = []
    i = 0
    while i < len(data):
        byte = data[i:i + 1]
        if byte == b"\x1b":
            rest = data[i:]
            if len(rest) == 1 or (len(rest) == 2 and rest[1:2] in b"[O"):
                if not final:
                    return keys, rest
                keys.append(Key.ESC)
                i = len(data)
                continue
            if rest[1:2] not in (b"[", b"O"):
                keys.append(Key.ESC)
                i += 1
                continue
            end = i + 2
            while end < len(data) and not (0x40 <= data[end] <= 0x7E):
                end += 1
            if end >= len(data):
                if not final:
                    return keys, rest
                i = len(data)
                continue
            sequence = data[i:end + 1]
            if sequence in _SEQUENCES:
                keys.append(_SEQUENCES[sequence])
            i = end + 1
        elif byte in _SINGLE:
            keys.append(_SINGLE[byte])
            i += 1
        else:
            if 0x20 < data[i] < 0x7F:
                keys.append(byte.decode())
            i += 1
    return keys, b""


class TerminalKeys:
    """Keys from a terminal (default the controlling one), in cbreak mode until :meth:`close`.

    Args:
        path: the terminal device.

    Raises:
        SessionError: there is no such terminal (no controlling terminal: started by a service, a
            pipeline or a launcher that detached it), or it is not a terminal.
    """

    def __init__(self, path: str = "/dev/tty") -> None:
        try:
            self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        except OSError as err:
            raise SessionError(f"no terminal to read keys from ({path}: {err.strerror})") from err
        try:
            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd, termios.TCSANOW)
        except termios.error as err:
            os.close(self.fd)
            raise SessionError(f"{path} is not a terminal: {err}") from err
        self._pending = b""

    def read(self, timeout_s: float) -> list[Key | str]:
        """Keys typed within ``timeout_s`` seconds (empty list if none)."""
        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout_s))
        if not ready:
            return []
        data = self._pending + os.read(self.fd, 64)
        keys, self._pending = decode_keys(data)
        if self._pending:
            deadline = time.monotonic() + ESC_WAIT_S
            while self._pending and time.monotonic() < deadline:
                ready, _, _ = select.select([self.fd], [], [], ESC_WAIT_S)
                if ready:
                    more, self._pending = decode_keys(self._pending + os.read(self.fd, 64))
                    keys += more
            if self._pending:
                more, self._pending = decode_keys(self._pending, final=True)
                keys += more
        return keys

    def write(self, text: str) -> None:
        """Write to the terminal (the status line and prompts); errors (a closed terminal) are ignored."""
        with contextlib.suppress(OSError):
            os.write(self.fd, text.encode(errors="replace"))

    def width(self) -> int:
        """The terminal's width in columns (80 when unknown)."""
        try:
            return os.get_terminal_size(self.fd).columns or 80
        except OSError:
            return 80

    def close(self) -> None:
        """Restore the terminal's mode and close it. Idempotent."""
        if self.fd < 0:
            return
        with contextlib.suppress(termios.error, OSError):
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
        os.close(self.fd)
        self.fd = -1
