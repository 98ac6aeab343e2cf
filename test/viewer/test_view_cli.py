"""``vla-ros view BAG`` (the viewer's logging core) and ``vla-ros view DATASET`` (lerobot's dataset
visualisation, web mode) on a bag written with rosbags and the dataset ``vla-ros convert`` makes of it:
the served web viewer answers, and what it serves, pulled with rerun's own CLI into an .rrd file
(``rerun URL --save``), holds the logged entities."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "convert"))
import browser_testlib as browser
from convert_testlib import standard_bag

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("view_cli")
    bag = standard_bag(2.0, cameras=("front", "wrist")).write(tmp / "episode_0")
    dataset = tmp / "dataset"
    subprocess.run([str(BIN / "vla-ros"), "convert", str(bag), "--out", str(dataset), "--units", "rad",
                    "--vcodec", "h264", "--image-writer-threads", "0", "--no-progress"],
                   check=True, capture_output=True, timeout=600)
    return tmp, bag, dataset


def _serve_and_pull(path: Path, out: Path, extra: list[str], ready: str) -> set[str]:
    """Run ``vla-ros view PATH``, check the web viewer answers, pull its data; returns the entity paths."""
    import rerun.dataframe as rdf

    port = browser.free_port_pair()
    log = out.with_suffix(".log")
    with open(log, "w") as stream:
        proc = subprocess.Popen([str(BIN / "vla-ros"), "view", str(path), "--port", str(port), *extra],
                                stdout=stream, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 420
        while ready not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-4000:]
            time.sleep(0.5)
        page = _get(f"http://127.0.0.1:{port}/", deadline)
        assert "Rerun" in page
        time.sleep(8.0)  # the served recording is complete once logging is done (bag) or well under way
        pull = subprocess.Popen([str(BIN / "rerun"), f"rerun+http://127.0.0.1:{port + 1}/proxy", "--save",
                                 str(out), "--port", str(browser.free_port_pair())],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(15.0)
        pull.send_signal(signal.SIGINT)
        pull.wait(timeout=30)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=180)
    return {c.entity_path for c in rdf.load_recording(out).schema().component_columns()}


def _get(url: str, deadline: float) -> str:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.read().decode("utf-8", "replace")
        except OSError:
            assert time.monotonic() < deadline, f"no answer from {url}"
            time.sleep(0.5)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_view_bag_through_the_logging_core(recording):
    tmp, bag, _ = recording
    entities = _serve_and_pull(bag, tmp / "bag_pulled.rrd", [], ready="vla-ros view: logged")
    assert {"/dataset/observation.images.front", "/dataset/observation.images.wrist",
            "/joints/elbow_flex/measured", "/joints/elbow_flex/command"} <= entities, sorted(entities)
    assert any(e.startswith("/arm/so101/base_link") for e in entities)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_view_dataset_with_lerobots_visualisation(recording):
    tmp, _, dataset = recording
    entities = _serve_and_pull(dataset, tmp / "ds_pulled.rrd", ["--episode", "0"], ready="Ctrl-C to stop")
    assert {"/observation.images.front", "/observation.images.wrist", "/action/0", "/state/0"} <= entities, \
        sorted(entities)


def test_view_refuses_a_missing_episode_and_a_non_recording(recording, tmp_path):
    _, _, dataset = recording
    bad = subprocess.run([str(BIN / "vla-ros"), "view", str(dataset), "--episode", "3"], capture_output=True,
                         text=True, timeout=300)
    assert bad.returncode == 1 and "episodes 0..0" in bad.stderr
    (tmp_path / "notes.txt").write_text("not a bag")
    bad = subprocess.run([str(BIN / "vla-ros"), "view", str(tmp_path / "notes.txt")], capture_output=True,
                         text=True, timeout=300)
    assert bad.returncode == 1 and "notes.txt" in bad.stderr
