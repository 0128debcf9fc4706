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
