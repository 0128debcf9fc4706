"""The Python SDK's worker for the conformance suite.

    npm run conformance -- --worker "sdk-python/.venv/bin/python conformance/workers/python_worker.py"

A plain SDK worker: what it passes, every SDK user's worker does.
"""

import os

from taskwire import current_run, serve, task


@task(name="conformance_echo")
def conformance_echo(value):
    return value


@task(name="conformance_sleep")
def conformance_sleep(seconds):
    # wait_cancelled() wakes at once on Cancel, where time.sleep() would hold the slot.
    current_run().wait_cancelled(seconds)
    return "done"


if __name__ == "__main__":
    serve(conformance_echo, conformance_sleep, limit=int(os.environ.get("TASKWIRE_WORKER_LIMIT", "10")))
