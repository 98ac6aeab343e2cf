"""Child processes that never outlive their parent (Linux ``prctl(PR_SET_PDEATHSIG)``); ROS-agnostic.

A launcher killed with SIGKILL cannot stop its children, and a node killed that way cannot stop its
inference process: without this they keep running with no parent, holding the (emulated) serial port
and the simulator's pty. The kernel sends the chosen signal to the child when the thread that
started it exits (``prctl(2)``), so the child shuts down as on Ctrl-C (rclpy handles SIGINT and
SIGTERM alike: torque off, clean exit). Elsewhere than Linux this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True) if sys.platform == "linux" \
    else None


def die_with_parent(sig: int = signal.SIGTERM, parent_pid: int | None = None) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent dies.

    Safe to call between fork and exec (``subprocess.Popen(preexec_fn=...)``): libc is loaded at
    import, so the call allocates nothing.

    Args:
        sig: signal to receive (default SIGTERM: a clean shutdown, as on Ctrl-C).
        parent_pid: the parent's pid as the parent saw it; if the parent already died before the
            call (a race the kernel cannot close), the signal is sent at once.
    """
    if _LIBC is None:
        return
    _LIBC.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if parent_pid is not None and os.getppid() != parent_pid:
        os.kill(os.getpid(), sig)
