"""Executing one assignment on the current thread, and interrupting it from another.

The outcome is data (a result Payload or an ErrorInfo), never an exception: a task's
failure is reported on the run, not raised in the worker.
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
import traceback
from dataclasses import dataclass

from taskwire.context import RunContext, set_current_run
from taskwire.errors import NonRetryableError, TaskRunCancelled
from taskwire.payload import check_json_value, decode_parameters, encode_json
from taskwire.run_logs import LogSink, install_print_capture, set_log_sink
from taskwire.task import Task
from taskwire.v1 import task_run_pb2


@dataclass
class Outcome:
    """Exactly one of result and error is set."""

    result: task_run_pb2.Payload | None = None
    error: task_run_pb2.ErrorInfo | None = None


def failure(error_type: str, message: str, stack: str = "", retryable: bool = True) -> Outcome:
    """An Outcome for a failed attempt."""
    return Outcome(
        error=task_run_pb2.ErrorInfo(
            type=_utf8(error_type), message=_utf8(message), stack=_utf8(stack), retryable=retryable
        )
    )


def failure_from(exc: BaseException, what: str = "", retryable: bool = True) -> Outcome:
    """An Outcome for a failed attempt: the exception's type, message and traceback."""
    return failure(
        type(exc).__name__,
        f"{what}: {exc}" if what else str(exc),
        "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
        retryable,
    )


def _utf8(text: str) -> str:
    # A protobuf string must be valid UTF-8; an exception message holding a lone surrogate
    # would make building the report raise, and the run would never be reported.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _is_retryable(exc: BaseException) -> bool:
    # Retrying cannot fix a call that does not fit the function, and a task may say so.
    return not isinstance(exc, NonRetryableError)


class Interruptible:
    """Lets another thread raise TaskRunCancelled inside the task, only while it runs.

    Python cannot kill a thread; CPython can schedule an exception in it, delivered at
    the next bytecode. A task blocked in C (a long time.sleep, a socket read) only sees
    it when that call returns; ``RunContext.wait_cancelled()`` is the prompt way to wait.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread_id: int | None = None

    def enter(self) -> None:
        with self._lock:
            self._thread_id = threading.get_ident()

    def leave(self) -> None:
        with self._lock:
            self._thread_id = None

    def interrupt(self) -> None:
        with self._lock:
            if self._thread_id is not None:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(self._thread_id), ctypes.py_object(TaskRunCancelled)
                )


def execute(
    task: Task[..., object],
    parameters: task_run_pb2.Payload,
    context: RunContext,
    interruptible: Interruptible,
    log_sink: LogSink,
) -> Outcome:
    """Runs the task with the run's parameters and encodes what happened.

    Every error becomes a failed Outcome, whichever step raised it: a RecursionError from
    parameters nested deeper than the interpreter's recursion limit (1000), a
    UnicodeEncodeError from a result holding a lone surrogate. An exception escaping here
    would end the run's thread with the run unreported and its slot taken for good.
    """
    try:
        args, kwargs = decode_parameters(parameters)
        task.signature.bind(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the same parameters fail the same way again
        return failure_from(exc, f"task {task.name!r}", retryable=False)

    if task.log_prints:
        # Checked per run: something (a test runner, the app) may have swapped sys.stdout.
        install_print_capture()
    set_current_run(context)
    set_log_sink(log_sink, capture_prints=task.log_prints)
    try:
        try:
            interruptible.enter()
            try:
                value = task.fn(*args, **kwargs)
                if task.is_async:
                    # Each run on its own thread, so each gets its own event loop.
                    value = asyncio.run(value)
            finally:
                interruptible.leave()
        except TaskRunCancelled:
            return failure("Cancelled", context.cancel_reason or "cancelled", retryable=False)
        except BaseException as exc:  # noqa: BLE001 - every task error is data on the run
            # SystemExit too: sys.exit() in a task ends that attempt, not the worker.
            return failure_from(exc, retryable=_is_retryable(exc))
        # Retrying cannot fix a value that does not encode: these failures are final.
        what = f"the return value of task {task.name!r}"
        try:
            check_json_value(value, what)
            return Outcome(result=encode_json(value))
        except TypeError as exc:
            return failure("TypeError", str(exc), retryable=False)  # the message names the value
        except Exception as exc:  # noqa: BLE001 - a RecursionError, a UnicodeEncodeError
            return failure_from(exc, what, retryable=False)
    except TaskRunCancelled:
        # Delivered late, just after the task returned: the run was stopped all the same.
        return failure("Cancelled", context.cancel_reason or "cancelled", retryable=False)
    finally:
        set_log_sink(None, capture_prints=False)
        set_current_run(None)
