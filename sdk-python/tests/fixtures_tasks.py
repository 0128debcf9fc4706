"""Tasks the integration tests serve with `python -m taskwire serve tests.fixtures_tasks:...`."""

from __future__ import annotations

import os
import time
from pathlib import Path

from taskwire import current_run, task


@task
def add(a: int, b: int = 0) -> int:
    return a + b


@task(name="greet-py", log_prints=True)
def greet(name: str) -> str:
    print(f"greeting {name}")
    return f"Hello, {name}!"


@task
def send_email(to: str) -> None:
    raise ValueError("bad address")


def _write_marker(marker: str, text: str) -> None:
    """Writes a marker whole: a test that sees the file also sees its content."""
    partial = Path(marker + ".partial")
    partial.write_text(text)
    os.replace(partial, marker)


@task
def hold(marker: str, release: str) -> str:
    """Signals that it started (marker file), then holds until the release file exists."""
    _write_marker(marker, str(current_run().attempt if current_run() else 0))
    while not Path(release).exists():
        time.sleep(0.05)
    return "released"


@task
def sleep_for(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@task
def until_cancelled(marker: str) -> str:
    """Runs until its run is cancelled, checking the flag the way a long task should."""
    _write_marker(marker, "started")
    run = current_run()
    assert run is not None
    while not run.wait_cancelled(0.05):
        pass
    return "noticed the cancel"


@task
async def async_double(n: int) -> int:
    """An ``async def`` task: the worker runs it on an event loop of the run's thread."""
    return n * 2


@task
def huge() -> int:
    """Returns an integer a TypeScript caller could not read exactly."""
    return 2**60


@task
def echo(value: object) -> object:
    return value


@task
def lone_surrogate() -> str:
    """A str Python holds but UTF-8 cannot encode: the result cannot be sent as JSON."""
    return "half a pair: \ud800"
