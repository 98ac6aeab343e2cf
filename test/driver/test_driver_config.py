"""The driver configuration: defaults, validation, and the installed params file."""

from __future__ import annotations

import pytest

from vla_ros.driver.config import DriverConfig
from vla_ros.errors import ConfigError


def test_config_defaults_and_period() -> None:
    cfg = DriverConfig()
    assert cfg.publish_rate_hz == 100.0 and cfg.period_s == pytest.approx(0.01)
    assert cfg.max_relative_target == 0.0 and cfg.disable_torque_on_exit


def test_config_reports_every_problem_at_once() -> None:
    with pytest.raises(ConfigError) as excinfo:
        DriverConfig(
            port=" ",
            publish_rate_hz=0.0,
            read_retries=99,
            reconnect_backoff_s=2.0,
            reconnect_backoff_max_s=1.0,
        )
    message = str(excinfo.value)
    expected = ("publish_rate_hz=0.0", "read_retries=99", "port is empty", "reconnect_backoff_max_s=1.0")
    for fragment in expected:
        assert fragment in message


def test_the_params_file_declares_every_parameter_with_the_dataclass_defaults() -> None:
    import dataclasses

    import yaml

    from vla_ros.config import param_specs
    from vla_ros.paths import config_file

    params = yaml.safe_load(config_file("so101_driver.yaml").read_text())["so101_driver"]["ros__parameters"]
    assert set(params) == set(param_specs(DriverConfig))
    defaults = {f.name: f.default for f in dataclasses.fields(DriverConfig)}
    assert {k: v for k, v in params.items() if v != defaults[k]} == {}
