"""Driving a real terminal in tests: a tmux session on a private server, keys in, screen out."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["Pane", "launch_script"]


def launch_script(tmp_path: Path, command: Sequence[str], env: Mapping[str, str], preamble: str = "") -> Path:
    """A bash script running ``preamble`` then ``command`` with ``env``, its output also in
    ``tmp_path/launch.log`` (``tee -i``: a Ctrl-C in the pane stops the command, not the copy), then
    printing ``LAUNCH_EXIT=<status>`` and staying open (so the pane can still be read)."""
    script = tmp_path / "run.sh"
    script.write_text("".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
                      + (preamble + "\n" if preamble else "")
                      + f"{shlex.join(command)} > >(tee -i {tmp_path / 'launch.log'}) 2>&1\n"
                      + "echo LAUNCH_EXIT=$?\nsleep 600\n")
    return script


class Pane:
    """One tmux session on a private server socket, running ``command``."""

    def __init__(self, name: str, command: str) -> None:
        self.base = ["tmux", "-L", name]
        subprocess.run([*self.base, "new-session", "-d", "-s", name, "-x", "250", "-y", "50", command],
                       check=True)
        self.seen = ""

    def screen(self) -> str:
        out = subprocess.run([*self.base, "capture-pane", "-p", "-S", "-2000"], capture_output=True,
                             text=True, check=False).stdout
        self.seen += out
        return out

    def wait_for(self, text: str, timeout_s: float) -> str:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            screen = self.screen()
            if text in screen:
                return screen
            if "LAUNCH_EXIT=" in screen:
                break
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not on the screen:\n{self.screen()[-4000:]}")

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.base, "send-keys", *keys], check=True)

    def close(self) -> None:
        subprocess.run([*self.base, "kill-server"], check=False, capture_output=True)
        socket = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}" / self.base[-1]
        socket.unlink(missing_ok=True)


