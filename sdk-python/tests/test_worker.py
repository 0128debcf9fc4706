"""The worker's half of SubscribeTaskRuns, against a server the test scripts."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest

from taskwire import NonRetryableError, Worker, current_run, task
from taskwire.settings import Settings
from taskwire.v1 import worker_service_pb2 as pb
from tests.scripted_server import ScriptedServer, ScriptedStream

release = threading.Event()


@task
def add(a: int, b: int = 0) -> int:
    return a + b


@task(log_prints=True)
def chatty(name: str) -> str:
    print(f"hello {name}")
    print("no newline", end="")
    return name


@task
def explode() -> None:
    raise ValueError("bad address")


@task
def refuse() -> None:
    raise NonRetryableError("never works")


@task
def returns_a_set() -> object:
    return {1, 2}


@task
def wait_for_release() -> str:
    release.wait(10)
    return "released"


@task
def spin() -> str:
    """Ignores cancellation flags: only the worker's interrupt stops it."""
    while True:
        sum(range(100))


@task
def cooperative() -> str:
    run = current_run()
    assert run is not None
    while not run.is_cancelled():
        time.sleep(0.01)
    return "stopped"


@task
def explode_unencodable() -> None:
    raise ValueError("bad byte \udcff")


@task
def returns_too_deep() -> object:
    value: list[object] = []
    for _ in range(5_000):  # deeper than the recursion limit (1000) the check walks with
        value = [value]
    return value


TASKS = [
    add,
    chatty,
    explode,
    refuse,
    returns_a_set,
    wait_for_release,
    spin,
    cooperative,
    explode_unencodable,
    returns_too_deep,
]


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer()
    yield srv
    srv.stop()


@pytest.fixture
def worker(server: ScriptedServer) -> Iterator[Worker]:
    release.clear()
    w = Worker(TASKS, limit=3, settings=Settings(api_url=server.url, api_key="k3y"), shutdown_grace_seconds=1)
    w.start()
    yield w
    release.set()
    w.stop()
    server.stop()  # ends the stream at once instead of waiting for acks nobody sends
    assert w.wait(10)


def connect(server: ScriptedServer, heartbeat_interval_ms: int = 200) -> ScriptedStream:
    stream = server.next_stream()
    stream.expect("hello")
    stream.welcome(heartbeat_interval_ms=heartbeat_interval_ms)
    return stream


def args(*a: object, **kw: object) -> bytes:
    return json.dumps({"args": list(a), "kwargs": kw}).encode()


def test_hello_introduces_the_worker(server: ScriptedServer, worker: Worker) -> None:
    stream = server.next_stream()
    hello = stream.expect("hello").hello
    assert hello.protocol_version == 1
    assert hello.worker_id == worker.worker_id
    assert set(hello.task_keys) == {t.task_key for t in TASKS}
    assert hello.limit == 3
    assert hello.language == "python"
    assert hello.sdk_version
    assert server.metadata[0]["authorization"] == "Bearer k3y"


def test_an_assignment_is_started_run_and_completed_under_its_lease(
    server: ScriptedServer, worker: Worker
) -> None:
    stream = connect(server)
    token = stream.assign("r1", "add", args(2, b=40))
    started = stream.expect("started").started
    assert [(r.run_id, r.lease_token) for r in started.runs] == [("r1", token)]
    result = stream.expect("completed").completed.results[0]
    assert (result.run_id, result.lease_token) == ("r1", token)
    assert result.result.content_type == "application/json"
    assert json.loads(result.result.data) == 42


def test_a_task_error_is_reported_as_data(server: ScriptedServer, worker: Worker) -> None:
    stream = connect(server)
    stream.assign("r1", "explode", args())
    failure = stream.expect("failed").failed.failures[0]
    assert failure.error.type == "ValueError"
    assert failure.error.message == "bad address"
    assert "explode" in failure.error.stack
    assert failure.error.retryable


def test_non_retryable_errors_and_bad_calls_are_not_retried(server: ScriptedServer, worker: Worker) -> None:
    stream = connect(server)
    stream.assign("r1", "refuse", args())
    assert not stream.expect("failed").failed.failures[0].error.retryable
    stream.assign("r2", "add", args("only", "too", "many"))
    failure = stream.expect("failed").failed.failures[0]
    assert (failure.error.type, failure.error.retryable) == ("TypeError", False)
    stream.assign("r3", "returns_a_set", args())
    failure = stream.expect("failed").failed.failures[0]
    assert failure.error.type == "TypeError" and "set" in failure.error.message


def test_errors_that_cannot_be_reported_as_is_still_fail_the_run(server: ScriptedServer, worker: Worker) -> None:
    stream = connect(server)
    # An error message UTF-8 cannot encode (a lone surrogate) is reported escaped.
    stream.assign("r1", "explode_unencodable", args())
    failure = stream.expect("failed").failed.failures[0]
    assert (failure.error.type, failure.error.message) == ("ValueError", "bad byte \\udcff")
    # A result too deep to check or encode fails the run instead of killing its thread.
    stream.assign("r2", "returns_too_deep", args())
    failure = stream.expect("failed").failed.failures[0]
    assert (failure.error.type, failure.error.retryable) == ("RecursionError", False)
    assert "the return value of task 'returns_too_deep'" in failure.error.message


def test_log_prints_become_log_lines_of_the_run(server: ScriptedServer, worker: Worker) -> None:
    stream = connect(server)
    token = stream.assign("r1", "chatty", args("Ford"))
    stream.expect("completed")
    lines = [line for m in stream.seen if m.WhichOneof("message") == "logs" for line in m.logs.lines]
    assert [(line.run_id, line.lease_token, line.message) for line in lines] == [
        ("r1", token, "hello Ford"),
        ("r1", token, "no newline"),
    ]
    # Logs go out before the result, so a reader of the finished run sees them all.
    assert stream.kinds().index("completed") > stream.kinds().index("logs")


