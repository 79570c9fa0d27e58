"""The one bridge between the Qt window and the core: run a core job in a QThread.

A job is a callable ``fn(progress, cancel)``. It either returns a result, or returns a generator whose
items are streamed back one by one (napari's generator workers; Anki's background operations). On the
GUI thread, the :class:`Job` then emits, in this order:

* ``progress(ProgressEvent)`` for each event the core reports, and ``item(object)`` for each yielded item;
* exactly one of ``finished(result)``, ``cancelled()`` or ``failed(exception, traceback_text)``;
* ``ended()``, after the thread has really stopped (quit + wait), so the UI can safely start another job.

Cancel comes back in through the job's :class:`CancelToken`: the core checks it between steps (and
raises ``Cancelled``); a generator is also closed between items. Every failure is also sent to the one
place errors are shown, :data:`error_hub`, unless the job was started with ``report_errors=False``.
No UI code runs inside a job: it only reports events and returns.
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Iterator
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ditto_desk.core.progress import Cancelled, CancelToken, JobFn, Outcome


class ErrorHub(QObject):
    """Where every job failure goes (title, exception, traceback text); the main window shows them."""

    error = Signal(str, object, str)


error_hub = ErrorHub()


class _Runner(QObject):
    """Lives in the worker thread; its signals cross to the GUI thread as queued connections."""

    progress = Signal(object)
    item = Signal(object)
    result = Signal(object)
    error = Signal(object, str)
    stopped = Signal()

    def __init__(self, fn: JobFn, token: CancelToken) -> None:
        super().__init__()
        self._fn = fn
        self._token = token

    @Slot()
    def run(self) -> None:
        try:
            value = self._fn(self.progress.emit, self._token)
            if inspect.isgenerator(value):
                self._drain(value)
                value = None
        except Cancelled:
            self.stopped.emit()
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the GUI, never die in the thread
            self.error.emit(exc, traceback.format_exc())
        else:
            if self._token.cancelled and value is None:
                self.stopped.emit()  # a generator that was closed, or a job that noticed cancel itself
            else:
                self.result.emit(value)

    def _drain(self, items: Iterator[Any]) -> None:
        try:
            for item in items:
                self.item.emit(item)
                if self._token.cancelled:
                    break
        finally:
            items.close()  # runs the generator's finally: blocks, e.g. joining a generate() thread


class Job(QObject):
    """A core job running in its own QThread. Create it on the GUI thread, connect, then :meth:`start`."""

    progress = Signal(object)
    item = Signal(object)
    finished = Signal(object)
    cancelled = Signal()
    failed = Signal(object, str)
    ended = Signal()

    _alive: set[Job] = set()  # keeps running jobs referenced until they end

    def __init__(self, fn: JobFn, title: str = "Background job", *, report_errors: bool = True) -> None:
        super().__init__()
        self.title = title
        self.report_errors = report_errors
        self.token = CancelToken()
        self.outcome: Outcome | None = None  # once known
        self._thread = QThread()
        self._thread.setObjectName(f"ditto-desk: {title}")
        self._runner = _Runner(fn, self.token)
        self._runner.moveToThread(self._thread)
        self._thread.started.connect(self._runner.run)
        # Receivers are slots of this object, which lives in the GUI thread: the connections are queued.
        self._runner.progress.connect(self._on_progress)
        self._runner.item.connect(self._on_item)
        self._runner.result.connect(self._on_result)
        self._runner.error.connect(self._on_error)
        self._runner.stopped.connect(self._on_stopped)

    def start(self) -> Job:
        Job._alive.add(self)
        self._thread.start()
        return self

    def cancel(self) -> None:
        self.token.cancel()

    def wait(self, ms: int = 30_000) -> bool:
        """Block until the thread has stopped (used when the window closes). True if it did."""
        return self._thread.wait(ms)

    @Slot(object)
    def _on_progress(self, event: object) -> None:
        self.progress.emit(event)

    @Slot(object)
    def _on_item(self, value: object) -> None:
        self.item.emit(value)

    @Slot(object)
    def _on_result(self, value: object) -> None:
        self._stop_thread(Outcome.FINISHED)
        self.finished.emit(value)
        self._end()

    @Slot()
    def _on_stopped(self) -> None:
        self._stop_thread(Outcome.CANCELLED)
        self.cancelled.emit()
        self._end()

    @Slot(object, str)
    def _on_error(self, exc: object, trace: str) -> None:
        self._stop_thread(Outcome.FAILED)
        self.failed.emit(exc, trace)
        if self.report_errors:
            error_hub.error.emit(self.title, exc, trace)
        self._end()

    def _stop_thread(self, outcome: Outcome) -> None:
        # run() has returned before its last signal was delivered, so this wait is short.
        self.outcome = outcome
        self._thread.quit()
        self._thread.wait()

    def _end(self) -> None:
        Job._alive.discard(self)
        self.ended.emit()


def running_jobs() -> list[Job]:
    return list(Job._alive)


def stop_all_jobs(timeout_ms: int = 30_000) -> None:
    """Cancel every running job and wait for its thread (the window calls this when it closes)."""
    jobs = running_jobs()
    for job in jobs:
        job.cancel()
    for job in jobs:
        job.wait(timeout_ms)
