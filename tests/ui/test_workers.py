"""The worker bridge: results, progress, items, cancel and failures arrive on the GUI thread, and the
thread is really stopped afterwards."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from ditto_desk.bridge.workers import Job, error_hub, running_jobs
from ditto_desk.core.progress import Cancelled, JobFn, ProgressEvent


def run_job(
    fn: JobFn,
    title: str,
    *,
    on_item: Callable[[Any], None] | None = None,
    on_cancelled: Callable[[], None] | None = None,
    on_failed: Callable[[BaseException, str], None] | None = None,
) -> Job:
    """Create a job, connect these handlers and start it."""
    job = Job(fn, title)
    for signal, handler in ((job.item, on_item), (job.cancelled, on_cancelled), (job.failed, on_failed)):
        if handler is not None:
            signal.connect(handler)
    return job.start()


def _finish(qtbot, job: Job, timeout: int = 10_000) -> None:
    with qtbot.waitSignal(job.ended, timeout=timeout):
        pass
    assert job._thread.isFinished()
    assert job not in running_jobs()


def test_result_and_progress_arrive_on_the_gui_thread(qtbot) -> None:
    seen: list[tuple[str, bool]] = []
    gui = QApplication.instance().thread()
    worker_threads: list[int] = []

    def fn(progress, cancel):
        worker_threads.append(threading.get_ident())
        for step in range(3):
            progress(ProgressEvent("sft", f"step {step}", step, 3, fraction=step / 3))
        return 42

    job = Job(fn, "test")
    job.progress.connect(lambda e: seen.append((e.message, QThread.currentThread() is gui)))
    results: list[object] = []
    job.finished.connect(results.append)
    job.start()
    _finish(qtbot, job)
    assert results == [42]
    assert seen == [(f"step {i}", True) for i in range(3)]
    assert worker_threads[0] != threading.get_ident()
    assert job.outcome == "finished"


def test_failure_carries_exception_and_traceback_and_reaches_the_hub(qtbot) -> None:
    failures: list[tuple[object, str]] = []
    hub: list[str] = []

    def on_hub(title: str, exc: object, trace: str) -> None:
        hub.append(title)

    def fn(progress, cancel):
        raise ValueError("the profile has no demonstrations yet")

    error_hub.error.connect(on_hub)
    try:
        job = run_job(fn, "Training stopped", on_failed=lambda exc, trace: failures.append((exc, trace)))
        _finish(qtbot, job)
    finally:
        error_hub.error.disconnect(on_hub)
    ((exc, trace),) = failures
    assert isinstance(exc, ValueError) and "no demonstrations" in str(exc)
    assert "Traceback" in trace and "ValueError" in trace
    assert hub == ["Training stopped"]
    assert job.outcome == "failed"


def test_cancel_reaches_the_job_and_reports_cancelled(qtbot) -> None:
    started = threading.Event()

    def fn(progress, cancel):
        started.set()
        while True:
            cancel.raise_if_cancelled()
            time.sleep(0.01)

    cancelled: list[bool] = []
    job = run_job(fn, "loop", on_cancelled=lambda: cancelled.append(True))
    assert started.wait(5)
    t0 = time.monotonic()
    job.cancel()
    _finish(qtbot, job)
    assert cancelled == [True]
    assert time.monotonic() - t0 < 2
    assert job.outcome == "cancelled"


def test_generator_items_stream_and_cancel_closes_the_generator(qtbot) -> None:
    closed = threading.Event()

    def fn(progress, cancel):
        def pieces():
            try:
                for i in range(10_000):
                    time.sleep(0.005)
                    yield f"piece{i} "
            finally:
                closed.set()  # e.g. Writer.stream joins its generate() thread here

        return pieces()

    items: list[str] = []
    job = run_job(fn, "stream", on_item=items.append)
    qtbot.waitUntil(lambda: len(items) >= 5, timeout=5_000)
    job.cancel()
    _finish(qtbot, job)
    assert closed.is_set()
    assert job.outcome == "cancelled"
    assert items[:3] == ["piece0 ", "piece1 ", "piece2 "]


def test_generator_that_runs_out_finishes(qtbot) -> None:
    items: list[int] = []
    job = run_job(lambda progress, cancel: iter_range(4), "gen", on_item=items.append)
    _finish(qtbot, job)
    assert items == [0, 1, 2, 3]
    assert job.outcome == "finished"


def iter_range(n: int):
    yield from range(n)


@pytest.mark.parametrize("exc", [Cancelled()])
def test_cancelled_raised_without_cancel_request_still_counts_as_cancelled(qtbot, exc) -> None:
    def fn(progress, cancel):
        raise exc

    job = run_job(fn, "x")
    _finish(qtbot, job)
    assert job.outcome == "cancelled"
