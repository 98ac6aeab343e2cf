"""Resources a graph needs before its nodes start, made on first use (both launch paths call this)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from vla_ros.bringup.graph import build_graph, default_policy_dir
from vla_ros.closed_loop.shipped import report_summary

__all__ = ["main", "prepare"]


def prepare(graph: str, args: Mapping[str, str], log=print) -> None:
    """Write the simulated arm's calibration (every node of a sim graph reads it at start), and make
    the tiny offline demo policy when the graph's policy is that one (``deploy`` without ``policy_path``
    or ``demo:=true``), print a shipped policy's closed-loop figures; say why there is no viewer when
    ``viewer:=rerun`` is asked for without rerun-sdk."""
    if args.get("viewer") == "rerun" or args.get("viewer_save"):
        from vla_ros.viewer.session import rerun_missing

        if rerun_missing():
            log(f"vla_ros: {rerun_missing()}")
    specs = {s.name: s for s in build_graph(graph, args)}
    if "so101_sim" in specs:
        from vla_ros.sim.calibration import write_sim_calibration

        sim = specs["so101_sim"].parameters
        write_sim_calibration(sim["robot_id"], sim["calibration_dir"] or None)
    target = default_policy_dir()
    policy = specs["smolvla_policy"].parameters["policy_path"] if "smolvla_policy" in specs else ""
    if summary := report_summary(policy):
        log(f"vla_ros: policy {policy}\nvla_ros: {summary}")
    if policy != str(target) or (target / "config.json").is_file():
        return
    from vla_ros.policy.tiny import make_tiny_policy

    log(f"vla_ros: writing the tiny offline demo policy to {target} (first run only)")
    # The sim's cameras at their default size, renamed to SmolVLA's camera1/camera2 as
    # lerobot-train --rename_map does.
    make_tiny_policy(target, image_size=(480, 640), chunk_size=50,
                     camera_map={"observation.images.front": "observation.images.camera1",
                                 "observation.images.wrist": "observation.images.camera2"})


def main(argv: Sequence[str]) -> int:
    """``vla-ros prepare GRAPH [name:=value ...]``: what the launch files run before their nodes.

    ``ros2 launch`` runs the launch file in the ROS install's own Python, which has no lerobot or
    mujoco (they live in the venv of scripts/ros_venv.sh); this command runs with the package's
    interpreter instead.
    """
    from vla_ros.bringup.graph import parse_launch_args

    if not argv:
        print("usage: vla-ros prepare GRAPH [name:=value ...]")
        return 2
    prepare(argv[0], parse_launch_args(argv[0], list(argv[1:])))
    return 0
