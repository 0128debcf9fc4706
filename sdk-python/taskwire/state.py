"""Task run states as a Python enum, mapped to and from the wire's TaskRunState."""

from __future__ import annotations

import enum

from taskwire.v1 import task_run_pb2


class TaskRunState(str, enum.Enum):
    """SCHEDULED -> PENDING -> RUNNING -> COMPLETED | FAILED | CANCELLED."""

    UNSPECIFIED = "UNSPECIFIED"
    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        """True for COMPLETED, FAILED and CANCELLED."""
        return self in (TaskRunState.COMPLETED, TaskRunState.FAILED, TaskRunState.CANCELLED)

    @classmethod
    def from_proto(cls, value: int) -> TaskRunState:
        """Maps ``taskwire.v1.TaskRunState`` (``TASK_RUN_STATE_COMPLETED`` -> COMPLETED)."""
        try:
            name = task_run_pb2.TaskRunState.Name(value)
        except ValueError:  # a state added by a newer server
            return cls.UNSPECIFIED
        return cls(name.removeprefix("TASK_RUN_STATE_"))

    def __str__(self) -> str:
        return self.value


class State:
    """A run's state as Prefect users read it: ``state.name == "Completed"``,
    ``state.type is TaskRunState.COMPLETED``, ``state.is_completed()``.

    Compares equal to its TaskRunState, so ``future.state == TaskRunState.FAILED`` works too.
    """

    def __init__(self, type: TaskRunState, message: str = "") -> None:  # noqa: A002 - Prefect's name
        self.type = type
        self.message = message

    @property
    def name(self) -> str:
        """``"Completed"``, ``"Failed"``, ``"Scheduled"``…: Prefect's spelling."""
        return self.type.value.capitalize()

    def is_scheduled(self) -> bool:
        return self.type is TaskRunState.SCHEDULED

    def is_pending(self) -> bool:
        return self.type is TaskRunState.PENDING

    def is_running(self) -> bool:
        return self.type is TaskRunState.RUNNING

    def is_completed(self) -> bool:
        return self.type is TaskRunState.COMPLETED

    def is_failed(self) -> bool:
        return self.type is TaskRunState.FAILED

    def is_cancelled(self) -> bool:
        return self.type is TaskRunState.CANCELLED

    def is_final(self) -> bool:
        return self.type.is_final

    def __eq__(self, other: object) -> bool:
        if isinstance(other, State):
            return self.type is other.type
        if isinstance(other, TaskRunState):
            return self.type is other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.type)

    def __repr__(self) -> str:
        return f"{self.name}(message={self.message!r})" if self.message else f"{self.name}()"
