"""Rates of the status monitor: the sliding window and the rate while a gate is open."""

import pytest

from vla_ros.bringup.rates import GatedRate, RateMeter


def test_gated_rate_counts_only_while_open():
    rate = GatedRate()
    rate.tick(0.0)  # before the gate opens: not counted
    rate.gate(1.0, True)
    for k in range(30):  # 30 Hz for 1 s
        rate.tick(1.0 + k / 30)
    rate.gate(2.0, False)
    for k in range(100):  # shut: ignored
        rate.tick(2.0 + k / 100)
    rate.gate(5.0, True)
    rate.gate(5.0, True)  # repeating the state is harmless
    for k in range(15):
        rate.tick(5.0 + k / 30)
    assert rate.count == 45
    assert rate.rate_hz(5.5) == pytest.approx(45 / 1.5)
    assert GatedRate().rate_hz(3.0) == 0.0


def test_rate_meter_window():
    meter = RateMeter(window_s=1.0)
    for k in range(21):
        meter.tick(k / 10)
    assert meter.rate_hz(2.0) == pytest.approx(10.0)
    assert meter.rate_hz(10.0) == 0.0
