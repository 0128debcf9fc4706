"""Against a real server process: Python delay() -> Python worker process -> result."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from taskwire import TaskRunFailed, TaskRunState
from taskwire.client import TaskRunClient
from taskwire.future import TaskRunFuture
from taskwire.settings import Settings
from tests import fixtures_tasks
from tests.conftest import Server, WorkerProcess, wait_for_file

pytestmark = pytest.mark.integration

StartWorker = Callable[..., WorkerProcess]


def test_a_python_worker_runs_a_delayed_task(client: TaskRunClient, start_worker: StartWorker) -> None:
    start_worker("tests.fixtures_tasks:add")
    future = fixtures_tasks.add.delay(2, b=40)
    assert future.task_run_id
    assert future.result(timeout=30) == 42
    assert future.wait() is TaskRunState.COMPLETED


def test_delay_is_durable_before_any_worker_exists(client: TaskRunClient, start_worker: StartWorker) -> None:
    future = fixtures_tasks.greet.delay("Agrajag")
    assert future.state == TaskRunState.SCHEDULED
    start_worker("tests.fixtures_tasks:greet")
    assert future.result(timeout=30) == "Hello, Agrajag!"


def test_log_prints_sends_print_output_as_run_logs(client: TaskRunClient, start_worker: StartWorker) -> None:
    worker = start_worker("tests.fixtures_tasks:greet")
    future = fixtures_tasks.greet.delay("Ford")
    future.result(timeout=30)
    assert "greeting Ford" in [line.message for line in client.logs(future.task_run_id)]
    worker.wait_for_output("greeting Ford")  # and it still printed


def test_a_task_error_becomes_task_run_failed(client: TaskRunClient, start_worker: StartWorker) -> None:
    start_worker("tests.fixtures_tasks:send_email")
    future = fixtures_tasks.send_email.delay("nobody")
    with pytest.raises(TaskRunFailed) as raised:
        future.result(timeout=30)
    assert raised.value.remote_type == "ValueError"
    assert raised.value.remote_message == "bad address"
    assert "fixtures_tasks.py" in raised.value.remote_stack
    assert raised.value.task_run_id == future.task_run_id
    assert future.wait() is TaskRunState.FAILED


def test_result_times_out_when_no_worker_serves_the_task(client: TaskRunClient) -> None:
    future = fixtures_tasks.sleep_for.delay(0)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        future.result(timeout=1)
    assert time.monotonic() - started < 10


def test_a_run_survives_a_worker_killed_mid_run(
    client: TaskRunClient, start_worker: StartWorker, tmp_path: Path
) -> None:
    marker, release = tmp_path / "started", tmp_path / "release"
    first = start_worker("tests.fixtures_tasks:hold")
    future = fixtures_tasks.hold.delay(str(marker), str(release))
    assert wait_for_file(marker) == "1"
    first.process.send_signal(signal.SIGKILL)
    first.wait(10)
    marker.unlink()
    release.touch()

    start_worker("tests.fixtures_tasks:hold")
    assert future.result(timeout=30) == "released"
    assert wait_for_file(marker) == "2"  # a second attempt ran it
    run = client.get(future.task_run_id)
    assert run.redeliveries >= 1
    assert run.retries_used == 0  # a lost attempt does not use up a retry


def test_sigterm_lets_the_run_in_flight_finish_and_exits_cleanly(
    client: TaskRunClient, start_worker: StartWorker
) -> None:
    worker = start_worker("tests.fixtures_tasks:sleep_for")
    future = fixtures_tasks.sleep_for.delay(1.5)
    _wait_for_state(future, TaskRunState.RUNNING)
    worker.signal(signal.SIGTERM)
    assert worker.wait(20) == 0
    assert future.result(timeout=5) == 1.5


def test_sigterm_hands_back_runs_that_outlast_the_grace(
    client: TaskRunClient, start_worker: StartWorker, tmp_path: Path
) -> None:
    marker, release = tmp_path / "started", tmp_path / "release"
    worker = start_worker("tests.fixtures_tasks:hold", extra=("--grace", "0.5"))
    future = fixtures_tasks.hold.delay(str(marker), str(release))
    wait_for_file(marker)
    worker.signal(signal.SIGTERM)
    assert worker.wait(20) == 0
    run = client.get(future.task_run_id)
    assert TaskRunState.from_proto(run.state) is TaskRunState.SCHEDULED

    release.touch()
    start_worker("tests.fixtures_tasks:hold")
    assert future.result(timeout=30) == "released"


def test_the_end_of_stdin_drains_as_sigterm_does_when_told_to(
    client: TaskRunClient, start_worker: StartWorker, tmp_path: Path
) -> None:
    # What `taskwire task serve tasks.py:fn` (the Node CLI) does: its death, SIGKILL too,
    # ends the pipe it holds to the worker's stdin.
    marker, release = tmp_path / "started", tmp_path / "release"
    worker = start_worker(
        "tests.fixtures_tasks:hold", extra=("--grace", "0.5"), env={"TASKWIRE_STOP_ON_STDIN_EOF": "1"}
    )
    future = fixtures_tasks.hold.delay(str(marker), str(release))
    wait_for_file(marker)
    worker.close_stdin()
    assert worker.wait(20) == 0
    assert any("stdin closed" in line for line in worker.output)
    run = client.get(future.task_run_id)
    assert TaskRunState.from_proto(run.state) is TaskRunState.SCHEDULED
    release.touch()


def test_cancel_reaches_the_running_task(
    client: TaskRunClient, start_worker: StartWorker, tmp_path: Path
) -> None:
    marker = tmp_path / "started"
    start_worker("tests.fixtures_tasks:until_cancelled")
    future = fixtures_tasks.until_cancelled.delay(str(marker))
    wait_for_file(marker)
    future.cancel()
    with pytest.raises(TaskRunFailed) as raised:
        future.result(timeout=30)
    assert raised.value.state == "CANCELLED"
    assert future.wait() is TaskRunState.CANCELLED


def test_the_worker_reconnects_after_a_server_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: Server
) -> None:
    # Its own server, so that restarting it leaves the shared one alone.
    own = Server(tmp_path / "home")
    worker = WorkerProcess(own, ["tests.fixtures_tasks:add"])
    try:
        worker.wait_for_output("serving")
        own.process.kill()
        own.process.wait()
        worker.wait_for_output("reconnecting")
        own = Server(own.home, own.port)
        client = TaskRunClient(Settings(api_url=own.url))
        future = fixtures_tasks.add.apply_async((20, 22), client=client)
        assert future.result(timeout=30) == 42
        client.close()
    finally:
        worker.kill()
        own.stop()


def _wait_for_state(future: TaskRunFuture[object], state: TaskRunState, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while future.state != state:
        assert time.monotonic() < deadline, f"run never reached {state}"
        time.sleep(0.05)
