"""A run whose parameters or result the worker cannot handle fails; the worker lives on.

Against a real server process and a Python worker process with one slot: the faulty run
must end FAILED with the error's type and message, the slot must be free for the next
run, and SIGTERM must still stop the worker.
"""

from __future__ import annotations

import signal
from collections.abc import Callable

import pytest

from taskwire import TaskRunFailed
from taskwire.client import TaskRunClient
from taskwire.future import TaskRunFuture
from taskwire.payload import JSON_CONTENT_TYPE
from taskwire.v1 import task_run_pb2
from tests import fixtures_tasks
from tests.conftest import WorkerProcess

pytestmark = pytest.mark.integration

StartWorker = Callable[..., WorkerProcess]

# Deeper than Python's default recursion limit (1000): json.loads raises RecursionError.
DEPTH = 1000


def _deeply_nested_run(client: TaskRunClient) -> TaskRunFuture[object]:
    value = b"[" * DEPTH + b"]" * DEPTH
    spec = task_run_pb2.TaskRunSpec(
        task_key=fixtures_tasks.echo.task_key,
        parameters=task_run_pb2.Payload(content_type=JSON_CONTENT_TYPE, data=b'{"args":[' + value + b"]}"),
    )
    return TaskRunFuture(client.schedule(spec).id, client)


def _assert_failed(future: TaskRunFuture[object], error_type: str, in_message: str) -> None:
    with pytest.raises(TaskRunFailed) as raised:
        future.result(timeout=30)
    assert raised.value.state == "FAILED"
    assert raised.value.remote_type == error_type
    assert in_message in raised.value.remote_message


# The worker has one slot, and a shutdown grace far longer than the test waits for it to
# exit: it exits in time only if it holds no run, a faulty one included.
WORKER_ARGS = ("--limit", "1", "--grace", "600")


def _assert_slot_free_and_sigterm_stops(worker: WorkerProcess) -> None:
    # One slot: this run completes only if the faulty run gave it back.
    assert fixtures_tasks.add.delay(2, b=40).result(timeout=30) == 42
    worker.signal(signal.SIGTERM)
    assert worker.wait(60) == 0
    assert not any("releasing" in line for line in worker.output), "".join(worker.output)


def test_parameters_nested_too_deep_fail_the_run(client: TaskRunClient, start_worker: StartWorker) -> None:
    worker = start_worker("tests.fixtures_tasks:echo", "tests.fixtures_tasks:add", extra=WORKER_ARGS)
    _assert_failed(_deeply_nested_run(client), "RecursionError", "recursion")
    _assert_slot_free_and_sigterm_stops(worker)


def test_a_result_utf8_cannot_encode_fails_the_run(client: TaskRunClient, start_worker: StartWorker) -> None:
    worker = start_worker("tests.fixtures_tasks:lone_surrogate", "tests.fixtures_tasks:add", extra=WORKER_ARGS)
    _assert_failed(fixtures_tasks.lone_surrogate.delay(), "UnicodeEncodeError", "surrogates not allowed")
    _assert_slot_free_and_sigterm_stops(worker)
