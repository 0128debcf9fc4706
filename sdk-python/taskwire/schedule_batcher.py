"""Gathers the ``delay()`` calls of one moment into one ScheduleTaskRuns request.

Python code that delays runs blocks until each is durable, so "one moment" is: the calls
that threads make while a request is on its way, and the runs of one ``Task.map()``. The
first caller sends; callers that arrive meanwhile queue up, and the sender takes every
queued run in its next request (group commit, as the server commits). No timer, no
added latency: a lone caller's request leaves at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from taskwire.errors import TaskwireError
from taskwire.v1 import task_run_pb2, task_run_service_pb2

# Under the server's 10,000 runs per request and well under its message size limit.
MAX_BATCH = 1_000
# A batch is all or nothing on the server; these codes blame one run's content, so the
# runs of a refused batch are sent again one by one and only the bad one fails.
_PER_RUN_CODES = {"INVALID_ARGUMENT", "RESOURCE_EXHAUSTED"}

SendBatch = Callable[
    [list[task_run_pb2.TaskRunSpec]], Sequence[task_run_service_pb2.ScheduleTaskRunResponse]
]


@dataclass(eq=False)
class _Item:
    spec: task_run_pb2.TaskRunSpec
    done: threading.Event = field(default_factory=threading.Event)
    response: task_run_service_pb2.ScheduleTaskRunResponse | None = None
    error: TaskwireError | None = None


class ScheduleBatcher:
    """Sends ScheduleTaskRuns for everything queued; see the module docstring."""

    def __init__(self, send: SendBatch) -> None:
        self._send = send
        self._lock = threading.Lock()
        self._queue: list[_Item] = []
        self._sending = False

    def schedule(
        self, specs: Sequence[task_run_pb2.TaskRunSpec]
    ) -> list[task_run_service_pb2.ScheduleTaskRunResponse]:
        """Schedules these runs (with whatever else is queued); returns once all are durable.

        Raises:
            TaskwireError: the server could not be reached or refused a run; with several
                runs, the first refusal.
        """
        items = [_Item(spec) for spec in specs]
        with self._lock:
            self._queue.extend(items)
            lead = not self._sending
            self._sending = True
        if lead:
            self._drain()
        for item in items:
            item.done.wait()
        for item in items:
            if item.error is not None:
                raise item.error
        return [item.response for item in items if item.response is not None]

    def _drain(self) -> None:
        while True:
            with self._lock:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                if not batch:
                    self._sending = False
                    return
            self._send_batch(batch)

    def _send_batch(self, batch: list[_Item]) -> None:
        try:
            responses = self._send([item.spec for item in batch])
            for item, response in zip(batch, responses):
                item.response = response
        except TaskwireError as exc:
            if exc.code in _PER_RUN_CODES and len(batch) > 1:
                for item in batch:
                    self._send_batch([item])
                return
            for item in batch:
                item.error = exc
        except BaseException as exc:  # noqa: BLE001 - waiting callers must not hang
            for item in batch:
                item.error = TaskwireError(f"scheduling failed: {exc}", "UNKNOWN")
        finally:
            for item in batch:
                item.done.set()
