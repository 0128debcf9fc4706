"""A WorkerService whose side of the stream a test scripts message by message.

For fast, exact tests of the worker's half of the protocol; the integration tests cover
the real server.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from concurrent import futures

import grpc

from taskwire.v1 import task_run_pb2
from taskwire.v1 import worker_service_pb2 as pb
from taskwire.v1 import worker_service_pb2_grpc


class ScriptedStream:
    """One SubscribeTaskRuns call as the server sees it."""

    def __init__(self) -> None:
        self.outbox: queue.Queue[pb.SubscribeTaskRunsResponse | None] = queue.Queue()
        self.inbox: queue.Queue[pb.SubscribeTaskRunsRequest | None] = queue.Queue()
        self.seen: list[pb.SubscribeTaskRunsRequest] = []
        self.half_closed = threading.Event()

    def send(self, **message: object) -> None:
        self.outbox.put(pb.SubscribeTaskRunsResponse(**message))  # type: ignore[arg-type]

    def end(self) -> None:
        """Ends the stream from the server's side."""
        self.outbox.put(None)

    def expect(self, kind: str, timeout: float = 10) -> pb.SubscribeTaskRunsRequest:
        """The next message of this kind; others (heartbeats, logs) are kept in ``seen``."""
        # One deadline for the whole wait: heartbeats keep arriving, a per-message timeout
        # would never pass while the expected message never comes.
        deadline = time.monotonic() + timeout
        while True:
            try:
                message = self.inbox.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {kind} within {timeout} s; saw {self.kinds()}") from None
            if message is None:
                raise AssertionError(f"the worker closed the stream before sending {kind}; saw {self.kinds()}")
            self.seen.append(message)
            if message.WhichOneof("message") == kind:
                return message

    def kinds(self) -> list[str]:
        return [m.WhichOneof("message") or "" for m in self.seen]

    def welcome(self, heartbeat_interval_ms: int = 200, max_payload_bytes: int = 1 << 20) -> None:
        self.send(
            welcome=pb.Welcome(
                server_version="scripted",
                protocol_version=1,
                heartbeat_interval_ms=heartbeat_interval_ms,
                lease_duration_ms=heartbeat_interval_ms * 3,
                max_payload_bytes=max_payload_bytes,
                session_id="s1",
            )
        )

    def assign(self, run_id: str, task_key: str, data: bytes, timeout_ms: int = 0) -> str:
        token = f"lease-{run_id}"
        self.send(
            assignments=pb.Assignments(
                assignments=[
                    pb.Assignment(
                        run_id=run_id,
                        task_key=task_key,
                        attempt=1,
                        lease_token=token,
                        parameters=task_run_pb2.Payload(content_type="application/json", data=data),
                        timeout_ms=timeout_ms,
                    )
                ]
            )
        )
        return token

    def ack(self, run_id: str, token: str, kind: int, accepted: bool = True, reason: str = "") -> None:
        self.send(
            acks=pb.Acks(
                acks=[pb.Ack(run_id=run_id, lease_token=token, kind=kind, accepted=accepted, reason=reason)]
            )
        )


class ScriptedServer(worker_service_pb2_grpc.WorkerServiceServicer):
    """A grpc server on a free loopback port; each worker stream arrives in ``streams``."""

    def __init__(self) -> None:
        self.streams: queue.Queue[ScriptedStream] = queue.Queue()
        self.metadata: list[dict[str, str]] = []
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        worker_service_pb2_grpc.add_WorkerServiceServicer_to_server(self, self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self.url = f"http://127.0.0.1:{self.port}"
        self._server.start()

    def next_stream(self, timeout: float = 10) -> ScriptedStream:
        return self.streams.get(timeout=timeout)

    def stop(self) -> None:
        self._server.stop(grace=None)

    def SubscribeTaskRuns(  # noqa: N802 - grpc's name
        self, request_iterator: Iterator[pb.SubscribeTaskRunsRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.SubscribeTaskRunsResponse]:
        self.metadata.append(dict(context.invocation_metadata()))
        stream = ScriptedStream()

        def read() -> None:
            try:
                for request in request_iterator:
                    stream.inbox.put(request)
            except grpc.RpcError:
                pass
            stream.half_closed.set()
            stream.inbox.put(None)
            stream.end()  # as a real server does once the worker half-closed

        threading.Thread(target=read, daemon=True).start()
        self.streams.put(stream)
        while True:
            message = stream.outbox.get()
            if message is None:
                return
            yield message
