"""package.xml declares every third-party import under src/, and every entry point is an executable."""

import ast
import re
import sys
from pathlib import Path

from catkin_pkg.package import parse_package

ROOT = Path(__file__).resolve().parents[2]

# Top-level Python module -> rosdep key that provides it.
ROSDEP_KEYS = {
    "rclpy": "rclpy",
    "rcl_interfaces": "rclpy",
    "sensor_msgs": "sensor_msgs",
    "std_msgs": "std_msgs",
    "std_srvs": "std_srvs",
    "diagnostic_msgs": "diagnostic_msgs",
    "geometry_msgs": "geometry_msgs",
    "trajectory_msgs": "trajectory_msgs",
    "visualization_msgs": "visualization_msgs",
    "rosgraph_msgs": "rosgraph_msgs",
    "builtin_interfaces": "rclpy",
    "ament_index_python": "ament_index_python",
    "launch": "launch",
    "launch_ros": "launch_ros",
    "cv_bridge": "cv_bridge",
    "numpy": "python3-numpy",
    "yaml": "python3-yaml",
    "catkin_pkg": "python3-catkin-pkg",
}


# Top-level Python module -> the requirement of resource/requirements.txt that brings it (the venv step
# of a ROS install, scripts/ros_venv.sh, and setup.py on the pip path): what rosdep cannot express.
VENV_REQUIREMENTS = {
    "lerobot": "lerobot", "scservo_sdk": "lerobot", "transformers": "lerobot", "tokenizers": "lerobot",
    "safetensors": "lerobot", "accelerate": "lerobot", "datasets": "lerobot", "draccus": "lerobot",
    "huggingface_hub": "lerobot", "av": "lerobot", "PIL": "lerobot", "pandas": "lerobot",
    "pyarrow": "lerobot", "psutil": "lerobot", "torch": "lerobot", "torchvision": "lerobot",
    "torchcodec": "lerobot", "wandb": "lerobot", "cv2": "lerobot", "serial": "lerobot",
    "rerun": "lerobot", "tensorboard": "lerobot",
    "rosbags": "rosbags", "mujoco": "mujoco", "tqdm": "tqdm", "matplotlib": "matplotlib",
}


def _requirement_names() -> set[str]:
    lines = (ROOT / "resource" / "requirements.txt").read_text().splitlines()
    return {re.split(r"[\[<>=!~ ]", line.strip(), maxsplit=1)[0].lower()
            for line in lines if line.strip() and not line.startswith("#")}


def _third_party_imports() -> dict[str, set[str]]:
    stdlib = set(sys.stdlib_module_names)
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in stdlib and top != "vla_ros":
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_declared():
    pkg = parse_package(str(ROOT / "package.xml"))
    declared = {d.name for d in pkg.exec_depends + pkg.build_depends + pkg.buildtool_depends}
    requirements = _requirement_names()
    problems = []
    for module, files in sorted(_third_party_imports().items()):
        key, requirement = ROSDEP_KEYS.get(module), VENV_REQUIREMENTS.get(module)
        if key is None and requirement is None:
            problems.append(f"{module} (imported in {sorted(files)}) has no known rosdep key or requirement")
        elif key is not None and key not in declared:
            problems.append(f"{module} needs <exec_depend>{key}</exec_depend>")
        elif requirement is not None and requirement not in requirements:
            problems.append(f"{module} needs {requirement} in resource/requirements.txt")
    assert not problems, "\n".join(problems)


def test_no_rosdep_key_duplicates_what_the_venv_step_installs():
    pkg = parse_package(str(ROOT / "package.xml"))
    declared = {d.name for d in pkg.exec_depends}
    # apt's torch/opencv beside lerobot's pinned ones, or pip keys into the system Python (PEP 668).
    clashing = sorted(k for k in declared if k.endswith("-pip") or k in {"python3-torch", "python3-opencv"})
    assert not clashing, f"installed by scripts/ros_venv.sh instead: {clashing}"


def test_package_xml_is_format_3_with_interfaces():
    pkg = parse_package(str(ROOT / "package.xml"))
    assert pkg.package_format == 3
    assert pkg.name == "vla_ros"
    assert "rosidl_interface_packages" in [g.name for g in pkg.member_of_groups]
    assert pkg.get_build_type() == "ament_cmake"


def _entry_points() -> dict[str, str]:
    lines = (ROOT / "resource" / "executables.txt").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {name.strip(): target.strip() for name, target in pairs}


def test_every_entry_point_is_an_installed_executable():
    bindir = Path(sys.executable).parent
    missing = [name for name in _entry_points() if not (bindir / name).is_file()]
    assert not missing, f"console scripts not installed in {bindir}: {missing} (rerun scripts/setup_env.sh)"


def test_every_entry_point_target_exists():
    problems = []
    for name, target in _entry_points().items():
        module, func = target.split(":")
        path = ROOT / "src" / Path(*module.split(".")).with_suffix(".py")
        if not path.is_file():
            problems.append(f"{name}: {path.relative_to(ROOT)} does not exist")
            continue
        funcs = {n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}
        if func not in funcs:
            problems.append(f"{name}: {module} defines no {func}()")
    assert not problems, "\n".join(problems)
