"""One attempt a worker holds under a lease, and the stream messages that report on it."""

from __future__ import annotations

from dataclasses import dataclass, field

from google.protobuf import timestamp_pb2

from taskwire.context import RunContext
from taskwire.execution import Interruptible, Outcome, failure
from taskwire.session import Session
from taskwire.task import Task
from taskwire.v1 import worker_service_pb2 as pb


@dataclass(eq=False)
class HeldRun:
    """One attempt this worker holds under a lease."""

    assignment: pb.Assignment
    task: Task[..., object] | None
    session: Session
    context: RunContext
    interruptible: Interruptible = field(default_factory=Interruptible)
    # Set once Completed/Failed/Released was sent, or the lease was lost: later outcomes drop.
    finished: bool = False
    abort_outcome: Outcome | None = None

    @property
    def lease(self) -> pb.LeaseRef:
        return pb.LeaseRef(run_id=self.assignment.run_id, lease_token=self.assignment.lease_token)


def _now() -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.GetCurrentTime()
    return ts


def outcome_message(run: HeldRun, outcome: Outcome) -> pb.SubscribeTaskRunsRequest:
    """The attempt's Completed, or its Failed when the outcome carries an error."""
    ref = run.lease
    if outcome.error is not None:
        return pb.SubscribeTaskRunsRequest(
            failed=pb.Failed(
                failures=[pb.RunFailure(run_id=ref.run_id, lease_token=ref.lease_token, error=outcome.error)]
            )
        )
    return pb.SubscribeTaskRunsRequest(
        completed=pb.Completed(
            results=[pb.RunResult(run_id=ref.run_id, lease_token=ref.lease_token, result=outcome.result)]
        )
    )


def log_message(run: HeldRun, level: str, message: str) -> pb.SubscribeTaskRunsRequest:
    """One log line of the attempt, stamped now."""
    line = pb.WorkerLogLine(
        run_id=run.assignment.run_id,
        lease_token=run.assignment.lease_token,
        time=_now(),
        level=level,
        message=message,
    )
    return pb.SubscribeTaskRunsRequest(logs=pb.Logs(lines=[line]))


def within_payload_limit(run: HeldRun, outcome: Outcome) -> Outcome:
    """A result over the server's payload limit becomes a PayloadTooLarge failure here,
    so that the worker says why instead of the server refusing the whole message."""
    welcome = run.session.welcome
    limit = welcome.max_payload_bytes if welcome else 0
    if outcome.result is not None and limit and len(outcome.result.data) > limit:
        return failure(
            "PayloadTooLarge",
            f"the result is {len(outcome.result.data)} bytes; the server accepts at most {limit}",
            retryable=False,
        )
    return outcome
