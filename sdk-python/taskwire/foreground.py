"""Direct calls of a task: run here, then recorded on the server (RecordTaskRun).

The record is sent from one background thread, in call order, so a call costs no round
trip; the interpreter waits for that thread at exit, so the last record is not lost.
Without a reachable server the task still runs, and one warning says it was not recorded.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any

from google.protobuf import timestamp_pb2

from taskwire.client import TaskRunClient, get_client
from taskwire.errors import TaskwireError
from taskwire.payload import check_json_value, encode_json, encode_parameters
from taskwire.run_logs import flush_print_buffer, install_print_capture, swap_log_sink
from taskwire.v1 import task_run_pb2, task_run_service_pb2

# A record that takes longer than this is dropped: a foreground call must not wait long
# at exit for a server that does not answer.
_RECORD_TIMEOUT_S = 5.0


class TaskwireWarning(UserWarning):
    """Something taskwire could not do, that did not stop your code (a run not recorded)."""


_lock = threading.Lock()
_recorder: concurrent.futures.ThreadPoolExecutor | None = None
_warned = False


def _timestamp(seconds: float) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


class ForegroundRecord:
    """What one direct call did, gathered while it runs and sent once it ended."""

    def __init__(self, task_key: str, tags: list[str], log_prints: bool) -> None:
        self.task_key = task_key
        self.tags = tags
        self.log_prints = log_prints
        self.lines: list[task_run_pb2.LogLine] = []
        self.started = time.time()
        self._previous: tuple[Any, bool] | None = None

    def _sink(self, level: str, message: str) -> None:
        self.lines.append(task_run_pb2.LogLine(time=_timestamp(time.time()), level=level, message=message))

    def __enter__(self) -> ForegroundRecord:
        if self.log_prints:
            install_print_capture()
        self._previous = swap_log_sink(self._sink, self.log_prints)
        return self

    def __exit__(self, *exc: object) -> None:
        flush_print_buffer()
        assert self._previous is not None
        swap_log_sink(*self._previous)

    def send(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        value: Any = None,
        error: BaseException | None = None,
        on_recorded: Callable[[str], None] | None = None,
        client: TaskRunClient | None = None,
    ) -> None:
        """Queues the record for the background thread."""
        request = task_run_service_pb2.RecordTaskRunRequest(
            task_key=self.task_key,
            parameters=_parameters(args, kwargs),
            start_time=_timestamp(self.started),
            end_time=_timestamp(time.time()),
            logs=self.lines,
            tags=self.tags,
        )
        if error is None:
            request.state = task_run_pb2.TASK_RUN_STATE_COMPLETED
            try:
                request.result.CopyFrom(encode_json(value) if _is_json(value) else encode_json(repr(value)))
            except (TypeError, ValueError):
                pass
        else:
            request.state = task_run_pb2.TASK_RUN_STATE_FAILED
            request.error.CopyFrom(
                task_run_pb2.ErrorInfo(
                    type=type(error).__name__,
                    message=str(error),
                    stack="".join(traceback.format_exception(type(error), error, error.__traceback__)),
                )
            )
        _executor().submit(_send, client, request, on_recorded)


def _is_json(value: Any) -> bool:
    try:
        check_json_value(value, "the result")
        return True
    except TypeError:
        return False


def _parameters(args: tuple[Any, ...], kwargs: dict[str, Any]) -> task_run_pb2.Payload:
    try:
        return encode_parameters(args, kwargs)
    except TypeError:
        # A direct call may take anything Python can pass; the record shows such values
        # as their repr rather than not at all.
        return encode_json({"args": [repr(a) for a in args], "kwargs": {k: repr(v) for k, v in kwargs.items()}})


def _executor() -> concurrent.futures.ThreadPoolExecutor:
    global _recorder
    with _lock:
        if _recorder is None:
            _recorder = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="taskwire-record")
        return _recorder


def _send(
    client: TaskRunClient | None,
    request: task_run_service_pb2.RecordTaskRunRequest,
    on_recorded: Callable[[str], None] | None,
) -> None:
    global _warned
    client = client or get_client()
    try:
        run_id = client.record(request, timeout=_RECORD_TIMEOUT_S)
    except TaskwireError as exc:
        with _lock:
            if _warned:
                return
            _warned = True
        reason = (
            f"no taskwire server is reachable at {client.settings.api_url}"
            if exc.code in ("UNAVAILABLE", "DEADLINE_EXCEEDED")
            else f"the server refused it ({exc})"
        )
        # warn_explicit: from this thread no line of the caller's code is worth pointing at.
        warnings.warn_explicit(
            f"the run of task {request.task_key} was not recorded: {reason}. The task itself ran. (shown once)",
            TaskwireWarning,
            filename="taskwire",
            lineno=0,
        )
        return
    if on_recorded is not None:
        on_recorded(run_id)
