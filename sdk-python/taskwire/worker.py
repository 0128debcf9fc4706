"""The task worker: holds a SubscribeTaskRuns stream, runs assignments, reports them.

Threads: one reads the stream (and reconnects), one per session sends heartbeats, one
per run executes the task. A run gets its own daemon thread rather than a slot in a
fixed pool: the server never sends more than ``limit`` runs (credit flow control), and
a cancelled or timed-out task stuck in C code must not keep the next run waiting.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Iterable

import grpc

from taskwire.client import auth_metadata, open_channel, to_taskwire_error
from taskwire.context import RunContext
from taskwire.errors import TaskwireError
from taskwire.execution import Outcome, execute, failure, failure_from
from taskwire.held_run import HeldRun, log_message, outcome_message, within_payload_limit
from taskwire.session import Session
from taskwire.settings import Settings, load_settings
from taskwire.task import Task
from taskwire.v1 import worker_service_pb2 as pb
from taskwire.version import __version__

log = logging.getLogger("taskwire.worker")

PROTOCOL_VERSION = 1
# Reconnect delays double from 0.1 s up to 5 s: quick after a blip, gentle on a server
# that is down for a while.
BACKOFF_INITIAL_S = 0.1
BACKOFF_MAX_S = 5.0
# How long an interrupted task may take to return before its failure is reported anyway.
ABORT_GRACE_S = 5.0
# How long a draining worker waits for the server to acknowledge its last results.
ACK_WAIT_S = 5.0
# Errors that a reconnect cannot fix: the worker stops and says why.
_FATAL_CODES = {
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.UNIMPLEMENTED,
}


class Worker:
    """Serves tasks: receives their runs from the server and executes them.

    Most code calls ``serve()``, which also handles SIGTERM/SIGINT. Use a Worker to
    embed one in a larger program::

        worker = Worker([send_email], limit=10)
        worker.start()
        ...
        worker.stop()   # drain: finish in-flight runs up to the grace period
        worker.wait()
    """

    def __init__(
        self,
        tasks: Iterable[Task[..., object]],
        *,
        limit: int = 10,
        settings: Settings | None = None,
        shutdown_grace_seconds: float = 10.0,
        worker_id: str | None = None,
    ) -> None:
        self.tasks = {t.task_key: t for t in tasks}
        if not self.tasks:
            raise ValueError("a worker needs at least one task")
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self.limit = limit
        self.settings = settings or load_settings()
        self._server = self.settings.for_server(0)
        self.shutdown_grace_seconds = shutdown_grace_seconds
        self.worker_id = worker_id or str(uuid.uuid4())
        self.error: TaskwireError | None = None

        self._lock = threading.Condition()
        self._held: dict[str, HeldRun] = {}
        # Results sent but not yet acknowledged, by (run id, lease token).
        self._unacked: dict[tuple[str, str], HeldRun] = {}
        self._session: Session | None = None
        self._stopping = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Connects and starts serving on a background thread; returns at once."""
        self._thread = threading.Thread(target=self._run, name="taskwire-worker", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Blocks until the worker stopped; True if it did within ``timeout``."""
        return self._done.wait(timeout)

    def stop(self) -> None:
        """Drains: no new runs, in-flight runs finish within the grace period, the rest
        go back to the queue (Released). Returns at once; ``wait()`` for the end.

        A second call releases everything held right away.
        """
        force = self._stopping.is_set()
        self._stopping.set()
        grace = 0.0 if force else self.shutdown_grace_seconds
        threading.Thread(
            target=self._shutdown, args=(grace,), name="taskwire-shutdown", daemon=True
        ).start()

    def _shutdown(self, grace: float) -> None:
        with self._lock:
            session = self._session
        if session is not None and not session.closed:
            session.send(pb.SubscribeTaskRunsRequest(drain=pb.Drain()))
            self._drain(session, grace)
            # The server ends the stream after our half-close; don't wait on it forever.
            if not self._done.wait(ACK_WAIT_S):
                session.abort()

    # -- the connection loop -----------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        attempt = 0
        try:
            while True:
                # A fresh channel per stream: a channel whose connection failed can keep
                # failing calls from its backoff state well after the server is back.
                # Several servers: each connect goes to the next, so one that died is left
                # at the first reconnect.
                server = self.settings.for_server(attempt)
                attempt += 1
                self._server = server
                channel = open_channel(server)
                session = Session(channel, auth_metadata(server), self._hello())
                with self._lock:
                    if self._stopping.is_set():
                        break
                    self._session = session
                why = "the server closed the stream"
                try:
                    self._read(session)
                except grpc.RpcError as exc:
                    if exc.code() in _FATAL_CODES:
                        self.error = to_taskwire_error(exc, self.settings)
                        log.error("worker stopped: %s", self.error)
                        break
                    why = f"{exc.code().name}: {exc.details()}"
                finally:
                    session.close()
                    self._lose_all(session)
                    channel.close()
                if self._stopping.is_set():
                    break
                if session.welcome is not None:
                    failures = 0
                # Jitter, so that a fleet of workers does not reconnect in lockstep.
                delay = min(BACKOFF_MAX_S, BACKOFF_INITIAL_S * 2**failures) * random.uniform(0.5, 1.0)
                failures += 1
                log.warning(
                    "no stream to %s (%s); reconnecting in %.1f s", server.api_url, why, delay
                )
                if self._stopping.wait(delay):
                    break
        finally:
            self._done.set()

    def _hello(self) -> pb.Hello:
        return pb.Hello(
            protocol_version=PROTOCOL_VERSION,
            worker_id=self.worker_id,
            task_keys=list(self.tasks),
            limit=self.limit,
            language="python",
            sdk_version=__version__,
            hostname=socket.gethostname(),
            pid=os.getpid(),
        )

    def _read(self, session: Session) -> None:
        for message in session.open():
            kind = message.WhichOneof("message")
            if kind == "welcome":
                session.welcome = message.welcome
                session.start_heartbeats(lambda: self._leases(session))
                log.info(
                    "worker %s serving %s on %s (limit %d)",
                    self.worker_id,
                    ", ".join(self.tasks),
                    self._server.api_url,
                    self.limit,
                )
            elif kind == "assignments":
                self._on_assignments(session, message.assignments.assignments)
            elif kind == "cancel":
                for run_id in message.cancel.run_ids:
                    self._on_cancel(run_id, message.cancel.reason)
            elif kind == "acks":
                self._on_acks(message.acks.acks)
            elif kind == "drain":
                self._on_server_drain(session, message.drain.grace_ms)

    # -- assignments -------------------------------------------------------------------

    def _on_assignments(self, session: Session, assignments: Iterable[pb.Assignment]) -> None:
        started: list[HeldRun] = []
        released: list[pb.LeaseRef] = []
        with self._lock:
            for assignment in assignments:
                context = RunContext(
                    task_run_id=assignment.run_id,
                    task_key=assignment.task_key,
                    attempt=assignment.attempt,
                    tags=list(assignment.tags),
                )
                run = HeldRun(assignment, self.tasks.get(assignment.task_key), session, context)
                if session.draining or self._stopping.is_set():
                    # Crossed our Drain on the wire: hand it back unstarted.
                    run.finished = True
                    self._unacked[(assignment.run_id, assignment.lease_token)] = run
                    released.append(run.lease)
                    continue
                self._held[assignment.run_id] = run
                started.append(run)
        if released:
            session.send(pb.SubscribeTaskRunsRequest(released=pb.Released(runs=released)))
        if not started:
            return
        # Started goes out before any thread can send Completed for the same run.
        session.send(
            pb.SubscribeTaskRunsRequest(started=pb.Started(runs=[r.lease for r in started]))
        )
        for run in started:
            if run.assignment.timeout_ms:
                timer = threading.Timer(
                    run.assignment.timeout_ms / 1000,
                    self._abort,
                    args=(run, "TimeoutError", f"timed out after {run.assignment.timeout_ms} ms", True),
                )
                timer.daemon = True
                timer.start()
            threading.Thread(
                target=self._execute, args=(run,), name=f"taskwire-run-{run.assignment.run_id}", daemon=True
            ).start()

    def _execute(self, run: HeldRun) -> None:
        try:
            if run.task is None:
                outcome = failure(
                    "UnknownTask",
                    f"this worker does not serve the task key {run.assignment.task_key!r}",
                    retryable=False,
                )
            else:
                outcome = execute(
                    run.task,
                    run.assignment.parameters,
                    run.context,
                    run.interruptible,
                    lambda level, message: self._send_log(run, level, message),
                )
        except BaseException as exc:  # noqa: BLE001 - a run left unreported holds its slot for good
            # execute() turns errors into outcomes; this catches what escapes it anyway (a
            # TaskRunCancelled delivered between two of its statements, a bug of ours).
            outcome = failure_from(exc, "the worker could not run the task")
        self._report(run, outcome)

    def _send_log(self, run: HeldRun, level: str, message: str) -> None:
        if run.finished:
            return
        run.session.send(log_message(run, level, message))

    def _report(self, run: HeldRun, outcome: Outcome) -> None:
        """Sends the attempt's Completed or Failed, once, unless the lease is gone."""
        with self._lock:
            if run.finished:
                return
            run.finished = True
            self._held.pop(run.assignment.run_id, None)
            if run.abort_outcome is not None:
                # Cancelled or timed out: whatever the task did after that, the run stopped.
                outcome = run.abort_outcome
            outcome = within_payload_limit(run, outcome)
            self._unacked[(run.assignment.run_id, run.assignment.lease_token)] = run
            self._lock.notify_all()
        run.session.send(outcome_message(run, outcome))

    # -- cancel, lost leases, acks -----------------------------------------------------

    def _abort(self, run: HeldRun, error_type: str, message: str, retryable: bool) -> None:
        """Stops a run and reports it failed once the task returns (or after a grace)."""
        with self._lock:
            if run.finished or run.abort_outcome is not None:
                return
            run.abort_outcome = failure(error_type, message, retryable=retryable)
        run.context.request_stop(message)
        run.interruptible.interrupt()
        timer = threading.Timer(ABORT_GRACE_S, self._report, args=(run, run.abort_outcome))
        timer.daemon = True
        timer.start()

    def _on_cancel(self, run_id: str, reason: str) -> None:
        with self._lock:
            run = self._held.get(run_id)
        if run is not None:
            log.info("run %s cancelled%s", run_id, f": {reason}" if reason else "")
            self._abort(run, "Cancelled", reason or "cancelled", False)

    def _lose(self, run: HeldRun, why: str) -> None:
        """The lease is gone: stop the task and send nothing more about this attempt."""
        with self._lock:
            if run.finished:
                return
            run.finished = True
            self._held.pop(run.assignment.run_id, None)
            self._lock.notify_all()
        run.context.request_stop(why)
        run.interruptible.interrupt()

    def _lose_all(self, session: Session) -> None:
        # The server re-queues a dead stream's runs at once; running them on here would
        # only duplicate the work another worker is about to do.
        with self._lock:
            lost = [r for r in self._held.values() if r.session is session]
            for key, run in list(self._unacked.items()):
                if run.session is session:
                    del self._unacked[key]
            self._lock.notify_all()
        for run in lost:
            self._lose(run, "the connection to the server was lost")

    def _on_acks(self, acks: Iterable[pb.Ack]) -> None:
        for ack in acks:
            if ack.kind in (pb.ACK_KIND_COMPLETED, pb.ACK_KIND_FAILED, pb.ACK_KIND_RELEASED):
                with self._lock:
                    self._unacked.pop((ack.run_id, ack.lease_token), None)
                    self._lock.notify_all()
                if not ack.accepted:
                    log.warning("the server refused the result of run %s: %s", ack.run_id, ack.reason)
            elif not ack.accepted and ack.kind in (pb.ACK_KIND_STARTED, pb.ACK_KIND_HEARTBEAT):
                with self._lock:
                    run = self._held.get(ack.run_id)
                if run is not None and run.assignment.lease_token == ack.lease_token:
                    log.warning("lost the lease of run %s: %s", ack.run_id, ack.reason)
                    self._lose(run, f"lease lost: {ack.reason}")

    def _leases(self, session: Session) -> list[pb.LeaseRef]:
        with self._lock:
            return [r.lease for r in self._held.values() if r.session is session]

    # -- draining ----------------------------------------------------------------------

    def _on_server_drain(self, session: Session, grace_ms: int) -> None:
        # Leave a second of the server's grace for our Released and its Acks.
        grace = self.shutdown_grace_seconds
        if grace_ms:
            grace = min(grace, max(0.0, grace_ms / 1000 - 1.0))
        log.info("the server is draining; finishing in-flight runs (up to %.1f s)", grace)
        threading.Thread(
            target=self._drain, args=(session, grace), name="taskwire-drain", daemon=True
        ).start()

    def _drain(self, session: Session, grace: float) -> None:
        """Lets the session's runs finish within ``grace``, releases the rest, closes."""
        session.draining = True
        deadline = time.monotonic() + grace
        with self._lock:
            self._lock.wait_for(
                lambda: not any(r.session is session for r in self._held.values()),
                timeout=max(0.0, deadline - time.monotonic()),
            )
            rest = [r for r in self._held.values() if r.session is session]
            for run in rest:
                run.finished = True
                del self._held[run.assignment.run_id]
                self._unacked[(run.assignment.run_id, run.assignment.lease_token)] = run
        if rest:
            log.info("releasing %d unfinished run(s) back to the queue", len(rest))
            session.send(pb.SubscribeTaskRunsRequest(released=pb.Released(runs=[r.lease for r in rest])))
            for run in rest:
                run.context.request_stop("the worker is shutting down")
                run.interruptible.interrupt()
        with self._lock:
            self._lock.wait_for(
                lambda: not any(r.session is session for r in self._unacked.values()),
                timeout=ACK_WAIT_S,
            )
        session.close()
