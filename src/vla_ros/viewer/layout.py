"""The viewer's layout (a rerun blueprint), set by the bridge so a newcomer sees the whole story.

Top: each camera as the policy (or the dataset) gets it, side by side, titled ``<feature> ← <camera>``,
then the 3D view (arm model, the chunk's gripper path, the cubes). Middle: one plot per joint in
degrees (measured, policy, supervisor, chunk future, URDF limits). Bottom: policy and safety status
series, and the text log (refusals, warnings, e-stops).
"""

from __future__ import annotations

from collections.abc import Sequence

import rerun.blueprint as rrb

from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.viewer.entities import ARM, LOG, STATUS, TIMELINE, WORLD, CameraFeed

__all__ = ["PLOT_WINDOW_S", "blueprint"]

PLOT_WINDOW_S = (-10.0, 2.0)
"""Seconds of history and of future (the chunk) the joint plots show around the time cursor."""


def blueprint(feeds: Sequence[CameraFeed], joints: Sequence[str] = JOINT_NAMES) -> rrb.Blueprint:
    """The layout for ``feeds`` (cameras, in order) and ``joints`` (URDF names)."""
    start, end = (rrb.TimeRangeBoundary.cursor_relative(seconds=s) for s in PLOT_WINDOW_S)
    window = rrb.VisibleTimeRange(TIMELINE, start=start, end=end)
    cameras = [rrb.Spatial2DView(origin=feed.entity, name=feed.label) for feed in feeds]
    scene = rrb.Spatial3DView(origin="/", contents=[f"{ARM}/**", f"{WORLD}/**"],
                              name="arm, chunk path, cubes")
    plots = [rrb.TimeSeriesView(origin=f"joints/{joint}", name=f"{joint} [deg]", time_ranges=window)
             for joint in joints]
    status = rrb.TimeSeriesView(origin=STATUS, name="policy and safety status", time_ranges=window)
    log = rrb.TextLogView(origin=LOG, name="log: refusals, warnings, e-stops")
    return rrb.Blueprint(
        rrb.Vertical(
            rrb.Horizontal(*cameras, scene),
            rrb.Horizontal(*plots),
            rrb.Horizontal(status, log, column_shares=[1, 2]),
            row_shares=[4, 3, 2],
        ),
        rrb.BlueprintPanel(state="collapsed"),
        rrb.SelectionPanel(state="collapsed"),
        rrb.TimePanel(state="collapsed", timeline=TIMELINE),
        auto_views=False,
    )
