"""serve(): run a task worker in the foreground until SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from types import FrameType

from taskwire.settings import Settings
from taskwire.task import Task
from taskwire.worker import Worker

log = logging.getLogger("taskwire.worker")

# Set by a supervisor that holds the write end of our stdin (the Node CLI's `taskwire task
# serve tasks.py:fn`): stdin's end means the supervisor is gone, however it died (SIGKILL
# included, which it cannot pass on), and the worker drains as on SIGTERM.
STOP_ON_STDIN_EOF = "TASKWIRE_STOP_ON_STDIN_EOF"


def _ensure_logging() -> None:
    # A worker that says nothing looks hung; print our lines unless the app set up logging.
    package_log = logging.getLogger("taskwire")
    if not package_log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        package_log.addHandler(handler)
        package_log.setLevel(logging.INFO)


def serve(
    *tasks: Task[..., object],
    limit: int = 10,
    shutdown_grace_seconds: float = 10.0,
    settings: Settings | None = None,
) -> None:
    """Serves these tasks until SIGTERM or SIGINT, like ``prefect task serve``.

    Runs at most ``limit`` runs at once. On SIGTERM/SIGINT it stops taking work, lets
    in-flight runs finish for up to ``shutdown_grace_seconds``, hands the rest back to
    the queue and returns; a second signal hands everything back at once. With
    ``TASKWIRE_STOP_ON_STDIN_EOF=1`` in the environment the end of stdin does what
    SIGTERM does (a supervisor holding our stdin's pipe died). Reconnects with backoff
    (up to 5 s) when the server goes away.

    Example::

        serve(send_email, limit=10)

    Raises:
        ValueError: no tasks, or limit below 1.
        TaskwireError: the server refused the worker (bad API key, bad Hello).
    """
    _ensure_logging()
    worker = Worker(
        tasks, limit=limit, settings=settings, shutdown_grace_seconds=shutdown_grace_seconds
    )

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("received %s; draining", signal.Signals(signum).name)
        worker.stop()

    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {}
    if in_main_thread:
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        worker.start()
        if os.environ.get(STOP_ON_STDIN_EOF) == "1":
            threading.Thread(
                target=_stop_on_stdin_eof, args=(worker,), name="taskwire-stdin-watch", daemon=True
            ).start()
        # Event.wait without a timeout still lets the signal handlers run.
        worker.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if worker.error is not None:
        raise worker.error
    log.info("worker %s stopped", worker.worker_id)


def _stop_on_stdin_eof(worker: Worker) -> None:
    """Reads stdin until its end (what comes is discarded), then drains the worker."""
    try:
        while os.read(0, 65536):
            pass
    except OSError as exc:
        # No stdin to watch (fd 0 closed): nothing says the supervisor is gone.
        log.warning(
            "%s is set but stdin cannot be read (%s); not watching it", STOP_ON_STDIN_EOF, exc
        )
        return
    log.info("stdin closed (the process that started this worker is gone); draining")
    worker.stop()
