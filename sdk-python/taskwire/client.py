"""The caller's side of the wire: a gRPC channel to TaskRunService with auth metadata."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import grpc

from taskwire.errors import TaskwireError
from taskwire.run_watcher import RunWatch, RunWatcher
from taskwire.schedule_batcher import ScheduleBatcher
from taskwire.settings import Settings, load_settings
from taskwire.v1 import task_run_pb2, task_run_service_pb2, task_run_service_pb2_grpc

T = TypeVar("T")

# Unary calls other than waits should answer quickly; a hung server must not hang delay().
_CALL_TIMEOUT_S = 30.0


# grpc's own reconnect backoff grows to 120 s by default, and calls fail fast meanwhile:
# a worker would sit idle for minutes after a server restart. Cap it at our 5 s.
# (Not min_reconnect_backoff_ms: grpc also uses it as the connect timeout, 20 s by default.)
_CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 5000),
]


def open_channel(settings: Settings) -> grpc.Channel:
    """A channel to the server: plaintext HTTP/2 for http://, TLS for https://."""
    if settings.secure:
        credentials = grpc.ssl_channel_credentials()
        return grpc.secure_channel(settings.grpc_target, credentials, options=_CHANNEL_OPTIONS)
    return grpc.insecure_channel(settings.grpc_target, options=_CHANNEL_OPTIONS)


def auth_metadata(settings: Settings) -> tuple[tuple[str, str], ...]:
    """``authorization: Bearer <key>`` when an API key is set."""
    if settings.api_key:
        return (("authorization", f"Bearer {settings.api_key}"),)
    return ()


def to_taskwire_error(exc: grpc.RpcError, settings: Settings) -> TaskwireError:
    """Turns a grpc error into a TaskwireError whose message says what to do."""
    code = exc.code() if isinstance(exc, grpc.Call) else grpc.StatusCode.UNKNOWN
    details = exc.details() if isinstance(exc, grpc.Call) else str(exc)
    if code == grpc.StatusCode.UNAVAILABLE:
        message = (
            f"cannot reach the taskwire server at {settings.api_url}; is it running? "
            f"({details}; set TASKWIRE_API_URL to point elsewhere)"
        )
    elif code == grpc.StatusCode.UNAUTHENTICATED:
        message = f"the taskwire server refused the API key ({details}); check TASKWIRE_API_KEY"
    else:
        message = f"{code.name}: {details}"
    return TaskwireError(message, code.name)


class TaskRunClient:
    """Schedules, reads, waits for and cancels task runs.

    Most code never builds one: ``Task.delay()`` and ``TaskRunFuture`` use
    ``get_client()``. Build one to talk to a server other than the configured one.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        self._channel = open_channel(self.settings)
        self._stub = task_run_service_pb2_grpc.TaskRunServiceStub(self._channel)
        self._metadata = auth_metadata(self.settings)
        self._batcher = ScheduleBatcher(self._schedule_batch)
        self._watcher = RunWatcher(
            lambda requests: self._stub.WatchTaskRuns(requests, metadata=self._metadata),
            lambda exc: to_taskwire_error(exc, self.settings),
        )

    def _call(self, method: Callable[..., T], request: object, timeout: float) -> T:
        try:
            return method(request, timeout=timeout, metadata=self._metadata)
        except grpc.RpcError as exc:
            raise to_taskwire_error(exc, self.settings) from None

    def schedule(self, spec: task_run_pb2.TaskRunSpec) -> task_run_service_pb2.ScheduleTaskRunResponse:
        """Schedules one run; returns after the server committed it.

        Runs scheduled by other threads at the same moment travel in the same request.
        """
        return self._batcher.schedule([spec])[0]

    def schedule_many(
        self, specs: list[task_run_pb2.TaskRunSpec]
    ) -> list[task_run_service_pb2.ScheduleTaskRunResponse]:
        """Schedules several runs in one request (``Task.map``); returns once all are durable."""
        return self._batcher.schedule(specs)

    def _schedule_batch(
        self, specs: list[task_run_pb2.TaskRunSpec]
    ) -> list[task_run_service_pb2.ScheduleTaskRunResponse]:
        request = task_run_service_pb2.ScheduleTaskRunsRequest(runs=specs)
        return list(self._call(self._stub.ScheduleTaskRuns, request, _CALL_TIMEOUT_S).runs)

    def watch(self, run_ids: list[str]) -> list[RunWatch]:
        """Watches for these runs to end, on the client's one WatchTaskRuns stream."""
        return self._watcher.watch(run_ids)

    def record(
        self, request: task_run_service_pb2.RecordTaskRunRequest, timeout: float = _CALL_TIMEOUT_S
    ) -> str:
        """Records a run that already ran in this process; returns its id."""
        return self._call(self._stub.RecordTaskRun, request, timeout).id

    def get(self, run_id: str) -> task_run_pb2.TaskRun:
        """The run as it is now, with its history."""
        request = task_run_service_pb2.GetTaskRunRequest(id=run_id)
        return self._call(self._stub.GetTaskRun, request, _CALL_TIMEOUT_S).task_run

    def cancel(self, run_id: str) -> task_run_pb2.TaskRun:
        """Asks the server to cancel the run; returns it as it is after the request."""
        request = task_run_service_pb2.CancelTaskRunRequest(id=run_id)
        return self._call(self._stub.CancelTaskRun, request, _CALL_TIMEOUT_S).task_run

    def logs(self, run_id: str) -> list[task_run_pb2.LogLine]:
        """The run's log lines, oldest first (up to the server's page of 1000)."""
        request = task_run_service_pb2.ListTaskRunLogsRequest(run_id=run_id)
        return list(self._call(self._stub.ListTaskRunLogs, request, _CALL_TIMEOUT_S).lines)

    def close(self) -> None:
        """Closes the watch stream and the channel."""
        self._watcher.close()
        self._channel.close()


_default_client: TaskRunClient | None = None
_default_lock = threading.Lock()


def get_client() -> TaskRunClient:
    """The process's shared client, built from the settings on first use.

    One channel for the process: grpc multiplexes every call over it.
    """
    global _default_client
    with _default_lock:
        if _default_client is None:
            _default_client = TaskRunClient()
        return _default_client
