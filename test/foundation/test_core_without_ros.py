"""The ROS-agnostic core never imports rclpy (STYLE.md, rule 1): only node adapters may."""

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(SRC).with_suffix("").parts)


def _is_adapter(name: str) -> bool:
    last = name.split(".")[-1]
    return (
        last == "node" or last.endswith("_node") or name.startswith("vla_ros.ros.")
        or name in {"vla_ros.bringup.monitor", "vla_ros.bringup.ros_launch"}
    )


def _imports_ros(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        if any(n.split(".")[0] in {"rclpy", "launch", "launch_ros"} or n.startswith("vla_ros.ros")
               or n == "vla_ros.msg" for n in names):
            return True
    return False


def test_only_adapters_import_rclpy():
    offenders = [_module_name(p) for p in SRC.rglob("*.py")
                 if not _is_adapter(_module_name(p)) and _imports_ros(p)]
    assert not offenders, f"core modules importing ROS: {offenders}"


def test_importing_the_core_leaves_rclpy_out():
    core = sorted(_module_name(p).removesuffix(".__init__") for p in SRC.rglob("*.py")
                  if not _is_adapter(_module_name(p)) and "training" not in p.parts)
    code = ("import importlib, sys\n"
            f"for m in {core!r}:\n    importlib.import_module(m)\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('rclpy', 'launch_ros')]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
