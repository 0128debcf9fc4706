"""A TaskRunService that counts the calls it gets: for tests of how the SDK calls the
server (batched schedules, one watch stream), which a real server cannot tell apart."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent import futures

import grpc

from taskwire.v1 import task_run_pb2, task_run_service_pb2, task_run_service_pb2_grpc


class FakeTaskRunService(task_run_service_pb2_grpc.TaskRunServiceServicer):
    """Every scheduled run completes at once; its result is the sum of its int arguments."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.batches: list[int] = []
        self.runs: dict[str, task_run_pb2.TaskRun] = {}
        self.lock = threading.Lock()
        # Cleared by a test to hold ScheduleTaskRuns requests until it sets it again.
        self.schedule_gate = threading.Event()
        self.schedule_gate.set()

    def _store(self, spec: task_run_pb2.TaskRunSpec) -> str:
        run_id = str(uuid.uuid4())
        parameters = json.loads(spec.parameters.data or b"{}")
        numbers = [*parameters.get("args", []), *parameters.get("kwargs", {}).values()]
        total = sum(n for n in numbers if isinstance(n, int))
        result = task_run_pb2.Payload(content_type="application/json", data=json.dumps(total).encode())
        with self.lock:
            self.runs[run_id] = task_run_pb2.TaskRun(
                id=run_id, task_key=spec.task_key, state=task_run_pb2.TASK_RUN_STATE_COMPLETED, result=result
            )
        return run_id

    def ScheduleTaskRun(self, request, context):  # noqa: N802, ANN001, ANN201
        self.calls["ScheduleTaskRun"] += 1
        return task_run_service_pb2.ScheduleTaskRunResponse(id=self._store(request.run))

    def ScheduleTaskRuns(self, request, context):  # noqa: N802, ANN001, ANN201
        self.schedule_gate.wait()
        with self.lock:
            self.calls["ScheduleTaskRuns"] += 1
            self.batches.append(len(request.runs))
        ids = [self._store(spec) for spec in request.runs]
        return task_run_service_pb2.ScheduleTaskRunsResponse(
            runs=[task_run_service_pb2.ScheduleTaskRunResponse(id=i) for i in ids]
        )

    def GetTaskRun(self, request, context):  # noqa: N802, ANN001, ANN201
        self.calls["GetTaskRun"] += 1
        return task_run_service_pb2.GetTaskRunResponse(task_run=self.runs[request.id])

    def WaitTaskRun(self, request, context):  # noqa: N802, ANN001, ANN201
        self.calls["WaitTaskRun"] += 1
        return task_run_service_pb2.WaitTaskRunResponse(task_run=self.runs[request.id], final=True)

    def WatchTaskRuns(self, request_iterator, context) -> Iterator[task_run_service_pb2.WatchTaskRunsResponse]:  # noqa: N802, ANN001
        self.calls["WatchTaskRuns"] += 1
        for request in request_iterator:
            with self.lock:
                self.calls["watched ids"] += len(request.run_ids)
                runs = [self.runs[i] for i in request.run_ids if i in self.runs]
            if runs:
                yield task_run_service_pb2.WatchTaskRunsResponse(task_runs=runs)


def start_fake_server() -> tuple[grpc.Server, FakeTaskRunService, str]:
    """The fake on a free loopback port; returns the server, the service and its URL."""
    service = FakeTaskRunService()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    task_run_service_pb2_grpc.add_TaskRunServiceServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, service, f"http://127.0.0.1:{port}"
