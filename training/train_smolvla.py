#!/usr/bin/env python3
"""Fine-tune SmolVLA on local LeRobot datasets; ``--help`` lists every option.

Runs without ROS (``pip install -e ".[train]"``); on several GPUs or nodes through
``accelerate launch training/train_smolvla.py ...``. The work is done by :mod:`vla_ros.training`.
"""

import sys

from vla_ros.training.cli import train_main

if __name__ == "__main__":
    sys.exit(train_main())
