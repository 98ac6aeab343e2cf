"""Declare a config dataclass's fields as ROS parameters and build the validated config from them.

Each field marked with :func:`vla_ros.config.param` becomes one parameter with its description,
range (``FloatingPointRange``/``IntegerRange``) and ``read_only`` flag, so ``ros2 param describe``
shows what users need. Supported field types: bool, int, float, str, list[str], list[float].
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, ParameterType
from rclpy.node import Node

from vla_ros.config import param_specs
from vla_ros.errors import ConfigError

__all__ = ["declare_config", "descriptor_for"]

C = TypeVar("C")

_TYPES = {
    bool: ParameterType.PARAMETER_BOOL,
    int: ParameterType.PARAMETER_INTEGER,
    float: ParameterType.PARAMETER_DOUBLE,
    str: ParameterType.PARAMETER_STRING,
    "list[str]": ParameterType.PARAMETER_STRING_ARRAY,
    "list[float]": ParameterType.PARAMETER_DOUBLE_ARRAY,
}


def _type_key(field: dataclasses.Field[Any]) -> Any:
    t = field.type if not isinstance(field.type, str) else field.type.replace(" ", "")
    return {"bool": bool, "int": int, "float": float, "str": str}.get(t, t) if isinstance(t, str) else t


def descriptor_for(field: dataclasses.Field[Any]) -> ParameterDescriptor:
    """The ParameterDescriptor of one config field."""
    spec = field.metadata["param"]
    key = _type_key(field)
    if key not in _TYPES:
        raise TypeError(f"field {field.name}: unsupported parameter type {field.type!r}")
    desc = ParameterDescriptor(
        name=field.name,
        type=_TYPES[key],
        description=spec.description,
        read_only=spec.read_only,
    )
    if spec.choices:
        desc.additional_constraints = f"one of {list(spec.choices)}"
    if spec.range is not None:
        lo, hi = spec.range
        if key is int:
            desc.integer_range = [IntegerRange(from_value=int(lo), to_value=int(hi), step=0)]
        elif key is float:
            desc.floating_point_range = [
                FloatingPointRange(from_value=float(lo), to_value=float(hi), step=0.0)
            ]
    return desc


def _default(field: dataclasses.Field[Any]) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    raise TypeError(f"config field {field.name} needs a default to become a parameter")


def declare_config(node: Node, cls: type[C], **overrides: Any) -> C:
    """Declare every parameter of config dataclass ``cls`` on ``node`` and return the config.

    Args:
        node: the node to declare on.
        cls: a dataclass whose fields carry :func:`vla_ros.config.param` metadata.
        overrides: defaults to use instead of the dataclass's (e.g. from a checkpoint).

    Raises:
        ConfigError: a value has the wrong type or fails the dataclass's validation; the message
            names the node, the parameter and the value.
    """
    values: dict[str, Any] = {}
    for name, (field, _) in param_specs(cls).items():
        default = overrides.get(name, _default(field))
        key = _type_key(field)
        if key == "list[str]" and not default:
            default = [""]  # rclpy cannot infer the type of an empty list
        value = node.declare_parameter(name, default, descriptor_for(field)).value
        if key == "list[str]":
            value = [v for v in (value or []) if v]
        elif key == "list[float]":
            value = [float(v) for v in (value or [])]
        elif key is float and isinstance(value, int):
            value = float(value)
        values[name] = value
    try:
        return cls(**values)
    except ConfigError as err:
        raise ConfigError(f"node {node.get_name()}: {err}") from err
    except (TypeError, ValueError) as err:
        raise ConfigError(f"node {node.get_name()}: invalid parameters: {err}") from err
