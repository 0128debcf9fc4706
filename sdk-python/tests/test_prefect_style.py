"""The SDK as Prefect users know it, against a real server process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from taskwire import TaskRunFailed, TaskRunState
from taskwire.client import TaskRunClient
from taskwire.v1 import task_run_pb2, task_run_service_pb2
from tests import fixtures_tasks
from tests.conftest import SERVER_JS, Server, WorkerProcess, free_port

pytestmark = pytest.mark.integration

StartWorker = Callable[..., WorkerProcess]

# Prefect's task-worker walkthrough with only `prefect` replaced by `taskwire`.
SEED = {
    "tasks.py": """
from taskwire import task


@task(log_prints=True)
def my_background_task(name: str):
    print(f"Hello, {name}!")


if __name__ == "__main__":
    my_background_task("Marvin")
""",
    "task_worker.py": """
from taskwire.task_worker import serve
from tasks import my_background_task


if __name__ == "__main__":
    serve(my_background_task)
""",
    "task_scheduler.py": """
import sys
from tasks import my_background_task


if __name__ == "__main__":
    future = my_background_task.delay(sys.argv[1])
    future.wait()
    print(future.state.name, future.task_run_id)
""",
}


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "TASKWIRE_API_URL": url, "PYTHONUNBUFFERED": "1", "TASKWIRE_PYTHON": sys.executable}


def _runs_of(client: TaskRunClient, task_key: str) -> list[task_run_pb2.TaskRun]:
    request = task_run_service_pb2.ListTaskRunsRequest(task_keys=[task_key])
    return list(client._stub.ListTaskRuns(request, timeout=10).task_runs)


def _start(command: list[str], cwd: Path, url: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(command, cwd=cwd, env=_env(url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if "serving" in line:
            return process
    raise AssertionError(f"{command} exited ({process.wait()}) without serving")


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    assert process.wait(20) == 0


def test_prefects_walkthrough_runs_with_taskwire_imports(server: Server, client: TaskRunClient, tmp_path: Path) -> None:
    for name, code in SEED.items():
        (tmp_path / name).write_text(code)

    # A direct call runs here and is recorded on the server, printed lines as its logs.
    direct = subprocess.run([sys.executable, "tasks.py"], cwd=tmp_path, env=_env(server.url), capture_output=True, text=True, timeout=60)
    assert direct.returncode == 0, direct.stderr
    assert direct.stdout == "Hello, Marvin!\n"
    [recorded] = _runs_of(client, "my_background_task")
    assert recorded.foreground and recorded.state == task_run_pb2.TASK_RUN_STATE_COMPLETED
    assert [line.message for line in client.logs(recorded.id)] == ["Hello, Marvin!"]

    # `serve` from taskwire.task_worker; `Task.serve()`; `taskwire-py task serve
    # file.py:task`; and the Node CLI's `taskwire task serve file.py:task`, which hands it
    # to the Python SDK.
    bin_dir = Path(sys.executable).parent
    workers = [
        [sys.executable, "task_worker.py"],
        [sys.executable, "-c", "from tasks import my_background_task; my_background_task.serve()"],
        [str(bin_dir / "taskwire-py"), "task", "serve", "tasks.py:my_background_task"],
        ["node", str(SERVER_JS), "task", "serve", "tasks.py:my_background_task"],
    ]
    for worker_command in workers:
        worker = _start(worker_command, tmp_path, server.url)
        try:
            scheduled = subprocess.run(
                [sys.executable, "task_scheduler.py", "Agrajag"], cwd=tmp_path, env=_env(server.url), capture_output=True, text=True, timeout=60
            )
            assert scheduled.returncode == 0, scheduled.stderr
            state, run_id = scheduled.stdout.split()
            assert state == "Completed"
            assert [line.message for line in client.logs(run_id)] == ["Hello, Agrajag!"]
        finally:
            _stop(worker)


def test_a_direct_call_without_a_server_runs_and_warns_once(tmp_path: Path) -> None:
    (tmp_path / "calls.py").write_text(
        "from taskwire import task\n\n@task\ndef double(n):\n    return n * 2\n\nprint(double(1), double(2), double(3))\n"
    )
    closed = f"http://127.0.0.1:{free_port()}"
    result = subprocess.run([sys.executable, "calls.py"], cwd=tmp_path, env=_env(closed), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout == "2 4 6\n"
    assert result.stderr.count("was not recorded") == 1
    assert f"no taskwire server is reachable at {closed}" in result.stderr


def test_submit_runs_now_in_a_thread_and_records_the_run(client: TaskRunClient) -> None:
    future = fixtures_tasks.add.submit(40, 2)
    assert future.result(timeout=10) == 42
    assert future.state.name == "Completed"
    deadline = time.monotonic() + 10
    while future.task_run_id is None:
        assert time.monotonic() < deadline, "the submitted run was never recorded"
        time.sleep(0.02)
    run = client.get(future.task_run_id)
    assert run.foreground and run.state == task_run_pb2.TASK_RUN_STATE_COMPLETED


def test_async_tasks_run_on_a_worker_and_futures_read_like_prefects(client: TaskRunClient, start_worker: StartWorker) -> None:
    start_worker("tests.fixtures_tasks:async_double", "tests.fixtures_tasks:send_email", "tests.fixtures_tasks:huge")
    assert fixtures_tasks.async_double.delay(21).result(timeout=30) == 42

    failing = fixtures_tasks.send_email.delay("nobody")
    assert failing.wait(timeout=30) is TaskRunState.FAILED
    assert failing.state.name == "Failed" and failing.state.is_failed()
    error = failing.result(raise_on_failure=False)
    assert isinstance(error, TaskRunFailed) and error.remote_type == "ValueError"

    # An integer a TypeScript reader would round is refused as a result too, not sent.
    with pytest.raises(TaskRunFailed, match="beyond"):
        fixtures_tasks.huge.delay().result(timeout=30)


def test_with_options_changes_the_options_of_a_copy() -> None:
    patient = fixtures_tasks.add.with_options(retries=5, tags=["slow"], name="add-patiently")
    spec = patient.build_spec((1,), {})
    assert (spec.task_key, spec.options.retries, list(spec.options.tags)) == ("add-patiently", 5, ["slow"])
    assert fixtures_tasks.add.retries == 0
    with pytest.raises(TypeError, match="unknown option"):
        fixtures_tasks.add.with_options(retry=1)
