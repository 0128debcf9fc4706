"""Futures: a run a worker executes (TaskRunFuture), or one running here (LocalTaskRunFuture)."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from taskwire.client import TaskRunClient, get_client
from taskwire.errors import TaskRunFailed
from taskwire.payload import decode_json
from taskwire.state import State, TaskRunState
from taskwire.v1 import task_run_pb2

R = TypeVar("R")


class TaskRunFuture(Generic[R]):
    """A scheduled run; returned by ``Task.delay()`` once the run is durable.

    Waiting costs no call per run: every future of a client waits on the client's one
    WatchTaskRuns stream, which the server answers when the run is final.

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
        """The run as last seen, or None before anything was read."""
        return self._task_run

    @property
    def state(self) -> State:
        """The run's state, as Prefect names it (``future.state.name == "Completed"``).

        Final states are remembered; otherwise one GetTaskRun call.
        """
        if not self._is_final():
            self._task_run = self.client.get(self.task_run_id)
        return _state_of(self._task_run)

    def _is_final(self) -> bool:
        return self._task_run is not None and TaskRunState.from_proto(self._task_run.state).is_final

    def wait(self, timeout: float | None = None) -> TaskRunState:
        """Blocks until the run is final or ``timeout`` seconds pass; returns its state.

        When the timeout passes first, the returned state is the run's state then (one
        GetTaskRun call), not final.

        Raises:
            TaskwireError: the server does not know the run, or could not be reached at
                the end of a timeout.
        """
        if not self._is_final():
            [watch] = self.client.watch([self.task_run_id])
            if watch.done.wait(timeout):
                if watch.error is not None:
                    raise watch.error
                self._task_run = watch.run
            else:
                self._task_run = self.client.get(self.task_run_id)
        assert self._task_run is not None
        return TaskRunState.from_proto(self._task_run.state)

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> R:
        """Waits for the run and returns the task's return value.

        With ``raise_on_failure=False`` a failed or cancelled run returns its
        TaskRunFailed instead of raising it, as Prefect's futures do.

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
            failed = TaskRunFailed(self.task_run_id, state.value, error.type, error.message, error.stack)
            if raise_on_failure:
                raise failed
            return failed  # type: ignore[return-value]
        raise TimeoutError(f"task run {self.task_run_id} is still {state.value} after {timeout} s")

    def cancel(self) -> TaskRunState:
        """Asks the server to cancel the run; returns the state right after the request."""
        self._task_run = self.client.cancel(self.task_run_id)
        return TaskRunState.from_proto(self._task_run.state)

    def __repr__(self) -> str:
        return f"TaskRunFuture(task_run_id={self.task_run_id!r})"


def _state_of(run: task_run_pb2.TaskRun | None) -> State:
    if run is None:
        return State(TaskRunState.UNSPECIFIED)
    return State(TaskRunState.from_proto(run.state), run.error.message if run.HasField("error") else "")


class LocalTaskRunFuture(Generic[R]):
    """A call running now in a thread of this process; returned by ``Task.submit()``.

    ``task_run_id`` is the id the server recorded the run under once it finished (None
    before, or when no server was reachable).
    """

    def __init__(self, future: concurrent.futures.Future[R], task_key: str) -> None:
        self._future = future
        self.task_key = task_key
        self.task_run_id: str | None = None

    @property
    def state(self) -> State:
        """Running, then Completed or Failed (Prefect's names)."""
        if not self._future.done():
            return State(TaskRunState.RUNNING)
        error = self._future.exception()
        if error is None:
            return State(TaskRunState.COMPLETED)
        return State(TaskRunState.FAILED, str(error))

    def wait(self, timeout: float | None = None) -> TaskRunState:
        """Blocks until the call returned or ``timeout`` seconds passed; returns its state."""
        concurrent.futures.wait([self._future], timeout=timeout)
        return self.state.type

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> R:
        """The call's return value; its exception is raised (or returned with
        ``raise_on_failure=False``).

        Raises:
            TimeoutError: the call did not return within ``timeout`` seconds.
        """
        try:
            return self._future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(f"task {self.task_key!r} is still running after {timeout} s") from None
        except Exception as exc:
            if raise_on_failure:
                raise
            return exc  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"LocalTaskRunFuture(task_key={self.task_key!r}, state={self.state!r})"


class TaskRunFutureList(list[TaskRunFuture[R]]):
    """The futures of ``Task.map()``, in the order of its inputs."""

    def wait(self, timeout: float | None = None) -> None:
        """Blocks until every run is final, or ``timeout`` seconds pass."""
        if not self:
            return
        pending = [f for f in self if not f._is_final()]
        watches = self[0].client.watch([f.task_run_id for f in pending])
        _wait_all([w.done for w in watches], timeout)
        for future, watch in zip(pending, watches):
            if watch.run is not None:
                future._task_run = watch.run

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> list[R]:
        """Every run's value, in order (see ``TaskRunFuture.result``)."""
        self.wait(timeout)
        return [f.result(timeout=0, raise_on_failure=raise_on_failure) for f in self]


def _wait_all(events: Iterable[threading.Event], timeout: float | None) -> None:
    deadline = None if timeout is None else time.monotonic() + timeout
    for event in events:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not event.wait(remaining):
            return