def test_heartbeats_carry_every_held_lease(server: ScriptedServer, worker: Worker) -> None:
    stream = connect(server, heartbeat_interval_ms=100)
    t1 = stream.assign("r1", "wait_for_release", args())
    t2 = stream.assign("r2", "wait_for_release", args())
    stream.expect("started")
    stream.expect("started")
    deadline = time.monotonic() + 5
    while True:
        beat = stream.expect("heartbeat").heartbeat
        if {(r.run_id, r.lease_token) for r in beat.runs} == {("r1", t1), ("r2", t2)}:
            break
        assert time.monotonic() < deadline


def test_heartbeats_continue_while_a_task_hogs_the_cpu(server: ScriptedServer, worker: Worker) -> None:
    stream = connect(server, heartbeat_interval_ms=100)
    stream.assign("r1", "spin", args())
    stream.expect("started")
    beats = [stream.expect("heartbeat") for _ in range(3)]
    assert all(len(b.heartbeat.runs) == 1 for b in beats)


def test_cancel_sets_the_flag_and_reports_cancelled(server: ScriptedServer, worker: Worker) -> None:
    stream = connect(server)
    stream.assign("r1", "cooperative", args())
    stream.expect("started")
    stream.send(cancel=pb.Cancel(run_ids=["r1"], reason="user asked"))
    failure = stream.expect("failed").failed.failures[0]
    assert (failure.run_id, failure.error.type, failure.error.retryable) == ("r1", "Cancelled", False)


def test_cancel_interrupts_a_task_that_ignores_the_flag(server: ScriptedServer, worker: Worker) -> None:
    stream = connect(server)
    stream.assign("r1", "spin", args())
    stream.expect("started")
    stream.send(cancel=pb.Cancel(run_ids=["r1"]))
    assert stream.expect("failed", timeout=3).failed.failures[0].error.type == "Cancelled"


def test_the_assignment_timeout_fails_the_attempt(server: ScriptedServer, worker: Worker) -> None:
    stream = connect(server)
    stream.assign("r1", "spin", args(), timeout_ms=200)
    failure = stream.expect("failed", timeout=3).failed.failures[0]
    assert failure.error.type == "TimeoutError"
    assert failure.error.retryable  # the server decides whether retries are left


def test_a_refused_heartbeat_stops_the_run_silently(server: ScriptedServer, worker: Worker) -> None:
    stream = connect(server)
    token = stream.assign("r1", "cooperative", args())
    stream.expect("started")
    stream.ack("r1", token, pb.ACK_KIND_HEARTBEAT, accepted=False, reason="lease expired")
    beat = stream.expect("heartbeat").heartbeat
    while beat.runs:  # one may have been on its way before the refusal arrived
        beat = stream.expect("heartbeat").heartbeat
    assert "failed" not in stream.kinds() and "completed" not in stream.kinds()


def test_stop_drains_finishes_in_flight_work_then_closes(server: ScriptedServer, worker: Worker) -> None:
    stream = connect(server)
    token = stream.assign("r1", "wait_for_release", args())
    stream.expect("started")
    worker.stop()
    stream.expect("drain")
    release.set()
    stream.expect("completed")
    stream.ack("r1", token, pb.ACK_KIND_COMPLETED)
    assert stream.half_closed.wait(5)
    assert worker.wait(5)
    assert "released" not in stream.kinds()


def test_stop_releases_runs_that_outlast_the_grace(server: ScriptedServer, worker: Worker) -> None:
    stream = connect(server)
    token = stream.assign("r1", "wait_for_release", args())
    stream.expect("started")
    worker.stop()
    stream.expect("drain")
    released = stream.expect("released", timeout=5).released
    assert [(r.run_id, r.lease_token) for r in released.runs] == [("r1", token)]
    stream.ack("r1", token, pb.ACK_KIND_RELEASED)
    assert worker.wait(5)
    assert worker.error is None


def test_assignments_that_cross_a_drain_go_back_unstarted(server: ScriptedServer, worker: Worker) -> None:
    stream = connect(server)
    stream.assign("r0", "wait_for_release", args())
    stream.expect("started")
    worker.stop()
    stream.expect("drain")
    stream.assign("r1", "add", args(1))
    released = stream.expect("released").released
    assert [r.run_id for r in released.runs] == ["r1"]


def test_server_drain_finishes_work_then_reconnects(server: ScriptedServer, worker: Worker) -> None:
    stream = connect(server)
    token = stream.assign("r1", "add", args(1, 2))
    stream.send(drain=pb.Drain(grace_ms=5000))
    stream.expect("completed")
    stream.ack("r1", token, pb.ACK_KIND_COMPLETED)
    assert stream.half_closed.wait(5)
    again = server.next_stream()
    assert again.expect("hello").hello.worker_id == worker.worker_id


def test_the_worker_reconnects_when_the_stream_breaks(server: ScriptedServer, worker: Worker) -> None:
    stream = connect(server)
    stream.end()
    again = server.next_stream(timeout=10)
    assert again.expect("hello").hello.worker_id == worker.worker_id
    again.welcome()
    again.assign("r2", "add", args(5))
    assert json.loads(again.expect("completed").completed.results[0].result.data) == 5


def test_oversized_results_fail_the_run(server: ScriptedServer, worker: Worker) -> None:
    stream = server.next_stream()
    stream.expect("hello")
    stream.welcome(max_payload_bytes=4)
    stream.assign("r1", "add", args(123456))
    failure = stream.expect("failed").failed.failures[0]
    assert (failure.error.type, failure.error.retryable) == ("PayloadTooLarge", False)
