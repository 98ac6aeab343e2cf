"""How much the viewer logs: rates, image size and quality (defaults sized for a 2-core machine)."""

from __future__ import annotations

from dataclasses import dataclass, field

from vla_ros.config import check_range, param

__all__ = ["BridgeConfig", "LoggerConfig"]


@dataclass(frozen=True)
class LoggerConfig:
    """Rates are per stream, in the messages' own time (simulated seconds in simulation).

    The defaults: images at 10 Hz, 320 px wide, JPEG quality 75; joints at 30 Hz sent in 1 s batches
    (one ``send_columns`` per entity); the 3D arm at 5 Hz (``bench/bench_viewer.py`` measures the cost).
    """

    image_rate_hz: float = field(default=10.0, metadata=param("Camera frames logged per second, each camera.",
                                                              range=(0.1, 120.0)))
    image_max_width_px: int = field(default=320, metadata=param("Logged frames are downscaled to this width.",
                                                                range=(16, 4096)))
    jpeg_quality: int = field(default=75, metadata=param("JPEG quality of logged frames.", range=(1, 100)))
    joint_rate_hz: float = field(default=30.0, metadata=param("Joint samples logged per second, each series.",
                                                              range=(0.1, 1000.0)))
    arm_rate_hz: float = field(default=5.0, metadata=param("3D arm poses logged per second.",
                                                            range=(0.1, 1000.0)))
    flush_period_s: float = field(default=1.0, metadata=param(
        "Series samples are sent in batches spanning this long (the plots lag by as much).",
        range=(0.0, 10.0)))

    def __post_init__(self) -> None:
        check_range(self)


@dataclass(frozen=True)
class BridgeConfig:
    """Where the ``rerun_bridge`` sends its data and whose cameras it shows."""

    serve: bool = field(default=True, metadata=param("Serve the web viewer (web_port) and its gRPC feed."))
    web_port: int = field(default=9090, metadata=param("Port of the served web viewer.", range=(1, 65535)))
    grpc_port: int = field(default=0, metadata=param("Port of the gRPC feed (0 = web_port + 1).",
                                                     range=(0, 65535)))
    save_path: str = field(default="", metadata=param(
        "Also record everything to this .rrd file ('' = none)."))
    memory_limit: str = field(default="512MB", metadata=param(
        "Data the server keeps for viewers that connect late (oldest dropped first), e.g. '512MB', '10%'."))
    policy_node: str = field(default="smolvla_policy", metadata=param(
        "Node whose camera_map/policy_path name the cameras ('' = no policy: dataset feature names)."))
    cameras: list[str] = field(default_factory=lambda: ["front", "wrist"], metadata=param(
        "ROS camera names (cameras/<name>/image_raw) when no camera_map names them."))

    def __post_init__(self) -> None:
        check_range(self)

    @property
    def grpc(self) -> int:
        """The gRPC port in use."""
        return self.grpc_port or self.web_port + 1
