"""Design §6 in Python: the delays of one moment in one request, every future on one stream."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

import taskwire.client
from taskwire import task
from taskwire.client import TaskRunClient
from taskwire.settings import Settings
from tests.fake_task_run_service import FakeTaskRunService, start_fake_server


@task
def add(a: int, b: int = 0) -> int:
    return a + b


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeTaskRunService, TaskRunClient]]:
    server, service, url = start_fake_server()
    client = TaskRunClient(Settings(api_url=url))
    monkeypatch.setattr(taskwire.client, "_default_client", client)
    yield service, client
    client.close()
    server.stop(0)


def test_map_delays_every_run_in_one_request_and_waits_on_one_stream(fake) -> None:  # noqa: ANN001
    service, _ = fake
    futures = add.map(range(50), b=1000)
    assert service.calls["ScheduleTaskRuns"] == 1
    assert service.batches == [50]
    assert futures.result(timeout=10) == [n + 1000 for n in range(50)]
    assert service.calls["WatchTaskRuns"] == 1
    assert service.calls["watched ids"] == 50
    assert service.calls["GetTaskRun"] == service.calls["WaitTaskRun"] == service.calls["ScheduleTaskRun"] == 0


def test_futures_of_separate_delays_share_one_watch_stream(fake) -> None:  # noqa: ANN001
    service, _ = fake
    futures = [add.delay(n, 1) for n in range(10)]
    assert [f.result(timeout=10) for f in futures] == [n + 1 for n in range(10)]
    assert service.calls["WatchTaskRuns"] == 1
    assert service.calls["GetTaskRun"] == service.calls["WaitTaskRun"] == 0
    # Final states are remembered: reading them again asks the server nothing.
    assert [f.state.name for f in futures] == ["Completed"] * 10
    assert service.calls["GetTaskRun"] == 0


def test_delays_from_threads_at_the_same_moment_travel_together(fake) -> None:  # noqa: ANN001
    service, client = fake
    service.schedule_gate.clear()  # the first request waits at the server
    results: list[int] = []
    threads = [threading.Thread(target=lambda n=n: results.append(add.delay(n).result(timeout=10))) for n in range(20)]
    for thread in threads:
        thread.start()
    # While the first request is held, the other 19 calls queue up in the client.
    deadline = time.monotonic() + 10
    while len(client._batcher._queue) < 19:
        assert time.monotonic() < deadline, "the delays never queued behind the first request"
        time.sleep(0.01)
    service.schedule_gate.set()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == list(range(20))
    assert service.batches == [1, 19]


def test_map_keeps_unmapped_values_and_refuses_uneven_iterables(fake) -> None:  # noqa: ANN001
    from taskwire import unmapped

    @task
    def total(numbers: list[int], extra: int) -> int:
        return 0

    service, _ = fake
    futures = total.map(unmapped([1, 2]), [10, 20])
    assert len(futures) == 2
    assert service.batches == [2]
    with pytest.raises(ValueError, match="different lengths"):
        add.map([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="needs at least one"):
        add.map(1, 2)
