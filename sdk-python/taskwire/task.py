"""The @task decorator: a function that runs now when called, or later on a worker."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import functools
import inspect
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, ParamSpec, TypeVar, overload

from google.protobuf import timestamp_pb2

from taskwire.client import TaskRunClient, get_client
from taskwire.foreground import ForegroundRecord
from taskwire.future import LocalTaskRunFuture, TaskRunFuture, TaskRunFutureList
from taskwire.map_arguments import map_arguments
from taskwire.payload import encode_parameters
from taskwire.v1 import task_run_pb2

P = ParamSpec("P")
R = TypeVar("R")

_APPLY_OPTIONS = frozenset(
    {
        "scheduled_time",
        "delay_seconds",
        "retries",
        "retry_delay_seconds",
        "retry_jitter_factor",
        "timeout_seconds",
        "priority",
        "idempotency_key",
        "tags",
        "max_redeliveries",
    }
)


def _delays(value: float | Sequence[float] | None) -> list[float]:
    if value is None:
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    return [float(v) for v in value]


class Task(Generic[P, R]):
    """A function with a task key, runnable now or deferred to a worker.

    Build one with ``@task``. Calling it runs the function in this process;
    ``delay()`` schedules a run for a worker that serves its key.
    """

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        retries: int = 0,
        retry_delay_seconds: float | Sequence[float] | None = None,
        retry_jitter_factor: float | None = None,
        timeout_seconds: float | None = None,
        log_prints: bool = False,
        tags: Iterable[str] | None = None,
    ) -> None:
        self.fn = fn
        self.is_async = inspect.iscoroutinefunction(fn)
        # The key is a stable name, never a hash of the code: a redeploy must not orphan
        # the runs already queued under it.
        self.name: str = name or fn.__name__
        self.retries = retries
        self.retry_delay_seconds = _delays(retry_delay_seconds)
        self.retry_jitter_factor = retry_jitter_factor
        self.timeout_seconds = timeout_seconds
        self.log_prints = log_prints
        self.tags = list(tags or [])
        self.signature = inspect.signature(fn)
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    @property
    def task_key(self) -> str:
        """The name workers serve this task under (``name=`` or the function's name)."""
        return self.name

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Runs the function now, in this process, and records the run on the server.

        The record (state, result or error, and with ``log_prints`` the printed lines)
        is sent in the background; without a reachable server the call still runs and a
        single TaskwireWarning says it was not recorded. An ``async def`` task returns a
        coroutine, as the function does.
        """
        if self.is_async:
            return self._call_async(args, kwargs)  # type: ignore[return-value]
        return self._call(args, kwargs)

    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any], on_recorded: Callable[[str], None] | None = None) -> R:
        record = ForegroundRecord(self.name, self.tags, self.log_prints)
        try:
            with record:
                value = self.fn(*args, **kwargs)
        except BaseException as exc:
            record.send(args, kwargs, error=exc, on_recorded=on_recorded)
            raise
        record.send(args, kwargs, value=value, on_recorded=on_recorded)
        return value

    async def _call_async(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], on_recorded: Callable[[str], None] | None = None
    ) -> Any:
        # Printed lines are gathered per thread: with other coroutines printing on this
        # loop meanwhile, their lines would land in this record too.
        record = ForegroundRecord(self.name, self.tags, self.log_prints)
        try:
            with record:
                value = await self.fn(*args, **kwargs)  # type: ignore[misc]
        except BaseException as exc:
            record.send(args, kwargs, error=exc, on_recorded=on_recorded)
            raise
        record.send(args, kwargs, value=value, on_recorded=on_recorded)
        return value

    def submit(self, *args: P.args, **kwargs: P.kwargs) -> LocalTaskRunFuture[R]:
        """Runs the function now in a thread of this process; returns a future at once.

        The run is recorded on the server like a direct call. Example::

            future = crunch.submit(42)
            print(future.result(timeout=10))
        """
        holder: list[LocalTaskRunFuture[R]] = []

        def recorded(run_id: str) -> None:
            holder[0].task_run_id = run_id

        def run() -> R:
            if self.is_async:
                return asyncio.run(self._call_async(args, kwargs, recorded))  # type: ignore[no-any-return]
            return self._call(args, kwargs, recorded)

        future = LocalTaskRunFuture(_submit_pool().submit(run), self.name)
        holder.append(future)
        return future

    def map(self, *args: Any, **kwargs: Any) -> TaskRunFutureList[R]:
        """Delays one run per item of the iterable arguments, all in one request.

        Lists, tuples, sets, ranges and generators are mapped (zipped: they must be of
        equal length); other values, and any wrapped in ``unmapped(...)``, go to every
        run. Example::

            futures = send_email.map(["ford@example.com", "arthur@example.com"], subject="Hi")
            print(futures.result(timeout=60))

        Raises:
            ValueError: no iterable argument, or iterables of different lengths.
            TypeError, TaskwireError: as ``delay()``.
        """
        calls = map_arguments(self.name, args, kwargs)
        specs = [self.build_spec(call_args, call_kwargs) for call_args, call_kwargs in calls]
        client = get_client()
        responses = client.schedule_many(specs) if specs else []
        return TaskRunFutureList(TaskRunFuture(response.id, client) for response in responses)

    def with_options(self, **options: Any) -> Task[P, R]:
        """A copy of this task with some options changed (``name``, ``retries``,
        ``retry_delay_seconds``, ``retry_jitter_factor``, ``timeout_seconds``,
        ``log_prints``, ``tags``). Example::

            patient = send_email.with_options(retries=5, timeout_seconds=120)
        """
        current = {
            "name": self.name,
            "retries": self.retries,
            "retry_delay_seconds": self.retry_delay_seconds,
            "retry_jitter_factor": self.retry_jitter_factor,
            "timeout_seconds": self.timeout_seconds,
            "log_prints": self.log_prints,
            "tags": self.tags,
        }
        unknown = set(options) - set(current)
        if unknown:
            raise TypeError(f"unknown option(s) for {self.name}: {', '.join(sorted(unknown))}")
        return Task(self.fn, **{**current, **options})

    def serve(self, limit: int = 10, shutdown_grace_seconds: float = 10.0) -> None:
        """Serves this task until SIGTERM or SIGINT (``serve(self, ...)``)."""
        from taskwire.serve import serve  # serve imports this module

        serve(self, limit=limit, shutdown_grace_seconds=shutdown_grace_seconds)

    def delay(self, *args: P.args, **kwargs: P.kwargs) -> TaskRunFuture[R]:
        """Schedules a run with these arguments; returns once the server committed it.

        Raises:
            TypeError: the arguments do not fit the function's signature, or a value
                cannot be carried as JSON (the message names the argument).
            TaskwireError: the server could not be reached or refused the run.
        """
        return self.apply_async(args=args, kwargs=kwargs)

    def apply_async(
        self,
        args: Sequence[Any] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        client: TaskRunClient | None = None,
        **options: Any,
    ) -> TaskRunFuture[R]:
        """Schedules a run with per-run options (Celery's spelling).

        Options: ``scheduled_time`` (datetime) or ``delay_seconds``, ``retries``,
        ``retry_delay_seconds``, ``retry_jitter_factor``, ``timeout_seconds``,
        ``priority``, ``idempotency_key``, ``tags`` (added to the task's tags),
        ``max_redeliveries``. Unset options take the task's defaults.

        Example::

            send_email.apply_async(("ford@example.com",), delay_seconds=60, priority=5)

        Raises:
            TypeError: an unknown option, bad arguments, or a value JSON cannot carry.
            TaskwireError: the server could not be reached or refused the run.
        """
        spec = self.build_spec(args, kwargs or {}, **options)
        client = client or get_client()
        response = client.schedule(spec)
        return TaskRunFuture(response.id, client)

    def build_spec(
        self, args: Sequence[Any], kwargs: dict[str, Any], **options: Any
    ) -> task_run_pb2.TaskRunSpec:
        """The TaskRunSpec that ``apply_async`` sends; validates everything first."""
        unknown = set(options) - _APPLY_OPTIONS
        if unknown:
            raise TypeError(f"unknown option(s) for {self.name}: {', '.join(sorted(unknown))}")
        try:
            self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"task {self.name!r}: {exc}") from None
        arg_names = [
            p.name
            for p in self.signature.parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        parameters = encode_parameters(args, kwargs, arg_names, self.name)
        return task_run_pb2.TaskRunSpec(
            task_key=self.name, parameters=parameters, options=self._options(options)
        )

    def _options(self, options: dict[str, Any]) -> task_run_pb2.TaskRunOptions:
        out = task_run_pb2.TaskRunOptions(
            retries=options.get("retries", self.retries),
            retry_delay_seconds=_delays(
                options.get("retry_delay_seconds", self.retry_delay_seconds)
            ),
            priority=options.get("priority", 0),
            idempotency_key=options.get("idempotency_key", "") or "",
            tags=list(dict.fromkeys([*self.tags, *options.get("tags", [])])),
            max_redeliveries=options.get("max_redeliveries", 0),
        )
        jitter = options.get("retry_jitter_factor", self.retry_jitter_factor)
        if jitter is not None:
            out.retry_jitter_factor = jitter
        timeout = options.get("timeout_seconds", self.timeout_seconds)
        if timeout is not None:
            out.timeout_seconds = timeout
        scheduled = _scheduled_time(options.get("scheduled_time"), options.get("delay_seconds"))
        if scheduled is not None:
            out.scheduled_time.CopyFrom(scheduled)
        return out

    def __repr__(self) -> str:
        return f"Task(name={self.name!r}, fn={self.fn.__module__}.{self.fn.__qualname__})"


_pool_lock = threading.Lock()
_pool: concurrent.futures.ThreadPoolExecutor | None = None


def _submit_pool() -> concurrent.futures.ThreadPoolExecutor:
    """The threads ``submit()`` runs calls on (concurrent.futures' default size)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="taskwire-submit")
        return _pool


def _scheduled_time(
    scheduled_time: dt.datetime | None, delay_seconds: float | None
) -> timestamp_pb2.Timestamp | None:
    if scheduled_time is not None and delay_seconds is not None:
        raise TypeError("pass scheduled_time or delay_seconds, not both")
    if delay_seconds is not None:
        seconds = time.time() + delay_seconds
    elif scheduled_time is not None:
        # .timestamp() reads a naive datetime as local time, as the rest of Python does;
        # protobuf's FromDatetime would read it as UTC.
        seconds = scheduled_time.timestamp()
    else:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


@overload
def task(fn: Callable[P, R], /) -> Task[P, R]: ...


@overload
def task(
    *,
    name: str | None = None,
    retries: int = 0,
    retry_delay_seconds: float | Sequence[float] | None = None,
    retry_jitter_factor: float | None = None,
    timeout_seconds: float | None = None,
    log_prints: bool = False,
    tags: Iterable[str] | None = None,
) -> Callable[[Callable[P, R]], Task[P, R]]: ...


def task(fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Turns a function into a Task; use bare (``@task``) or with options.

    Options: ``name`` (the task key; default the function's ``__name__``), ``retries``,
    ``retry_delay_seconds`` (a number or a list whose last value repeats),
    ``retry_jitter_factor``, ``timeout_seconds`` (per attempt), ``log_prints``
    (send print() output of each run to the server as its logs), ``tags``.

    Example::

        @task(retries=2, log_prints=True)
        def send_email(to: str, subject: str = "Welcome"): ...

        send_email("ford@example.com")                 # runs now
        future = send_email.delay("ford@example.com")  # a worker runs it
    """
    if fn is not None:
        return Task(fn, **options)

    def decorate(f: Callable[P, R]) -> Task[P, R]:
        return Task(f, **options)

    return decorate
