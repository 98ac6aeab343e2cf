#!/usr/bin/env python3
"""Evaluate SmolVLA checkpoints offline on held-out episodes; ``--help`` lists every option.

Writes a console table, ``report.json`` and PNG plots. The work is done by
:mod:`vla_ros.training.evaluate`.
"""

import sys

from vla_ros.training.cli import eval_main

if __name__ == "__main__":
    sys.exit(eval_main())
