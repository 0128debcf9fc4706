import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from taskwire.v1 import task_run_pb2 as _task_run_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AckKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACK_KIND_UNSPECIFIED: _ClassVar[AckKind]
    ACK_KIND_STARTED: _ClassVar[AckKind]
    ACK_KIND_HEARTBEAT: _ClassVar[AckKind]
    ACK_KIND_COMPLETED: _ClassVar[AckKind]
    ACK_KIND_FAILED: _ClassVar[AckKind]
    ACK_KIND_RELEASED: _ClassVar[AckKind]
    ACK_KIND_LOG: _ClassVar[AckKind]
ACK_KIND_UNSPECIFIED: AckKind
ACK_KIND_STARTED: AckKind
ACK_KIND_HEARTBEAT: AckKind
ACK_KIND_COMPLETED: AckKind
ACK_KIND_FAILED: AckKind
ACK_KIND_RELEASED: AckKind
ACK_KIND_LOG: AckKind

class ListWorkersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListWorkersResponse(_message.Message):
    __slots__ = ("workers",)
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    workers: _containers.RepeatedCompositeFieldContainer[ConnectedWorker]
    def __init__(self, workers: _Optional[_Iterable[_Union[ConnectedWorker, _Mapping]]] = ...) -> None: ...

class ConnectedWorker(_message.Message):
    __slots__ = ("worker_id", "session_id", "task_keys", "limit", "runs_in_flight", "language", "sdk_version", "hostname", "pid", "connected_at", "last_heartbeat_at", "server_id")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_KEYS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    RUNS_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    SDK_VERSION_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_AT_FIELD_NUMBER: _ClassVar[int]
    SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    session_id: str
    task_keys: _containers.RepeatedScalarFieldContainer[str]
    limit: int
    runs_in_flight: int
    language: str
    sdk_version: str
    hostname: str
    pid: int
    connected_at: _timestamp_pb2.Timestamp
    last_heartbeat_at: _timestamp_pb2.Timestamp
    server_id: str
    def __init__(self, worker_id: _Optional[str] = ..., session_id: _Optional[str] = ..., task_keys: _Optional[_Iterable[str]] = ..., limit: _Optional[int] = ..., runs_in_flight: _Optional[int] = ..., language: _Optional[str] = ..., sdk_version: _Optional[str] = ..., hostname: _Optional[str] = ..., pid: _Optional[int] = ..., connected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_heartbeat_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., server_id: _Optional[str] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = ("session_id", "runs")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    runs: _containers.RepeatedCompositeFieldContainer[LeaseRef]
    def __init__(self, session_id: _Optional[str] = ..., runs: _Optional[_Iterable[_Union[LeaseRef, _Mapping]]] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ("refused",)
    REFUSED_FIELD_NUMBER: _ClassVar[int]
    refused: _containers.RepeatedCompositeFieldContainer[Ack]
    def __init__(self, refused: _Optional[_Iterable[_Union[Ack, _Mapping]]] = ...) -> None: ...

class SubscribeTaskRunsRequest(_message.Message):
    __slots__ = ("hello", "started", "heartbeat", "completed", "failed", "logs", "drain", "released")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    LOGS_FIELD_NUMBER: _ClassVar[int]
    DRAIN_FIELD_NUMBER: _ClassVar[int]
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    hello: Hello
    started: Started
    heartbeat: Heartbeat
    completed: Completed
    failed: Failed
    logs: Logs
    drain: Drain
    released: Released
    def __init__(self, hello: _Optional[_Union[Hello, _Mapping]] = ..., started: _Optional[_Union[Started, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., completed: _Optional[_Union[Completed, _Mapping]] = ..., failed: _Optional[_Union[Failed, _Mapping]] = ..., logs: _Optional[_Union[Logs, _Mapping]] = ..., drain: _Optional[_Union[Drain, _Mapping]] = ..., released: _Optional[_Union[Released, _Mapping]] = ...) -> None: ...

class SubscribeTaskRunsResponse(_message.Message):
    __slots__ = ("welcome", "assignments", "cancel", "acks", "drain")
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    ACKS_FIELD_NUMBER: _ClassVar[int]
    DRAIN_FIELD_NUMBER: _ClassVar[int]
    welcome: Welcome
    assignments: Assignments
    cancel: Cancel
    acks: Acks
    drain: Drain
    def __init__(self, welcome: _Optional[_Union[Welcome, _Mapping]] = ..., assignments: _Optional[_Union[Assignments, _Mapping]] = ..., cancel: _Optional[_Union[Cancel, _Mapping]] = ..., acks: _Optional[_Union[Acks, _Mapping]] = ..., drain: _Optional[_Union[Drain, _Mapping]] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ("protocol_version", "worker_id", "task_keys", "limit", "language", "sdk_version", "hostname", "pid")
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_KEYS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    SDK_VERSION_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    protocol_version: int
    worker_id: str
    task_keys: _containers.RepeatedScalarFieldContainer[str]
    limit: int
    language: str
    sdk_version: str
    hostname: str
    pid: int
    def __init__(self, protocol_version: _Optional[int] = ..., worker_id: _Optional[str] = ..., task_keys: _Optional[_Iterable[str]] = ..., limit: _Optional[int] = ..., language: _Optional[str] = ..., sdk_version: _Optional[str] = ..., hostname: _Optional[str] = ..., pid: _Optional[int] = ...) -> None: ...

class Welcome(_message.Message):
    __slots__ = ("server_version", "protocol_version", "heartbeat_interval_ms", "lease_duration_ms", "max_payload_bytes", "session_id", "ack_timeout_ms")
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    LEASE_DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_PAYLOAD_BYTES_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ACK_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    server_version: str
    protocol_version: int
    heartbeat_interval_ms: int
    lease_duration_ms: int
    max_payload_bytes: int
    session_id: str
    ack_timeout_ms: int
    def __init__(self, server_version: _Optional[str] = ..., protocol_version: _Optional[int] = ..., heartbeat_interval_ms: _Optional[int] = ..., lease_duration_ms: _Optional[int] = ..., max_payload_bytes: _Optional[int] = ..., session_id: _Optional[str] = ..., ack_timeout_ms: _Optional[int] = ...) -> None: ...

class Assignment(_message.Message):
    __slots__ = ("run_id", "task_key", "attempt", "lease_token", "parameters", "lease_deadline", "timeout_ms", "tags")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_KEY_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    LEASE_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    task_key: str
    attempt: int
    lease_token: str
    parameters: _task_run_pb2.Payload
    lease_deadline: _timestamp_pb2.Timestamp
    timeout_ms: int
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, run_id: _Optional[str] = ..., task_key: _Optional[str] = ..., attempt: _Optional[int] = ..., lease_token: _Optional[str] = ..., parameters: _Optional[_Union[_task_run_pb2.Payload, _Mapping]] = ..., lease_deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., timeout_ms: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...

class Assignments(_message.Message):
    __slots__ = ("assignments",)
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    assignments: _containers.RepeatedCompositeFieldContainer[Assignment]
    def __init__(self, assignments: _Optional[_Iterable[_Union[Assignment, _Mapping]]] = ...) -> None: ...

class LeaseRef(_message.Message):
    __slots__ = ("run_id", "lease_token")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    lease_token: str
    def __init__(self, run_id: _Optional[str] = ..., lease_token: _Optional[str] = ...) -> None: ...

class Started(_message.Message):
    __slots__ = ("runs",)
    RUNS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[LeaseRef]
    def __init__(self, runs: _Optional[_Iterable[_Union[LeaseRef, _Mapping]]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("runs",)
    RUNS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[LeaseRef]
    def __init__(self, runs: _Optional[_Iterable[_Union[LeaseRef, _Mapping]]] = ...) -> None: ...

class RunResult(_message.Message):
    __slots__ = ("run_id", "lease_token", "result")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    lease_token: str
    result: _task_run_pb2.Payload
    def __init__(self, run_id: _Optional[str] = ..., lease_token: _Optional[str] = ..., result: _Optional[_Union[_task_run_pb2.Payload, _Mapping]] = ...) -> None: ...

class Completed(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[RunResult]
    def __init__(self, results: _Optional[_Iterable[_Union[RunResult, _Mapping]]] = ...) -> None: ...

class RunFailure(_message.Message):
    __slots__ = ("run_id", "lease_token", "error")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    lease_token: str
    error: _task_run_pb2.ErrorInfo
    def __init__(self, run_id: _Optional[str] = ..., lease_token: _Optional[str] = ..., error: _Optional[_Union[_task_run_pb2.ErrorInfo, _Mapping]] = ...) -> None: ...

class Failed(_message.Message):
    __slots__ = ("failures",)
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    failures: _containers.RepeatedCompositeFieldContainer[RunFailure]
    def __init__(self, failures: _Optional[_Iterable[_Union[RunFailure, _Mapping]]] = ...) -> None: ...

class Logs(_message.Message):
    __slots__ = ("lines",)
    LINES_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[WorkerLogLine]
    def __init__(self, lines: _Optional[_Iterable[_Union[WorkerLogLine, _Mapping]]] = ...) -> None: ...

class WorkerLogLine(_message.Message):
    __slots__ = ("run_id", "lease_token", "time", "level", "message")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    lease_token: str
    time: _timestamp_pb2.Timestamp
    level: str
    message: str
    def __init__(self, run_id: _Optional[str] = ..., lease_token: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., level: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class Released(_message.Message):
    __slots__ = ("runs",)
    RUNS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[LeaseRef]
    def __init__(self, runs: _Optional[_Iterable[_Union[LeaseRef, _Mapping]]] = ...) -> None: ...

class Drain(_message.Message):
    __slots__ = ("grace_ms",)
    GRACE_MS_FIELD_NUMBER: _ClassVar[int]
    grace_ms: int
    def __init__(self, grace_ms: _Optional[int] = ...) -> None: ...

class Cancel(_message.Message):
    __slots__ = ("run_ids", "reason")
    RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    run_ids: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    def __init__(self, run_ids: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ("run_id", "lease_token", "kind", "accepted", "reason")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    lease_token: str
    kind: AckKind
    accepted: bool
    reason: str
    def __init__(self, run_id: _Optional[str] = ..., lease_token: _Optional[str] = ..., kind: _Optional[_Union[AckKind, str]] = ..., accepted: bool = ..., reason: _Optional[str] = ...) -> None: ...

class Acks(_message.Message):
    __slots__ = ("acks",)
    ACKS_FIELD_NUMBER: _ClassVar[int]
    acks: _containers.RepeatedCompositeFieldContainer[Ack]
    def __init__(self, acks: _Optional[_Iterable[_Union[Ack, _Mapping]]] = ...) -> None: ...
