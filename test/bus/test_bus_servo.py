"""The servo model: speed- and acceleration-limited tracking, limp with torque off (fake clock)."""

from __future__ import annotations

import pytest

from vla_ros.bus import EmulatorConfigError, MotorPhysics, ServoModel


class FakeClock:
    """A hand-advanced monotonic clock, so the dynamics are checked exactly and fast."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _model(**kwargs) -> tuple[ServoModel, FakeClock]:
    clock = FakeClock()
    model = ServoModel([1, 2], {1: 1000, 2: 3000}, clock=clock, **kwargs)
    return model, clock


def test_is_motor_physics_and_starts_where_told() -> None:
    model, _ = _model()
    assert isinstance(model, MotorPhysics)
    assert (model.present(1), model.present(2)) == (1000, 3000)


def test_tracks_goal_within_speed_and_acceleration_limits_then_rests_on_it() -> None:
    model, clock = _model(max_speed_ticks_s=2000.0, acceleration_ticks_s2=20000.0)
    model.set_torque(1, True)
    model.set_goal(1, 3000)
    dt = 0.005
    prev_v, positions = 0.0, []
    for _ in range(400):
        clock.t += dt
        positions.append(model.present(1))
        v = model.velocity(1)
        assert abs(v) <= 2000.0 + 1e-6
        assert abs(v - prev_v) <= 20000.0 * dt + 1e-6
        prev_v = v
    assert positions == sorted(positions)  # no overshoot, no reversal
    assert positions[-1] == 3000 and model.velocity(1) == 0.0
    # 2000 ticks at 2000 ticks/s with 0.1 s ramps: about 1.1 s; it must not arrive much earlier
    arrival = next(i for i, p in enumerate(positions) if p == 3000) * dt
    assert 1.0 <= arrival <= 1.3


def test_torque_off_is_limp_and_movable_by_hand_torque_on_is_not() -> None:
    model, clock = _model()
    model.set_goal(2, 100)
    clock.t += 1.0
    assert model.present(2) == 3000  # torque is off at power-on: no motion
    model.move_by_hand(2, 2500)
    assert model.present(2) == 2500
    model.set_torque(2, True)
    model.set_goal(2, 2500)
    model.move_by_hand(2, 100)
    assert model.present(2) == 2500
    model.set_goal(2, 2600)
    clock.t += 0.01
    model.set_torque(2, False)  # stops dead where it is
    stopped = model.present(2)
    clock.t += 1.0
    assert model.present(2) == stopped < 2600


def test_goals_are_clamped_to_the_encoder_range() -> None:
    model, clock = _model()
    model.set_torque(1, True)
    model.set_goal(1, 99999)
    clock.t += 5.0
    assert model.present(1) == 4095 and model.goal(1) == 4095


@pytest.mark.parametrize(
    "kwargs",
    [{"max_speed_ticks_s": 0.0}, {"acceleration_ticks_s2": -1.0}, {"initial_ticks": {1: 5000}}],
)
def test_invalid_configuration_is_rejected(kwargs) -> None:
    initial = kwargs.pop("initial_ticks", None)
    with pytest.raises(EmulatorConfigError):
        ServoModel([1], initial, **kwargs)
