"""The pip path's wheel carries the package's share (launch, config, urdf and the shipped policy,
``vlm/`` included) at ``share/vla_ros``, byte for byte, where :func:`vla_ros.paths.share_dir` looks
in a non-editable install."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_installs_the_share_with_the_shipped_policy(tmp_path):
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True,
                           timeout=600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    (wheel,) = tmp_path.glob("vla_ros-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        sizes = {info.filename.split("/data/", 1)[1]: info.file_size for info in zf.infolist()
                 if ".data/data/share/vla_ros/" in info.filename}
    expected = {f"share/vla_ros/{p.relative_to(ROOT)}": p.stat().st_size
                for folder in ("launch", "config", "urdf", "policies")
                for p in (ROOT / folder).rglob("*") if p.is_file()}
    assert any("/policies/" in name and name.endswith("model.safetensors") for name in expected)
    wrong = {name: (size, sizes.get(name)) for name, size in expected.items() if sizes.get(name) != size}
    assert not wrong, f"share files missing from the wheel or of another size: {wrong}"
