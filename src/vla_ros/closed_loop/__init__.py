"""The closed loop in simulation: demonstrations -> bags -> dataset -> fine-tune -> deploy -> success.

``training/closed_loop.py`` (= ``vla-ros closed-loop``) runs every stage through the project's real
paths (``vla-ros launch record``, ``vla-ros convert``, ``vla-ros train``, ``vla-ros launch deploy
evaluate:=M``) and writes a JSON report and a PNG. No ROS imports here: stages are child processes.
"""
