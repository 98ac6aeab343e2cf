"""Teleoperation: scripted demonstrations in simulation and the SO-101 leader arm."""
