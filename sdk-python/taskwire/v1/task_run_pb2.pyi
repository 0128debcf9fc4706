import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaskRunState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_RUN_STATE_UNSPECIFIED: _ClassVar[TaskRunState]
    TASK_RUN_STATE_SCHEDULED: _ClassVar[TaskRunState]
    TASK_RUN_STATE_PENDING: _ClassVar[TaskRunState]
    TASK_RUN_STATE_RUNNING: _ClassVar[TaskRunState]
    TASK_RUN_STATE_COMPLETED: _ClassVar[TaskRunState]
    TASK_RUN_STATE_FAILED: _ClassVar[TaskRunState]
    TASK_RUN_STATE_CANCELLED: _ClassVar[TaskRunState]
TASK_RUN_STATE_UNSPECIFIED: TaskRunState
TASK_RUN_STATE_SCHEDULED: TaskRunState
TASK_RUN_STATE_PENDING: TaskRunState
TASK_RUN_STATE_RUNNING: TaskRunState
TASK_RUN_STATE_COMPLETED: TaskRunState
TASK_RUN_STATE_FAILED: TaskRunState
TASK_RUN_STATE_CANCELLED: TaskRunState

class Payload(_message.Message):
    __slots__ = ("content_type", "data")
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    content_type: str
    data: bytes
    def __init__(self, content_type: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class ErrorInfo(_message.Message):
    __slots__ = ("type", "message", "stack", "retryable")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STACK_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    type: str
    message: str
    stack: str
    retryable: bool
    def __init__(self, type: _Optional[str] = ..., message: _Optional[str] = ..., stack: _Optional[str] = ..., retryable: bool = ...) -> None: ...

class TaskRunOptions(_message.Message):
    __slots__ = ("scheduled_time", "retries", "retry_delay_seconds", "retry_jitter_factor", "timeout_seconds", "priority", "idempotency_key", "tags", "max_redeliveries")
    SCHEDULED_TIME_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    RETRY_DELAY_SECONDS_FIELD_NUMBER: _ClassVar[int]
    RETRY_JITTER_FACTOR_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    MAX_REDELIVERIES_FIELD_NUMBER: _ClassVar[int]
    scheduled_time: _timestamp_pb2.Timestamp
    retries: int
    retry_delay_seconds: _containers.RepeatedScalarFieldContainer[float]
    retry_jitter_factor: float
    timeout_seconds: float
    priority: int
    idempotency_key: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    max_redeliveries: int
    def __init__(self, scheduled_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., retries: _Optional[int] = ..., retry_delay_seconds: _Optional[_Iterable[float]] = ..., retry_jitter_factor: _Optional[float] = ..., timeout_seconds: _Optional[float] = ..., priority: _Optional[int] = ..., idempotency_key: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., max_redeliveries: _Optional[int] = ...) -> None: ...

class TaskRunSpec(_message.Message):
    __slots__ = ("task_key", "parameters", "options")
    TASK_KEY_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    task_key: str
    parameters: Payload
    options: TaskRunOptions
    def __init__(self, task_key: _Optional[str] = ..., parameters: _Optional[_Union[Payload, _Mapping]] = ..., options: _Optional[_Union[TaskRunOptions, _Mapping]] = ...) -> None: ...

class StateTransition(_message.Message):
    __slots__ = ("state", "time", "attempt", "message")
    STATE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    state: TaskRunState
    time: _timestamp_pb2.Timestamp
    attempt: int
    message: str
    def __init__(self, state: _Optional[_Union[TaskRunState, str]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempt: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class TaskRun(_message.Message):
    __slots__ = ("id", "task_key", "state", "parameters", "options", "result", "error", "attempts", "retries_used", "redeliveries", "created_time", "start_time", "end_time", "worker_id", "history", "foreground")
    ID_FIELD_NUMBER: _ClassVar[int]
    TASK_KEY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    RETRIES_USED_FIELD_NUMBER: _ClassVar[int]
    REDELIVERIES_FIELD_NUMBER: _ClassVar[int]
    CREATED_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    FOREGROUND_FIELD_NUMBER: _ClassVar[int]
    id: str
    task_key: str
    state: TaskRunState
    parameters: Payload
    options: TaskRunOptions
    result: Payload
    error: ErrorInfo
    attempts: int
    retries_used: int
    redeliveries: int
    created_time: _timestamp_pb2.Timestamp
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    worker_id: str
    history: _containers.RepeatedCompositeFieldContainer[StateTransition]
    foreground: bool
    def __init__(self, id: _Optional[str] = ..., task_key: _Optional[str] = ..., state: _Optional[_Union[TaskRunState, str]] = ..., parameters: _Optional[_Union[Payload, _Mapping]] = ..., options: _Optional[_Union[TaskRunOptions, _Mapping]] = ..., result: _Optional[_Union[Payload, _Mapping]] = ..., error: _Optional[_Union[ErrorInfo, _Mapping]] = ..., attempts: _Optional[int] = ..., retries_used: _Optional[int] = ..., redeliveries: _Optional[int] = ..., created_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., worker_id: _Optional[str] = ..., history: _Optional[_Iterable[_Union[StateTransition, _Mapping]]] = ..., foreground: bool = ...) -> None: ...

class LogLine(_message.Message):
    __slots__ = ("run_id", "time", "level", "message", "attempt")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    time: _timestamp_pb2.Timestamp
    level: str
    message: str
    attempt: int
    def __init__(self, run_id: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., level: _Optional[str] = ..., message: _Optional[str] = ..., attempt: _Optional[int] = ...) -> None: ...
