"""One WatchTaskRuns stream for every future of a client: no call per run, no polling.

A future that waits registers its run id; the stream's thread sends the ids to the
server, which answers each run once it is final. When the stream breaks (a server
restart), the thread opens a new one after a backoff and watches every run still waited
for again.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import grpc

from taskwire.errors import TaskwireError
from taskwire.v1 import task_run_pb2, task_run_service_pb2

log = logging.getLogger("taskwire.client")

# Reconnect delays double from 0.1 s up to 5 s, as the worker's do.
_BACKOFF_INITIAL_S = 0.1
_BACKOFF_MAX_S = 5.0

OpenStream = Callable[
    [Iterator[task_run_service_pb2.WatchTaskRunsRequest]],
    Iterator[task_run_service_pb2.WatchTaskRunsResponse],
]


@dataclass(eq=False)
class RunWatch:
    """The final run once the server sent it (``done`` set), or why it never will."""

    run_id: str
    done: threading.Event = field(default_factory=threading.Event)
    run: task_run_pb2.TaskRun | None = None
    error: TaskwireError | None = None


class RunWatcher:
    """Hands out RunWatch objects and keeps the one stream that fills them."""

    def __init__(self, open_stream: OpenStream, describe_error: Callable[[grpc.RpcError], TaskwireError]) -> None:
        self._open_stream = open_stream
        self._describe_error = describe_error
        self._lock = threading.Lock()
        self._watches: dict[str, RunWatch] = {}
        self._outbox: queue.Queue[task_run_service_pb2.WatchTaskRunsRequest | None] | None = None
        self._thread: threading.Thread | None = None
        self._call: grpc.Call | None = None
        self._closed = False

    def watch(self, run_ids: Iterable[str]) -> list[RunWatch]:
        """The watches of these runs, watched on the stream from now on (one message)."""
        ids = list(run_ids)
        added: list[str] = []
        with self._lock:
            watches = []
            for run_id in ids:
                existing = self._watches.get(run_id)
                if existing is None:
                    existing = self._watches[run_id] = RunWatch(run_id)
                    added.append(run_id)
                watches.append(existing)
            if added and self._outbox is not None:
                self._outbox.put(task_run_service_pb2.WatchTaskRunsRequest(run_ids=added))
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="taskwire-watch", daemon=True)
                self._thread.start()
        return watches

    def close(self) -> None:
        """Ends the stream; futures still waiting stay unresolved."""
        with self._lock:
            self._closed = True
            if self._outbox is not None:
                self._outbox.put(None)
            call = self._call
        if call is not None:
            call.cancel()

    def _requests(
        self, outbox: queue.Queue[task_run_service_pb2.WatchTaskRunsRequest | None]
    ) -> Iterator[task_run_service_pb2.WatchTaskRunsRequest]:
        while (message := outbox.get()) is not None:
            yield message

    def _run(self) -> None:
        delay = _BACKOFF_INITIAL_S
        while True:
            outbox: queue.Queue[task_run_service_pb2.WatchTaskRunsRequest | None] = queue.Queue()
            with self._lock:
                if self._closed:
                    return
                # The first message says final_only and names every run still waited for.
                pending = [run_id for run_id, watch in self._watches.items() if not watch.done.is_set()]
                outbox.put(task_run_service_pb2.WatchTaskRunsRequest(run_ids=pending, final_only=True))
                self._outbox = outbox
                call = self._open_stream(self._requests(outbox))
                self._call = call  # type: ignore[assignment]
            try:
                for response in call:
                    delay = _BACKOFF_INITIAL_S
                    self._deliver(response)
            except grpc.RpcError as exc:
                if self._closed:
                    return
                log.debug("the watch stream broke (%s); reopening in %.1f s", exc, delay)
            finally:
                outbox.put(None)
            if self._closed:
                return
            threading.Event().wait(delay)
            delay = min(delay * 2, _BACKOFF_MAX_S)

    def _deliver(self, response: task_run_service_pb2.WatchTaskRunsResponse) -> None:
        with self._lock:
            for run in response.task_runs:
                watch = self._watches.pop(run.id, None)
                if watch is not None:
                    watch.run = run
                    watch.done.set()
            for run_id in response.unknown_run_ids:
                watch = self._watches.pop(run_id, None)
                if watch is not None:
                    watch.error = TaskwireError(f'task run "{run_id}" not found', "NOT_FOUND")
                    watch.done.set()
