"""Keys from a real pseudo-terminal (the test types on its master side), and the speech fallback."""

from __future__ import annotations

import os
import termios
import time

import pytest

from vla_ros.session.errors import SessionError
from vla_ros.session.keys import Key, TerminalKeys, decode_keys
from vla_ros.session.speech import Speaker


@pytest.mark.parametrize(("data", "keys", "rest"), [
    (b"\x1b[C\x1b[D", [Key.RIGHT, Key.LEFT], b""),
    (b"\x1bOC", [Key.RIGHT], b""),
    (b" s\r", [Key.SPACE, "s", Key.ENTER], b""),
    (b"f\x1b", ["f"], b"\x1b"),
    (b"\x1b[", [], b"\x1b["),
    (b"\x1b[1;5C", [], b""),
    (b"\x1bx", [Key.ESC, "x"], b""),
    (b"\x03\x7f", [], b""),
])
def test_decode(data, keys, rest):
    assert decode_keys(data) == (keys, rest)


def test_final_lone_escape_is_esc():
    assert decode_keys(b"\x1b", final=True) == ([Key.ESC], b"")


def test_terminal_keys_on_a_pty():
    master, slave = os.openpty()
    try:
        keys = TerminalKeys(os.ttyname(slave))
        mode = termios.tcgetattr(slave)
        assert not mode[3] & termios.ICANON and not mode[3] & termios.ECHO
        os.write(master, b"\x1b[C")
        assert keys.read(2.0) == [Key.RIGHT]
        os.write(master, b"\x1b")
        assert keys.read(2.0) == [Key.ESC]
        assert keys.read(0.05) == []
        keys.write("status")
        assert os.read(master, 100) == b"status"
        keys.close()
        assert termios.tcgetattr(slave)[3] & termios.ICANON, "the terminal's mode is restored"
    finally:
        os.close(master)
        os.close(slave)


def test_no_terminal_is_a_clear_error(tmp_path):
    with pytest.raises(SessionError, match="no terminal"):
        TerminalKeys(str(tmp_path / "missing"))
    (tmp_path / "file").write_text("")
    with pytest.raises(SessionError, match="not a terminal"):
        TerminalKeys(str(tmp_path / "file"))


def test_speaker_is_silent_without_a_program():
    speaker = Speaker(programs=("no-such-speech-program",))
    speaker.say("Recording episode 1")
    assert speaker.program is None and speaker.spoken == ["Recording episode 1"]
    assert Speaker(enabled=False).program is None


def test_speaker_runs_the_speech_program(tmp_path):
    heard = tmp_path / "heard.txt"
    program = tmp_path / "spd-say"
    program.write_text(f"#!/bin/sh\necho \"$1\" >> {heard}\n")
    program.chmod(0o755)
    speaker = Speaker(programs=(str(program),))
    speaker.say("Reset the environment")
    deadline = time.monotonic() + 10
    while not heard.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert heard.read_text() == "Reset the environment\n"
