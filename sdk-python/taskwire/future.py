"""TaskRunFuture: a handle on a run that a worker will execute."""

from __future__ import annotations

import time
from typing import Any, Generic, TypeVar

from taskwire.client import TaskRunClient, get_client
from taskwire.errors import TaskRunFailed
from taskwire.payload import decode_json
from taskwire.state import TaskRunState
from taskwire.v1 import task_run_pb2

R = TypeVar("R")


class TaskRunFuture(Generic[R]):
    """A scheduled run; returned by ``Task.delay()`` once the run is durable.

    Example::

        future = send_email.delay("ford@example.com")
        print(future.task_run_id, future.result(timeout=30))
    """

    def __init__(self, task_run_id: str, client: TaskRunClient | None = None) -> None:
        self.task_run_id = task_run_id
        self._client = client
        self._task_run: task_run_pb2.TaskRun | None = None

    @property
    def client(self) -> TaskRunClient:
        if self._client is None:
            self._client = get_client()
        return self._client

    @property
    def task_run(self) -> task_run_pb2.TaskRun | None:
        """The run as last seen by ``wait()``/``result()``, or None before either."""
        return self._task_run

    @property
    def state(self) -> TaskRunState:
        """The run's state now (one GetTaskRun call)."""
        self._task_run = self.client.get(self.task_run_id)
        return TaskRunState.from_proto(self._task_run.state)

    def wait(self, timeout: float | None = None) -> TaskRunState:
        """Blocks until the run is final or ``timeout`` seconds pass; returns its state.

        The server does the waiting (WaitTaskRun, up to 60 s per call), so there is no
        polling. When the timeout passes first, the returned state is not final.

        Raises:
            TaskwireError: the server could not be reached or does not know the run.
        """
        if self._task_run is not None and TaskRunState.from_proto(self._task_run.state).is_final:
            return TaskRunState.from_proto(self._task_run.state)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if deadline is None:
                wait_ms = 60_000
            else:
                wait_ms = int((deadline - time.monotonic()) * 1000)
                if wait_ms <= 0:
                    # The time is up: one last look, without waiting (timeout_ms=0 means 60 s).
                    self._task_run = self.client.get(self.task_run_id)
                    return TaskRunState.from_proto(self._task_run.state)
            response = self.client.wait(self.task_run_id, wait_ms)
            self._task_run = response.task_run
            state = TaskRunState.from_proto(response.task_run.state)
            if response.final or state.is_final:
                return state

    def result(self, timeout: float | None = None) -> R:
        """Waits for the run and returns the task's return value.

        Raises:
            TaskRunFailed: the run ended FAILED or CANCELLED; carries the remote error.
            TimeoutError: the run was not final within ``timeout`` seconds.
            TaskwireError: the server could not be reached or does not know the run.
        """
        state = self.wait(timeout)
        run = self._task_run
        assert run is not None
        if state is TaskRunState.COMPLETED:
            if not run.HasField("result"):
                return None  # type: ignore[return-value]
            value: Any = decode_json(run.result, f"the result of task run {self.task_run_id}")
            return value  # type: ignore[no-any-return]
        if state.is_final:
            error = run.error
            raise TaskRunFailed(
                self.task_run_id, state.value, error.type, error.message, error.stack
            )
        raise TimeoutError(
            f"task run {self.task_run_id} is still {state.value} after {timeout} s"
        )

    def cancel(self) -> TaskRunState:
        """Asks the server to cancel the run; returns the state right after the request."""
        self._task_run = self.client.cancel(self.task_run_id)
        return TaskRunState.from_proto(self._task_run.state)

    def __repr__(self) -> str:
        return f"TaskRunFuture(task_run_id={self.task_run_id!r})"
