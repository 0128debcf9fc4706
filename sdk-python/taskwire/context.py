"""What a task can know about the run it is executing: ``current_run()``."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

_local = threading.local()


@dataclass
class RunContext:
    """The run a worker thread is executing.

    Attributes:
        task_run_id: The run's id.
        task_key: The task's key.
        attempt: 1 for the first attempt, more on retries and redeliveries.
        tags: The run's tags.
        cancel_reason: Why the run should stop ("cancelled", "timed out", ...), once it should.
    """

    task_run_id: str
    task_key: str
    attempt: int
    tags: list[str] = field(default_factory=list)
    cancel_reason: str = ""
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def is_cancelled(self) -> bool:
        """True once the run was cancelled, timed out or lost its lease: stop soon."""
        return self._stop.is_set()

    def wait_cancelled(self, timeout: float | None = None) -> bool:
        """Sleeps up to ``timeout`` seconds, waking early when the run must stop.

        Use it instead of ``time.sleep()`` in long tasks. Returns ``is_cancelled()``.
        """
        return self._stop.wait(timeout)

    def request_stop(self, reason: str) -> None:
        """Marks the run as to be stopped (the worker calls this)."""
        if not self._stop.is_set():
            self.cancel_reason = reason
            self._stop.set()


def current_run() -> RunContext | None:
    """The run this thread is executing on a worker, or None outside a worker run.

    Example::

        @task
        def crunch(n: int):
            for i in range(n):
                run = current_run()
                if run and run.is_cancelled():
                    return "stopped early"
                ...
    """
    return getattr(_local, "run", None)


def is_cancelled() -> bool:
    """True when the current worker run should stop; False outside a worker run."""
    run = current_run()
    return run is not None and run.is_cancelled()


def set_current_run(run: RunContext | None) -> None:
    """Binds a run to this thread (the worker calls this around the task)."""
    _local.run = run
