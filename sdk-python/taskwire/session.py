"""One SubscribeTaskRuns stream: an outbox of worker messages and a heartbeat thread."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator

import grpc

from taskwire.v1 import worker_service_pb2 as pb
from taskwire.v1 import worker_service_pb2_grpc

log = logging.getLogger("taskwire.worker")

# Used when a server's Welcome leaves the interval unset.
DEFAULT_HEARTBEAT_INTERVAL_S = 5.0


class Session:
    """A stream from Hello to its end; a reconnect makes a new Session.

    Anything sent after ``close()`` is dropped: its lease tokens died with the stream.
    """

    def __init__(
        self,
        channel: grpc.Channel,
        metadata: tuple[tuple[str, str], ...],
        hello: pb.Hello,
    ) -> None:
        self._stub = worker_service_pb2_grpc.WorkerServiceStub(channel)
        self._metadata = metadata
        self._hello = hello
        # grpc pulls requests from our generator on its own thread; a queue hands them over
        # from the task threads, the heartbeat thread and the reader without a lock of ours.
        self._outbox: queue.Queue[pb.SubscribeTaskRunsRequest | None] = queue.Queue()
        self._closed = threading.Event()
        self._call: grpc.Call | None = None
        self.welcome: pb.Welcome | None = None
        self.draining = False

    def open(self) -> Iterator[pb.SubscribeTaskRunsResponse]:
        """Starts the stream with Hello; returns the server's messages."""
        self._outbox.put(pb.SubscribeTaskRunsRequest(hello=self._hello))
        call = self._stub.SubscribeTaskRuns(self._requests(), metadata=self._metadata)
        self._call = call
        return call  # type: ignore[no-any-return]

    def _requests(self) -> Iterator[pb.SubscribeTaskRunsRequest]:
        while True:
            message = self._outbox.get()
            if message is None:
                return  # half-close: the server ends its side once it has answered
            yield message

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def send(self, message: pb.SubscribeTaskRunsRequest) -> bool:
        """Queues a message; False when the stream is already closed."""
        if self._closed.is_set():
            return False
        self._outbox.put(message)
        return True

    def close(self) -> None:
        """Half-closes our side after the queued messages; idempotent."""
        if not self._closed.is_set():
            self._closed.set()
            self._outbox.put(None)

    def abort(self) -> None:
        """Ends the stream at once (the reader then sees CANCELLED)."""
        self.close()
        if self._call is not None:
            self._call.cancel()

    def start_heartbeats(self, leases: Callable[[], list[pb.LeaseRef]]) -> None:
        """Sends a Heartbeat with every held lease each interval until the stream closes.

        A thread of its own, so that a task hogging the CPU or a slow reader cannot
        delay it past the lease deadline.
        """
        interval_ms = self.welcome.heartbeat_interval_ms if self.welcome else 0
        interval = interval_ms / 1000 if interval_ms else DEFAULT_HEARTBEAT_INTERVAL_S

        def beat() -> None:
            while not self._closed.wait(interval):
                self.send(pb.SubscribeTaskRunsRequest(heartbeat=pb.Heartbeat(runs=leases())))

        threading.Thread(target=beat, name="taskwire-heartbeat", daemon=True).start()
