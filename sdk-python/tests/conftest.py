"""Fixtures: a real taskwire server process and Python worker subprocesses."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import taskwire.client
from taskwire.client import TaskRunClient
from taskwire.settings import Settings

# Direct calls of a task are recorded on the server at TASKWIRE_API_URL: in tests that do
# not start one, point it at a closed port, never at a server a developer runs on 7070.
os.environ["TASKWIRE_API_URL"] = "http://127.0.0.1:9"

SDK_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = SDK_DIR.parent
SERVER_JS = Path(os.environ.get("TASKWIRE_TEST_SERVER_JS", REPO_DIR / "server/dist/cli/main.js"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pump(stream, lines: queue.Queue[str], sink: list[str]) -> None:  # type: ignore[no-untyped-def]
    for line in iter(stream.readline, ""):
        sink.append(line)
        lines.put(line)


class Server:
    """A taskwire server process on a free port with its own TASKWIRE_HOME."""

    def __init__(self, home: Path, port: int | None = None) -> None:
        self.home = home
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output: list[str] = []
        env = {**os.environ, "TASKWIRE_HOME": str(home)}
        env.pop("TASKWIRE_API_URL", None)
        self.process = subprocess.Popen(
            ["node", str(SERVER_JS), "server", "start", "--port", str(self.port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_pump, args=(self.process.stdout, lines, self.output), daemon=True).start()
        while True:
            try:
                line = lines.get(timeout=30)
            except queue.Empty:
                self.stop()
                output = "".join(self.output)
                raise RuntimeError(f"the server did not say 'listening on' within 30 s:\n{output}") from None
            if "listening on" in line:
                return

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not SERVER_JS.exists():
        pytest.fail(f"no server build at {SERVER_JS} (run `npx tsc -b` in the repo root)")
    srv = Server(tmp_path_factory.mktemp("taskwire-home"))
    yield srv
    srv.stop()


@pytest.fixture
def client(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[TaskRunClient]:
    """A client for the test server, also installed as the default that delay() uses."""
    c = TaskRunClient(Settings(api_url=server.url))
    monkeypatch.setattr(taskwire.client, "_default_client", c)
    yield c
    c.close()


class WorkerProcess:
    """`python -m taskwire serve ...` against the test server."""

    def __init__(
        self, server: Server, entrypoints: list[str], *extra: str, env: dict[str, str] | None = None
    ) -> None:
        self.output: list[str] = []
        env = {**os.environ, "TASKWIRE_API_URL": server.url, "TASKWIRE_HOME": str(server.home), **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "taskwire", "serve", *entrypoints, *extra],
            cwd=SDK_DIR,
            env=env,
            # A pipe of ours, as a supervisor holds it: close_stdin() ends it.
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_pump, args=(self.process.stdout, self._lines, self.output), daemon=True).start()

    def wait_for_output(self, text: str, timeout: float = 20) -> None:
        while not any(text in line for line in self.output):
            try:
                self._lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"worker never printed {text!r}:\n{''.join(self.output)}") from None

    def close_stdin(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()

    def signal(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def start_worker(server: Server) -> Iterator[Callable[..., WorkerProcess]]:
    """Starts worker processes; every one still alive is killed after the test."""
    started: list[WorkerProcess] = []

    def start(
        *entrypoints: str, extra: tuple[str, ...] = (), env: dict[str, str] | None = None
    ) -> WorkerProcess:
        worker = WorkerProcess(server, list(entrypoints), *extra, env=env)
        started.append(worker)
        worker.wait_for_output("serving")
        return worker

    yield start
    for worker in started:
        worker.kill()


def wait_for_file(path: Path, timeout: float = 20) -> str:
    """Blocks until a task wrote its marker file (the tests' only way to see inside it)."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.05)
    return path.read_text()
