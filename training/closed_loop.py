#!/usr/bin/env python3
"""The closed loop in simulation, measured; ``--help`` lists every option.

Records scripted-expert demonstrations ("reach the red cube" / "reach the blue cube") through
``vla-ros launch record``, converts them with ``vla-ros convert``, fine-tunes a tiny SmolVLA with
``vla-ros train``, deploys it through the deploy graph (``vla-ros launch deploy evaluate:=M``) and
reports success per instruction, with the instructions exchanged, the cameras swapped (by
``camera_map`` name, and physically with ``swap_cameras:=true``: both must be refused before the arm
moves) and a random baseline: ``<output-dir>/report.json`` and ``<output-dir>/episode.png``. Needs
the pip path's virtual environment (``make setup``); the work is done by :mod:`vla_ros.closed_loop`.
"""

import sys

from vla_ros.closed_loop.cli import main

if __name__ == "__main__":
    sys.exit(main())
