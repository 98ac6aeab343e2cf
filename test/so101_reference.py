"""Reference facts of the SO-101 for tests, written down independently of our URDF so tests can check it.

Importable from any test module (pytest puts this directory on ``sys.path`` for the root conftest).
"""

OFFICIAL_LIMITS = {
    "shoulder_pan": (-1.91986, 1.91986),
    "shoulder_lift": (-1.74533, 1.74533),
    "elbow_flex": (-1.69, 1.69),
    "wrist_flex": (-1.65806, 1.65806),
    "wrist_roll": (-2.74385, 2.84121),
    "gripper": (-0.174533, 1.74533),
}
"""Joint limits of the official SO-101 URDF (TheRobotStudio SO-ARM100, ``so101_new_calib.urdf``), rad."""
