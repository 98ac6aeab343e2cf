"""The inference worker: never blocks its caller, runs the latest job, reports failures and latency."""

import threading
import time

import pytest

from vla_ros.policy.worker import InferenceWorker


def wait_results(worker, n, timeout_s=10.0):
    results, end = [], time.monotonic() + timeout_s
    while len(results) < n and time.monotonic() < end:
        results += worker.poll()
        time.sleep(0.005)
    return results


def test_submit_and_poll_never_block_while_a_job_runs():
    release = threading.Event()
    worker = InferenceWorker(lambda x: (release.wait(10), x * 2)[1])
    try:
        t0 = time.perf_counter()
        assert worker.submit(21)
        assert worker.poll() == []
        assert worker.busy
        assert time.perf_counter() - t0 < 0.5  # the job blocks for up to 10 s; the caller never does
        release.set()
        (result,) = wait_results(worker, 1)
        assert result.output == 42 and result.error is None and result.payload == 21
        assert not worker.busy
    finally:
        release.set()
        worker.close()


def test_latest_submission_replaces_a_waiting_one():
    gate = threading.Event()
    started = threading.Event()

    def job(x):
        started.set()
        gate.wait(10)
        return x

    worker = InferenceWorker(job)
    try:
        worker.submit("first")
        assert started.wait(5)
        for x in ("stale", "older", "latest"):
            worker.submit(x)
        gate.set()
        results = wait_results(worker, 2)
        assert [r.output for r in results] == ["first", "latest"]
        assert results[1].waited_s > 0
    finally:
        gate.set()
        worker.close()


def test_failures_are_reported_and_the_worker_survives():
    def job(x):
        if x == "bad":
            raise ValueError("boom")
        time.sleep(0.02)
        return x

    worker = InferenceWorker(job)
    try:
        worker.submit("bad")
        (bad,) = wait_results(worker, 1)
        assert isinstance(bad.error, ValueError) and bad.output is None
        worker.submit("good")
        (good,) = wait_results(worker, 1)
        assert good.output == "good"
        stats = worker.stats()
        assert stats.count == 1  # failures do not count as latency samples
        assert stats.last_s >= 0.02 and stats.mean_s >= 0.02 and stats.p99_s >= stats.mean_s * 0.99
    finally:
        worker.close()


def test_close_refuses_new_jobs():
    worker = InferenceWorker(lambda x: x)
    assert worker.close()
    assert not worker.submit(1)
    assert worker.stats().count == 0


@pytest.mark.parametrize("n", [5])
def test_latency_statistics_over_a_window(n):
    worker = InferenceWorker(lambda s: time.sleep(s), window=3)
    try:
        for s in (0.05, 0.0, 0.0, 0.0)[:n]:
            worker.submit(s)
            wait_results(worker, 1)
        stats = worker.stats()
        assert stats.count == 4
        assert stats.max_s < 0.05  # the 50 ms sample left the 3-sample window
    finally:
        worker.close()
