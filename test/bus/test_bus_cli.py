"""``sts_bus_emulator`` as a standalone process, and the bus package's import hygiene."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from vla_ros.bus.cli import main


def _command() -> list[str]:
    script = Path(sys.executable).parent / "sts_bus_emulator"
    return [str(script)] if script.exists() else [sys.executable, "-m", "vla_ros.bus.cli"]


def test_standalone_emulator_prints_port_serves_lerobot_stops_on_sigint(tmp_path, feetech_bus) -> None:
    link = tmp_path / "arm.tty"
    proc = subprocess.Popen(
        [*_command(), "--link", str(link), "--initial-ticks", "1000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port == str(link) and os.path.islink(link)
        bus = feetech_bus(port)
        bus.connect()
        assert bus.sync_read("Present_Position", normalize=False) == dict.fromkeys(bus.motors, 1000)
        bus.disconnect()
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert not os.path.lexists(link)


def test_bad_arguments_exit_with_status_2(tmp_path, capsys) -> None:
    (tmp_path / "taken").write_text("")
    assert main(["--link", str(tmp_path / "taken")]) == 2
    assert "not a symlink" in capsys.readouterr().err


def test_bus_package_imports_neither_rclpy_nor_lerobot() -> None:
    code = (
        "import sys, vla_ros.bus, vla_ros.bus.cli; "
        "print(sorted(m for m in ('rclpy', 'lerobot') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
