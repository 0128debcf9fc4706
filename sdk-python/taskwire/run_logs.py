"""Log lines of a run: print() output (``log_prints=True``) and ``get_run_logger()``.

A worker runs many tasks on threads that share one ``sys.stdout``, so the capture is a
tee installed once on ``sys.stdout`` that also hands each complete line to the sink of
the run bound to the writing thread. Output from threads a task starts itself is not
attributed to the run (it is still printed).
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Callable
from typing import TextIO

# (level, message) for the run bound to the current thread.
LogSink = Callable[[str, str], None]

_local = threading.local()


def set_log_sink(sink: LogSink | None, capture_prints: bool) -> None:
    """Binds a run's sink to this thread; the worker calls this around each task."""
    flush_print_buffer()
    _local.sink = sink
    _local.capture_prints = capture_prints and sink is not None
    _local.buffer = ""


def swap_log_sink(sink: LogSink | None, capture_prints: bool) -> tuple[LogSink | None, bool]:
    """Binds a sink to this thread and returns the one it replaces (sink, capture_prints).

    For a task called inside another task's run: its lines go to its own record, and the
    outer run's sink comes back after it.
    """
    previous = (getattr(_local, "sink", None), getattr(_local, "capture_prints", False))
    set_log_sink(sink, capture_prints)
    return previous


def flush_print_buffer() -> None:
    """Sends a trailing partial line (print(..., end="")) before the run ends."""
    sink: LogSink | None = getattr(_local, "sink", None)
    buffer: str = getattr(_local, "buffer", "")
    if sink is not None and buffer:
        _local.buffer = ""
        sink("info", buffer)


class _PrintTee(io.TextIOBase):
    """Writes through to the real stream and copies lines to the thread's run."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        written = self.stream.write(text)
        if getattr(_local, "capture_prints", False):
            buffer = getattr(_local, "buffer", "") + text
            *lines, _local.buffer = buffer.split("\n")
            for line in lines:
                _local.sink("info", line)
        return written

    def flush(self) -> None:
        self.stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", "utf-8")


_install_lock = threading.Lock()


def install_print_capture() -> None:
    """Puts the tee on ``sys.stdout`` once; idempotent."""
    with _install_lock:
        if not isinstance(sys.stdout, _PrintTee):
            sys.stdout = _PrintTee(sys.stdout)


_LEVELS = {
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warn",
    logging.ERROR: "error",
    logging.CRITICAL: "error",
}


class _RunLogHandler(logging.Handler):
    """Sends records logged on a run's thread to that run."""

    def emit(self, record: logging.LogRecord) -> None:
        sink: LogSink | None = getattr(_local, "sink", None)
        if sink is None:
            return
        try:
            level = _LEVELS.get(record.levelno, "info")
            sink(level, self.format(record))
        except Exception:  # a logging handler must never break the task
            self.handleError(record)


_run_logger = logging.getLogger("taskwire.task_run")
_run_logger.addHandler(_RunLogHandler())
_run_logger.setLevel(logging.INFO)


def get_run_logger() -> logging.Logger:
    """A logger whose records, logged inside a worker run, become that run's log lines.

    They also go to the usual logging handlers. Example::

        @task
        def crunch():
            get_run_logger().info("crunching")
    """
    return _run_logger
