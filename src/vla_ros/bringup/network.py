"""Which machines a graph's nodes discover: this one only (the default), or the whole subnet.

Two SO-101 setups on one lab network with the default ``ROS_DOMAIN_ID`` share every topic when
discovery spans the subnet, so the graphs run with discovery limited to this machine unless the
``network:=subnet`` launch argument asks for it (a viewer or a policy on another machine). ROS 2's
discovery variables (https://docs.ros.org/en/kilted/Tutorials/Advanced/Improved-Dynamic-Discovery.html):
Iron and later read ``ROS_AUTOMATIC_DISCOVERY_RANGE`` (``LOCALHOST``/``SUBNET``; a ``ROS_LOCALHOST_ONLY=1``
left in the shell would override it with a deprecation warning, so it is removed); Humble only knows
``ROS_LOCALHOST_ONLY`` (1/0). ROS-agnostic: environment values only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from vla_ros.errors import ConfigError

__all__ = ["LEGACY_DISTROS", "NETWORKS", "Discovery", "apply_environment", "discovery"]

NETWORKS = ("localhost", "subnet")
"""Values of the ``network`` launch argument."""
LEGACY_DISTROS = frozenset({"foxy", "galactic", "humble"})
"""Distributions without ``ROS_AUTOMATIC_DISCOVERY_RANGE`` (it came with Iron)."""


@dataclass(frozen=True)
class Discovery:
    """The discovery setting of a graph.

    Attributes:
        network: ``localhost`` or ``subnet``.
        env: ``(name, value)`` for every child process; value None removes the variable.
        summary: the line the launch prints at start.
    """

    network: str
    env: tuple[tuple[str, str | None], ...]
    summary: str


def discovery(network: str, distro: str | None = None) -> Discovery:
    """The environment limiting discovery as ``network`` says, for ROS distribution ``distro``.

    Args:
        network: one of :data:`NETWORKS`.
        distro: ``ROS_DISTRO`` (default: from the environment; unset means a recent one, as the pip
            install's Kilted wheels).

    Raises:
        ConfigError: an unknown ``network``.
    """
    if network not in NETWORKS:
        raise ConfigError(f"network:={network} must be one of {list(NETWORKS)}")
    distro = (os.environ.get("ROS_DISTRO", "") if distro is None else distro).strip().lower()
    local = network == "localhost"
    if distro in LEGACY_DISTROS:
        env: tuple[tuple[str, str | None], ...] = (("ROS_LOCALHOST_ONLY", "1" if local else "0"),)
        how = f"ROS_LOCALHOST_ONLY={'1' if local else '0'}"
    else:
        value = "LOCALHOST" if local else "SUBNET"
        env = (("ROS_AUTOMATIC_DISCOVERY_RANGE", value), ("ROS_LOCALHOST_ONLY", None))
        how = f"ROS_AUTOMATIC_DISCOVERY_RANGE={value}"
    domain = os.environ.get("ROS_DOMAIN_ID", "") or "0"
    if local:
        summary = (f"discovery: this machine only ({how}, ROS_DOMAIN_ID={domain}); network:=subnet to "
                   "reach other machines")
    else:
        summary = (f"discovery: the whole subnet ({how}, ROS_DOMAIN_ID={domain}): every machine on this "
                   "network and domain sees these topics; give each arm its own namespace or domain")
    return Discovery(network, env, summary)


def apply_environment(base: Mapping[str, str], env: tuple[tuple[str, str | None], ...]) -> dict[str, str]:
    """A copy of ``base`` with ``env`` applied (None removes a variable)."""
    out = dict(base)
    for name, value in env:
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out
