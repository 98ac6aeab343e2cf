"""``diagnose``: load both sides, run every check, rank the findings; ``write_diagnosis``: the report
and plots, written aside and moved into place.

Steps: the training dataset (:func:`~vla_ros.diagnose.sources.load_dataset`), the deployment in the
same units (:func:`~vla_ros.diagnose.sources.load_deployment`), the checkpoint's facts when given
(:mod:`~vla_ros.diagnose.checkpoint`), the checks (:mod:`~vla_ros.diagnose.checks`), the ranking
(:mod:`~vla_ros.diagnose.findings`). Nothing is written until everything was computed; then the
output goes into ``.<name>.partial-<pid>`` next to ``out`` and is renamed into place, so ``out`` holds
a complete diagnosis or nothing.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vla_ros.convert.mapping import ConvertConfig, load_config
from vla_ros.diagnose.checkpoint import CheckpointFacts, read_checkpoint
from vla_ros.diagnose.checks import CheckResult, all_checks
from vla_ros.diagnose.errors import OutputExistsError
from vla_ros.diagnose.findings import Finding, rank
from vla_ros.diagnose.report import build_report
from vla_ros.diagnose.sources import Recording, load_dataset, load_deployment

__all__ = ["REPORT_FILE", "Diagnosis", "diagnose", "write_diagnosis"]

REPORT_FILE = "report.json"


@dataclass
class Diagnosis:
    """Everything a diagnosis computed.

    Attributes:
        train, deploy: the two sides, same units.
        checkpoint: the checkpoint's facts, or None.
        results: every check's statistics and findings.
        findings: all findings, ranked (most important first).
        inputs: what was given, for the report.
    """

    train: Recording
    deploy: Recording
    checkpoint: CheckpointFacts | None
    results: list[CheckResult]
    findings: list[Finding]
    inputs: dict[str, Any] = field(default_factory=dict)

    def check(self, name: str) -> CheckResult:
        """The result of check ``name``.

        Raises:
            KeyError: no such check ran.
        """
        return next(r for r in self.results if r.name == name)


def diagnose(train: str | Path, deploy: Sequence[str | Path], *, checkpoint: str | Path | None = None,
             images: bool = True, config: ConvertConfig | None = None, progress: bool = True) -> Diagnosis:
    """Compare deployment episodes with the training dataset.

    Args:
        train: the training dataset (local LeRobot v3.0).
        deploy: deployment datasets and/or bags recorded by vla_ros.
        checkpoint: the deployed checkpoint (``pretrained_model``, or a run directory), or None.
        images: sample camera frames for the image statistics (False: features and sizes only).
        config: converter config for the bags (topics, calibration); default ``config/convert.yaml``.
        progress: tqdm progress bars on the loads.

    Raises:
        DiagnoseInputError: bad or incomparable input, every problem named.
        ConfigError / CalibrationError: bags in LeRobot units without a calibration source.
    """
    train_rec = load_dataset(train, images=images, progress=progress)
    deploy_rec = load_deployment(list(deploy), like=train_rec, config=config or load_config(), images=images,
                                 progress=progress)
    facts = read_checkpoint(checkpoint, train_rec.frames) if checkpoint is not None else None
    results = all_checks(train_rec, deploy_rec, facts)
    inputs = {"train": str(train), "deploy": [str(p) for p in deploy],
              "checkpoint": str(facts.path) if facts else None, "images": images}
    return Diagnosis(train_rec, deploy_rec, facts, results, rank(f for r in results for f in r.findings),
                     inputs)


def write_diagnosis(diagnosis: Diagnosis, out: str | Path, *, plots: bool = True,
                    overwrite: bool = False) -> dict[str, Any]:
    """Write ``report.json`` and the PNG plots into ``out``; returns the report.

    Raises:
        OutputExistsError: ``out`` exists and ``overwrite`` is False (nothing is written).
    """
    from vla_ros.diagnose.plots import write_plots

    out = Path(out).absolute()
    if out.exists() and not overwrite:
        raise OutputExistsError(f"{out} exists; choose another --out or pass --overwrite")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        files: list[str] = []
        if plots:
            z = np.asarray(diagnosis.check("start_state").stats["z"], dtype=np.float64)
            files = write_plots(staging, diagnosis.train, diagnosis.deploy, z)
        report = build_report(diagnosis.train, diagnosis.deploy, diagnosis.results, diagnosis.findings,
                              diagnosis.inputs, files)
        (staging / REPORT_FILE).write_text(json.dumps(report, indent=2, allow_nan=False))
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report
