"""Declarative configuration: dataclass fields carry their parameter description and range.

Core config dataclasses (ROS-agnostic) mark each field with :func:`param`; the nodes turn those
fields into declared ROS parameters (:func:`vla_ros.ros.params.declare_config`) and the CLI can do the
same for flags. Validation lives in each dataclass's ``__post_init__`` and raises
:class:`vla_ros.errors.ConfigError` naming the field and the bad value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from vla_ros.errors import ConfigError

__all__ = [
    "ParamSpec",
    "check_range",
    "param",
    "param_specs",
    "parse_image_size",
    "parse_mapping",
    "range_problems",
]


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """How a config field is exposed as a parameter."""

    description: str
    range: tuple[float, float] | None = None
    read_only: bool = False
    choices: tuple[str, ...] | None = None


def param(
    description: str,
    *,
    range: tuple[float, float] | None = None,
    read_only: bool = False,
    choices: Sequence[str] | None = None,
) -> dict[str, ParamSpec]:
    """Field metadata: ``field(default=..., metadata=param("what it is, units", range=(lo, hi)))``."""
    return {"param": ParamSpec(description, range, read_only, tuple(choices) if choices else None)}


def param_specs(cls: type) -> dict[str, tuple[dataclasses.Field[Any], ParamSpec]]:
    """The fields of dataclass ``cls`` that carry a :func:`param` spec, by name."""
    out = {}
    for f in dataclasses.fields(cls):
        spec = f.metadata.get("param")
        if spec is not None:
            out[f.name] = (f, spec)
    return out


def range_problems(obj: object) -> list[str]:
    """Every field of a config dataclass outside its spec's range or not among its choices, one line
    each (a config's ``__post_init__`` adds its own checks to these and raises once)."""
    problems = []
    for name, (_, spec) in param_specs(type(obj)).items():
        value = getattr(obj, name)
        if spec.range is not None and not (spec.range[0] <= value <= spec.range[1]):
            problems.append(f"{name}={value!r} is outside [{spec.range[0]}, {spec.range[1]}]")
        if spec.choices is not None and value not in spec.choices:
            problems.append(f"{name}={value!r} is not one of {list(spec.choices)}")
    return problems


def check_range(obj: object) -> None:
    """Validate every field of a config dataclass against its spec's range and choices.

    Raises:
        ConfigError: listing every field out of range or not among its choices.
    """
    problems = range_problems(obj)
    if problems:
        raise ConfigError(f"{type(obj).__name__}: " + "; ".join(problems))


def parse_image_size(text: str, what: str = "image_size") -> tuple[int, int]:
    """Parse ``"WIDTHxHEIGHT"`` (e.g. ``"128x96"``) into ``(width, height)`` pixels.

    Raises:
        ConfigError: not two positive integers joined by ``x``.
    """
    width, sep, height = text.strip().lower().partition("x")
    if not (sep and width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0):
        raise ConfigError(f"{what}={text!r} must be WIDTHxHEIGHT in pixels, e.g. 128x96")
    return int(width), int(height)


def parse_mapping(items: Sequence[str] | Mapping[str, str], what: str) -> dict[str, str]:
    """Parse ``["key=value", ...]`` (the ROS-parameter form of a dict) into a dict.

    An empty value is kept (``"wrist="`` declares a camera explicitly unmapped).

    Raises:
        ConfigError: an item has no ``=``, an empty key, or a key given twice.
    """
    if isinstance(items, Mapping):
        return dict(items)
    out: dict[str, str] = {}
    for item in items:
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"{what}: expected 'key=value', got {item!r}")
        if key in out:
            raise ConfigError(f"{what}: key {key!r} given twice")
        out[key] = value.strip()
    return out
