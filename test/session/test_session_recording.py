"""The recording session's episode loop, driven key by key on a stepped clock, recording real bags with
the rosbags backend of the bag recorder (EpisodeBagWriter). The e-stop is a recording stand-in (it is
the supervisor's, tested in test/safety)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from vla_ros.errors import ConfigError
from vla_ros.record.bag import EpisodeBagWriter
from vla_ros.record.errors import RecorderError
from vla_ros.session.errors import SessionError
from vla_ros.session.keys import Key
from vla_ros.session.recording import Phase, RecordingPlan, RecordingSession
from vla_ros.session.status import format_status

TOPIC = "/joint_states"


class Bags:
    """EpisodeControl over a real EpisodeBagWriter."""

    def __init__(self, root) -> None:
        self.writer = EpisodeBagWriter(root, {TOPIC: "sensor_msgs/msg/JointState"})

    def _wrap(self, fn):
        try:
            return str(fn())
        except RecorderError as err:
            raise SessionError(str(err)) from err

    def start(self) -> str:
        return self._wrap(lambda: self.writer.start("wave"))

    def save(self) -> str:
        return self._wrap(self.writer.stop)

    def discard(self) -> str:
        return self._wrap(self.writer.discard)


class Estop:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[bool] = []
        self.fail = fail

    def estop(self, latch: bool) -> str:
        self.calls.append(latch)
        if self.fail:
            raise SessionError("service safety/estop is not available")
        return "latched" if latch else "released"


@pytest.fixture
def rig(tmp_path):
    now = [100.0]
    spoken: list[str] = []
    bags = Bags(tmp_path / "bags")
    estop = Estop()

    def make(**plan):
        plan = RecordingPlan(**{"episodes": 3, "episode_time_s": 10.0, "reset_time_s": 5.0, **plan})
        return RecordingSession(plan, bags, estop, spoken.append, lambda: now[0])

    def advance(session, seconds):
        for _ in range(math.ceil(seconds * 10 - 1e-9)):
            now[0] += 0.1
            session.tick()

    return SimpleNamespace(make=make, advance=advance, bags=bags, estop=estop, spoken=spoken,
                           root=tmp_path / "bags")


def finished(root):
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def test_three_episodes_rerecord_early_end(rig):
    s = rig.make()
    s.begin()
    assert s.phase is Phase.RECORDING and rig.spoken == ["Recording episode 1"]
    rig.advance(s, 10.05)
    assert s.phase is Phase.RESETTING and len(s.saved) == 1
    assert s.status().time_left_s == pytest.approx(5.0, abs=0.11)
    rig.advance(s, 5.05)
    assert s.phase is Phase.RECORDING and s.episode == 2
    rig.advance(s, 3)
    s.on_key(Key.LEFT)
    assert s.phase is Phase.RESETTING and len(s.discarded) == 1 and "Re-record episode" in rig.spoken
    s.on_key(Key.RIGHT)
    assert s.phase is Phase.RECORDING and s.episode == 2
    rig.advance(s, 10.05)
    assert len(s.saved) == 2
    s.on_key(Key.RIGHT)
    assert s.phase is Phase.RECORDING and s.episode == 3
    rig.advance(s, 2)
    s.on_key(Key.RIGHT)
    assert s.done and len(s.saved) == 3 and rig.spoken[-1] == "Stop recording"
    assert [str(p) for p in finished(rig.root)] == s.saved
    assert not list((rig.root / ".partial").iterdir()), "the re-recorded episode left nothing"


@pytest.mark.parametrize(("on_stop", "kept"), [("save", 2), ("discard", 1)])
def test_esc_mid_episode_saves_or_discards(rig, on_stop, kept):
    s = rig.make(on_stop=on_stop)
    s.begin()
    s.on_key(Key.RIGHT)
    s.on_key(Key.RIGHT)
    rig.advance(s, 1)
    s.on_key(Key.ESC)
    assert s.done and len(finished(rig.root)) == kept and not list((rig.root / ".partial").iterdir())


def test_interrupt_while_resetting_keeps_what_is_done(rig):
    s = rig.make()
    s.begin()
    s.on_key(Key.RIGHT)
    s.interrupt()
    assert s.done and len(finished(rig.root)) == 1


def test_interrupt_after_the_recorder_stopped_first_ends_without_an_error(rig):
    """Under ros2 launch every node gets the Ctrl-C: the recorder may have applied on_shutdown first."""
    s = rig.make(on_stop="discard")
    s.begin()
    rig.advance(s, 1)
    rig.bags.writer.discard()  # the recorder's own on_shutdown: discard
    s.interrupt()
    assert s.done and not s.error and finished(rig.root) == []
    assert "its on_shutdown applies" in s.log[-2][1]


def test_estop_discards_pauses_and_release_rerecords(rig):
    s = rig.make(episodes=1)
    s.begin()
    rig.advance(s, 2)
    s.on_key(Key.SPACE)
    assert s.phase is Phase.PAUSED and rig.estop.calls == [True] and "Enter" in s.status().prompt
    for key in (Key.RIGHT, Key.LEFT, Key.SPACE, "x"):
        s.on_key(key)
    rig.advance(s, 100)
    assert s.phase is Phase.PAUSED and rig.estop.calls == [True], "only Enter releases the e-stop"
    s.on_key(Key.ENTER)
    assert rig.estop.calls == [True, False] and s.phase is Phase.RESETTING
    rig.advance(s, 5.05)
    assert s.phase is Phase.RECORDING and s.episode == 1
    s.on_key(Key.RIGHT)
    assert s.done and len(finished(rig.root)) == 1 and len(s.discarded) == 1


def test_failed_estop_still_pauses_and_says_so(rig):
    s = RecordingSession(RecordingPlan(), rig.bags, Estop(fail=True), lambda _: None, lambda: 0.0)
    s.begin()
    s.on_key(Key.SPACE)
    assert s.phase is Phase.PAUSED and "E-STOP NOT APPLIED" in s.status().prompt


def test_recorder_failure_ends_the_session_with_the_reason(rig):
    s = rig.make()
    rig.bags.writer.start("wave")  # someone else is recording: record/start is refused
    s.begin()
    assert s.done and "already recording" in s.error


def test_no_reset_period_and_the_status_line(rig):
    s = rig.make(episodes=2, reset_time_s=0.0)
    s.begin()
    rig.advance(s, 10.05)
    assert s.phase is Phase.RECORDING and s.episode == 2
    rig.advance(s, 1)
    line = format_status(s.status(), "wave", {"joints": 29.6, "front": 15.0})
    assert line.startswith("episode 2/2 | RECORDING | 9.0 s left | saved 1 | task 'wave' | joints 30Hz")
    assert "← re-record" in line


def test_plan_names_every_bad_field():
    with pytest.raises(ConfigError, match=r"episodes.*on_stop"):
        RecordingPlan(episodes=0, on_stop="keep")
