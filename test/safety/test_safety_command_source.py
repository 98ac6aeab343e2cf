"""The supervisor takes policy/joint_commands only from its command source, over real DDS: with a rogue
publisher there it holds (following neither), names the rogue in safety/status and on /diagnostics,
and the source's next command resumes once the rogue is gone (the bench's arm stands in for the robot)."""

from __future__ import annotations

import time

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from ros_testlib import RoguePublisher

GOAL_A = np.array([0.2, -0.1, 0.1, 0.1, 0.0, 0.2])
GOAL_B = np.array([-0.2, 0.1, -0.1, 0.0, 0.1, 0.4])
ROGUE = np.array([1.2, 0.8, -0.8, 1.0, 1.5, 1.0])


def test_a_rogue_on_the_command_input_holds_and_is_named_then_the_source_resumes(bench, urdf):
    bench.start(np.zeros(6), urdf=str(urdf), state_timeout_s=1.0, command_timeout_s=1.0)
    bench.arm_follows = True
    diagnostics: list[DiagnosticStatus] = []
    name = f"{bench.ns}/safety_supervisor: command source"
    bench.node.create_subscription(DiagnosticArray, "/diagnostics", lambda m: diagnostics.extend(
        s for s in m.status if s.name == name), 50)
    bench.stream_until(GOAL_A, GOAL_A)

    rogue = RoguePublisher(bench.rclpy.create_node("rogue", namespace=bench.ns, context=bench.ctx),
                           "policy/joint_commands", ROGUE)
    bench.wait_for(lambda: bench.rec.statuses[-1].state_name == "HOLDING"
                   and f"{bench.ns}/rogue" in bench.rec.statuses[-1].reason, 15, "HOLDING naming the rogue")
    bench.wait_for(lambda: bool(diagnostics) and diagnostics[-1].level == DiagnosticStatus.ERROR
                   and "/rogue" in diagnostics[-1].message, 15, "/diagnostics naming the rogue")
    t0 = time.monotonic()
    bench.stream(GOAL_B, 1.5)  # the source goes on: neither it nor the rogue is followed
    held = np.stack([c[1] for c in bench.commands_since(t0)])
    np.testing.assert_allclose(held, np.broadcast_to(GOAL_A, held.shape), atol=1e-9)

    rogue.stop()
    bench.wait_for(lambda: bool(diagnostics) and diagnostics[-1].level == DiagnosticStatus.OK, 15,
                   "/diagnostics OK after the rogue left")
    bench.stream_until(GOAL_B, GOAL_B)
    assert bench.last_status().state_name == "PASSING"
