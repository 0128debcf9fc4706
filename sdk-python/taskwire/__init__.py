"""taskwire: deferred task runs over gRPC, in the style of Prefect's task workers.

Words: a *task* is a named function a worker can run; its *task key* is that stable
name. A *task run* is one requested execution; an *attempt* is one try of it on one
worker, under a *lease* (a deadline and a token). A *worker* serves task keys with a
limit of runs in flight.

Example::

    from taskwire import task, serve

    @task(retries=2, log_prints=True)
    def send_email(to: str, subject: str = "Welcome"): ...

    future = send_email.delay("ford@example.com")   # returns once the run is durable
    print(future.task_run_id, future.result(timeout=30))
    serve(send_email, limit=10)                     # a task worker
"""

from taskwire.task import Task, task
from taskwire.map_arguments import unmapped
from taskwire.future import LocalTaskRunFuture, TaskRunFuture, TaskRunFutureList
from taskwire.foreground import TaskwireWarning
from taskwire.serve import serve
from taskwire.context import RunContext, current_run, is_cancelled
from taskwire.run_logs import get_run_logger
from taskwire.errors import NonRetryableError, TaskRunCancelled, TaskRunFailed, TaskwireError
from taskwire.state import State, TaskRunState
from taskwire.client import TaskRunClient
from taskwire.worker import Worker
from taskwire.settings import Settings, load_settings
from taskwire.version import __version__

__all__ = [
    "task",
    "Task",
    "TaskRunFuture",
    "TaskRunFutureList",
    "LocalTaskRunFuture",
    "unmapped",
    "serve",
    "current_run",
    "is_cancelled",
    "get_run_logger",
    "RunContext",
    "TaskRunFailed",
    "NonRetryableError",
    "TaskRunCancelled",
    "TaskwireError",
    "TaskRunState",
    "State",
    "TaskwireWarning",
    "TaskRunClient",
    "Worker",
    "Settings",
    "load_settings",
    "__version__",
]
