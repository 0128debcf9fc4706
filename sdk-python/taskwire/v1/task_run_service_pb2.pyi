import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from taskwire.v1 import task_run_pb2 as _task_run_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ScheduleTaskRunRequest(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _task_run_pb2.TaskRunSpec
    def __init__(self, run: _Optional[_Union[_task_run_pb2.TaskRunSpec, _Mapping]] = ...) -> None: ...

class ScheduleTaskRunResponse(_message.Message):
    __slots__ = ("id", "existing")
    ID_FIELD_NUMBER: _ClassVar[int]
    EXISTING_FIELD_NUMBER: _ClassVar[int]
    id: str
    existing: bool
    def __init__(self, id: _Optional[str] = ..., existing: bool = ...) -> None: ...

class ScheduleTaskRunsRequest(_message.Message):
    __slots__ = ("runs",)
    RUNS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[_task_run_pb2.TaskRunSpec]
    def __init__(self, runs: _Optional[_Iterable[_Union[_task_run_pb2.TaskRunSpec, _Mapping]]] = ...) -> None: ...

class ScheduleTaskRunsResponse(_message.Message):
    __slots__ = ("runs",)
    RUNS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[ScheduleTaskRunResponse]
    def __init__(self, runs: _Optional[_Iterable[_Union[ScheduleTaskRunResponse, _Mapping]]] = ...) -> None: ...

class ScheduleTaskRunStreamRequest(_message.Message):
    __slots__ = ("request_id", "runs")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    runs: _containers.RepeatedCompositeFieldContainer[_task_run_pb2.TaskRunSpec]
    def __init__(self, request_id: _Optional[int] = ..., runs: _Optional[_Iterable[_Union[_task_run_pb2.TaskRunSpec, _Mapping]]] = ...) -> None: ...

class ScheduleTaskRunStreamResponse(_message.Message):
    __slots__ = ("request_id", "runs", "error_code", "error_message")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    runs: _containers.RepeatedCompositeFieldContainer[ScheduleTaskRunResponse]
    error_code: int
    error_message: str
    def __init__(self, request_id: _Optional[int] = ..., runs: _Optional[_Iterable[_Union[ScheduleTaskRunResponse, _Mapping]]] = ..., error_code: _Optional[int] = ..., error_message: _Optional[str] = ...) -> None: ...

class RecordTaskRunRequest(_message.Message):
    __slots__ = ("task_key", "parameters", "state", "result", "error", "start_time", "end_time", "logs", "tags")
    TASK_KEY_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    LOGS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    task_key: str
    parameters: _task_run_pb2.Payload
    state: _task_run_pb2.TaskRunState
    result: _task_run_pb2.Payload
    error: _task_run_pb2.ErrorInfo
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    logs: _containers.RepeatedCompositeFieldContainer[_task_run_pb2.LogLine]
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, task_key: _Optional[str] = ..., parameters: _Optional[_Union[_task_run_pb2.Payload, _Mapping]] = ..., state: _Optional[_Union[_task_run_pb2.TaskRunState, str]] = ..., result: _Optional[_Union[_task_run_pb2.Payload, _Mapping]] = ..., error: _Optional[_Union[_task_run_pb2.ErrorInfo, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., logs: _Optional[_Iterable[_Union[_task_run_pb2.LogLine, _Mapping]]] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...

class RecordTaskRunResponse(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetTaskRunRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetTaskRunResponse(_message.Message):
    __slots__ = ("task_run",)
    TASK_RUN_FIELD_NUMBER: _ClassVar[int]
    task_run: _task_run_pb2.TaskRun
    def __init__(self, task_run: _Optional[_Union[_task_run_pb2.TaskRun, _Mapping]] = ...) -> None: ...

class ListTaskRunsRequest(_message.Message):
    __slots__ = ("task_keys", "states", "tag", "page_size", "page_token", "worker_id", "id_prefix", "created_after", "created_before", "include_total_size")
    TASK_KEYS_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    ID_PREFIX_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    task_keys: _containers.RepeatedScalarFieldContainer[str]
    states: _containers.RepeatedScalarFieldContainer[_task_run_pb2.TaskRunState]
    tag: str
    page_size: int
    page_token: str
    worker_id: str
    id_prefix: str
    created_after: _timestamp_pb2.Timestamp
    created_before: _timestamp_pb2.Timestamp
    include_total_size: bool
    def __init__(self, task_keys: _Optional[_Iterable[str]] = ..., states: _Optional[_Iterable[_Union[_task_run_pb2.TaskRunState, str]]] = ..., tag: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., worker_id: _Optional[str] = ..., id_prefix: _Optional[str] = ..., created_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., include_total_size: bool = ...) -> None: ...

class ListTaskRunsResponse(_message.Message):
    __slots__ = ("task_runs", "next_page_token", "total_size")
    TASK_RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    task_runs: _containers.RepeatedCompositeFieldContainer[_task_run_pb2.TaskRun]
    next_page_token: str
    total_size: int
    def __init__(self, task_runs: _Optional[_Iterable[_Union[_task_run_pb2.TaskRun, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class WaitTaskRunRequest(_message.Message):
    __slots__ = ("id", "timeout_ms")
    ID_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    id: str
    timeout_ms: int
    def __init__(self, id: _Optional[str] = ..., timeout_ms: _Optional[int] = ...) -> None: ...

class WaitTaskRunResponse(_message.Message):
    __slots__ = ("task_run", "final")
    TASK_RUN_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    task_run: _task_run_pb2.TaskRun
    final: bool
    def __init__(self, task_run: _Optional[_Union[_task_run_pb2.TaskRun, _Mapping]] = ..., final: bool = ...) -> None: ...

class WatchTaskRunsRequest(_message.Message):
    __slots__ = ("run_ids", "unwatch_run_ids", "final_only", "include_parameters")
    RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    UNWATCH_RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    FINAL_ONLY_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    run_ids: _containers.RepeatedScalarFieldContainer[str]
    unwatch_run_ids: _containers.RepeatedScalarFieldContainer[str]
    final_only: bool
    include_parameters: bool
    def __init__(self, run_ids: _Optional[_Iterable[str]] = ..., unwatch_run_ids: _Optional[_Iterable[str]] = ..., final_only: bool = ..., include_parameters: bool = ...) -> None: ...

class WatchTaskRunsResponse(_message.Message):
    __slots__ = ("task_runs", "unknown_run_ids")
    TASK_RUNS_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    task_runs: _containers.RepeatedCompositeFieldContainer[_task_run_pb2.TaskRun]
    unknown_run_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, task_runs: _Optional[_Iterable[_Union[_task_run_pb2.TaskRun, _Mapping]]] = ..., unknown_run_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CancelTaskRunRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class CancelTaskRunResponse(_message.Message):
    __slots__ = ("task_run",)
    TASK_RUN_FIELD_NUMBER: _ClassVar[int]
    task_run: _task_run_pb2.TaskRun
    def __init__(self, task_run: _Optional[_Union[_task_run_pb2.TaskRun, _Mapping]] = ...) -> None: ...

class ListTaskRunLogsRequest(_message.Message):
    __slots__ = ("run_id", "after", "limit")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    after: _timestamp_pb2.Timestamp
    limit: int
    def __init__(self, run_id: _Optional[str] = ..., after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limit: _Optional[int] = ...) -> None: ...

class ListTaskRunLogsResponse(_message.Message):
    __slots__ = ("lines",)
    LINES_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[_task_run_pb2.LogLine]
    def __init__(self, lines: _Optional[_Iterable[_Union[_task_run_pb2.LogLine, _Mapping]]] = ...) -> None: ...

class RetryTaskRunRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RetryTaskRunResponse(_message.Message):
    __slots__ = ("task_run",)
    TASK_RUN_FIELD_NUMBER: _ClassVar[int]
    task_run: _task_run_pb2.TaskRun
    def __init__(self, task_run: _Optional[_Union[_task_run_pb2.TaskRun, _Mapping]] = ...) -> None: ...

class ConcurrencyLimit(_message.Message):
    __slots__ = ("tag", "limit", "active")
    TAG_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    tag: str
    limit: int
    active: int
    def __init__(self, tag: _Optional[str] = ..., limit: _Optional[int] = ..., active: _Optional[int] = ...) -> None: ...

class SetConcurrencyLimitRequest(_message.Message):
    __slots__ = ("tag", "limit")
    TAG_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    tag: str
    limit: int
    def __init__(self, tag: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class SetConcurrencyLimitResponse(_message.Message):
    __slots__ = ("concurrency_limit",)
    CONCURRENCY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    concurrency_limit: ConcurrencyLimit
    def __init__(self, concurrency_limit: _Optional[_Union[ConcurrencyLimit, _Mapping]] = ...) -> None: ...

class ListConcurrencyLimitsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListConcurrencyLimitsResponse(_message.Message):
    __slots__ = ("concurrency_limits",)
    CONCURRENCY_LIMITS_FIELD_NUMBER: _ClassVar[int]
    concurrency_limits: _containers.RepeatedCompositeFieldContainer[ConcurrencyLimit]
    def __init__(self, concurrency_limits: _Optional[_Iterable[_Union[ConcurrencyLimit, _Mapping]]] = ...) -> None: ...

class DeleteConcurrencyLimitRequest(_message.Message):
    __slots__ = ("tag",)
    TAG_FIELD_NUMBER: _ClassVar[int]
    tag: str
    def __init__(self, tag: _Optional[str] = ...) -> None: ...

class DeleteConcurrencyLimitResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WatchTaskRunListRequest(_message.Message):
    __slots__ = ("task_keys", "states", "tag", "worker_id", "id_prefix", "created_after", "created_before")
    TASK_KEYS_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    ID_PREFIX_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    task_keys: _containers.RepeatedScalarFieldContainer[str]
    states: _containers.RepeatedScalarFieldContainer[_task_run_pb2.TaskRunState]
    tag: str
    worker_id: str
    id_prefix: str
    created_after: _timestamp_pb2.Timestamp
    created_before: _timestamp_pb2.Timestamp
    def __init__(self, task_keys: _Optional[_Iterable[str]] = ..., states: _Optional[_Iterable[_Union[_task_run_pb2.TaskRunState, str]]] = ..., tag: _Optional[str] = ..., worker_id: _Optional[str] = ..., id_prefix: _Optional[str] = ..., created_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WatchTaskRunListResponse(_message.Message):
    __slots__ = ("task_runs", "unmatched_run_ids")
    TASK_RUNS_FIELD_NUMBER: _ClassVar[int]
    UNMATCHED_RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    task_runs: _containers.RepeatedCompositeFieldContainer[_task_run_pb2.TaskRun]
    unmatched_run_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, task_runs: _Optional[_Iterable[_Union[_task_run_pb2.TaskRun, _Mapping]]] = ..., unmatched_run_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class WatchTaskRunLogsRequest(_message.Message):
    __slots__ = ("run_id", "after")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    after: _timestamp_pb2.Timestamp
    def __init__(self, run_id: _Optional[str] = ..., after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WatchTaskRunLogsResponse(_message.Message):
    __slots__ = ("lines", "final_task_run")
    LINES_FIELD_NUMBER: _ClassVar[int]
    FINAL_TASK_RUN_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[_task_run_pb2.LogLine]
    final_task_run: _task_run_pb2.TaskRun
    def __init__(self, lines: _Optional[_Iterable[_Union[_task_run_pb2.LogLine, _Mapping]]] = ..., final_task_run: _Optional[_Union[_task_run_pb2.TaskRun, _Mapping]] = ...) -> None: ...

class GetTaskStatsRequest(_message.Message):
    __slots__ = ("window_minutes",)
    WINDOW_MINUTES_FIELD_NUMBER: _ClassVar[int]
    window_minutes: int
    def __init__(self, window_minutes: _Optional[int] = ...) -> None: ...

class TaskStats(_message.Message):
    __slots__ = ("task_key", "scheduled", "pending", "running", "completed_per_minute", "failed_per_minute", "duration_p50_seconds", "duration_p95_seconds", "duration_p99_seconds")
    TASK_KEY_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    FAILED_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    DURATION_P50_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DURATION_P95_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DURATION_P99_SECONDS_FIELD_NUMBER: _ClassVar[int]
    task_key: str
    scheduled: int
    pending: int
    running: int
    completed_per_minute: _containers.RepeatedScalarFieldContainer[int]
    failed_per_minute: _containers.RepeatedScalarFieldContainer[int]
    duration_p50_seconds: float
    duration_p95_seconds: float
    duration_p99_seconds: float
    def __init__(self, task_key: _Optional[str] = ..., scheduled: _Optional[int] = ..., pending: _Optional[int] = ..., running: _Optional[int] = ..., completed_per_minute: _Optional[_Iterable[int]] = ..., failed_per_minute: _Optional[_Iterable[int]] = ..., duration_p50_seconds: _Optional[float] = ..., duration_p95_seconds: _Optional[float] = ..., duration_p99_seconds: _Optional[float] = ...) -> None: ...

class GetTaskStatsResponse(_message.Message):
    __slots__ = ("window_start", "window_minutes", "tasks")
    WINDOW_START_FIELD_NUMBER: _ClassVar[int]
    WINDOW_MINUTES_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    window_start: _timestamp_pb2.Timestamp
    window_minutes: int
    tasks: _containers.RepeatedCompositeFieldContainer[TaskStats]
    def __init__(self, window_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window_minutes: _Optional[int] = ..., tasks: _Optional[_Iterable[_Union[TaskStats, _Mapping]]] = ...) -> None: ...
