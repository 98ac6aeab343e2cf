"""Headless Chromium for the viewer tests: Debian's ``chromium`` driven by playwright-core (npm, installed
by ``npm ci`` in this directory) through ``screenshot.mjs``, with software rendering."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")


def browser_missing() -> str | None:
    """Why no screenshot can be taken here, or None."""
    if not CHROMIUM.is_file():
        return "no /usr/bin/chromium (apt-get install chromium)"
    if shutil.which("node") is None:
        return "no node (apt-get install nodejs)"
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        return f"no playwright-core in {HERE}/node_modules (run `npm ci` in {HERE})"
    return None


def screenshots(url: str, prefix: Path, wait_s: float, user_data_dir: Path, shots: int = 1,
                interval_s: float = 10.0) -> list[Path]:
    """Open ``url`` in a fresh headless Chromium profile, wait ``wait_s``, then save ``shots`` PNGs
    ``interval_s`` apart (``<prefix>_<i>.png``). The browser runs at the lowest CPU priority: its software
    rendering would otherwise take the 2 cores from the graph it shows (the simulated arm's bus then
    misses its replies and the driver drops the arm)."""
    cmd = ["nice", "-n", "19", "node", str(HERE / "screenshot.mjs"), url, str(prefix), str(wait_s),
           str(user_data_dir), str(shots), str(interval_s)]
    timeout_s = wait_s + shots * (interval_s + 180) + 180
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=HERE)
    paths = [Path(f"{prefix}_{i}.png") for i in range(shots)]
    assert proc.returncode == 0 and all(p.is_file() for p in paths), proc.stdout[-3000:] + proc.stderr[-3000:]
    return paths


def load_png(path: Path) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB."""
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"))


def distinct_colours(region: np.ndarray) -> int:
    """Distinct colours (8 bits per channel) in an image region."""
    q = region[..., :3].reshape(-1, 3).astype(np.int32)
    return len(np.unique(q[:, 0] * 65536 + q[:, 1] * 256 + q[:, 2]))


def colour_pixels(region: np.ndarray, rgb: tuple[int, int, int], tol: int = 40) -> int:
    """Pixels within ``tol`` (per channel) of ``rgb``."""
    return int(np.all(np.abs(region.astype(np.int32) - np.array(rgb)) <= tol, axis=-1).sum())


def free_port_pair() -> int:
    """A port p with p and p + 1 free (the web viewer and its gRPC feed)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65535 and _free(port) and _free(port + 1):
            return port
    raise RuntimeError("no free port pair")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True
