"""The exceptions the SDK raises, and the one a task raises to skip its retries."""

from __future__ import annotations


class TaskwireError(Exception):
    """A call to the taskwire server failed (unreachable, refused, bad request).

    Attributes:
        code: The gRPC status code name, e.g. ``"UNAVAILABLE"`` or ``"INVALID_ARGUMENT"``.
    """

    def __init__(self, message: str, code: str = "UNKNOWN") -> None:
        super().__init__(message)
        self.code = code


class TaskRunFailed(Exception):
    """The task run ended FAILED or CANCELLED; raised by ``TaskRunFuture.result()``.

    Attributes:
        task_run_id: The run's id.
        state: ``"FAILED"`` or ``"CANCELLED"``.
        remote_type: The error's type name in the worker's language, e.g. ``"ValueError"``.
        remote_message: The error's message.
        remote_stack: The worker's stack trace text (may be empty).
    """

    def __init__(
        self,
        task_run_id: str,
        state: str,
        remote_type: str,
        remote_message: str,
        remote_stack: str = "",
    ) -> None:
        summary = f"task run {task_run_id} {state.lower()}"
        if remote_type or remote_message:
            summary += f": {remote_type}: {remote_message}"
        super().__init__(summary)
        self.task_run_id = task_run_id
        self.state = state
        self.remote_type = remote_type
        self.remote_message = remote_message
        self.remote_stack = remote_stack

    def __str__(self) -> str:
        # An uncaught TaskRunFailed should show where the task failed, not only that it did.
        summary = str(self.args[0])
        if self.remote_stack:
            return f"{summary}\n\nRemote traceback:\n{self.remote_stack.rstrip()}"
        return summary


class NonRetryableError(Exception):
    """Raise this (or a subclass) from a task to fail the run at once, retries or not.

    Example::

        @task(retries=3)
        def charge(card: str):
            if not card.startswith("4"):
                raise NonRetryableError("card rejected")  # retrying will not help
    """


class TaskRunCancelled(BaseException):
    """Raised inside a task's thread when its run is cancelled, timed out or lost.

    A ``BaseException`` so that a task's ``except Exception`` does not swallow it;
    ``finally`` blocks still run.
    """
