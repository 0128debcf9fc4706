"""Python tasks for the cross-language tests (examples/test/cross-language.test.ts).

A TypeScript caller schedules them by task key, and a Python worker serves them:

    python -m taskwire serve examples/polyglot/tasks.py:word_frequencies --limit 2
"""

from __future__ import annotations

import time
from collections import Counter

from taskwire import task


@task
def word_frequencies(text: str) -> dict[str, int]:
    """How often each word occurs, lower-cased: a JSON object result for a TS caller."""
    return dict(Counter(text.lower().split()))


@task
def validate_address(address: str) -> str:
    """Fails the way real code does: a plain ValueError, seen by the caller as data."""
    if "@" not in address:
        raise ValueError("bad address")
    return address


@task
def resize_image(name: str) -> str:
    """The slow Python version of a task a TypeScript worker serves too (tasks.ts).

    The test kills this worker with SIGKILL while it sleeps here, so it never returns;
    the run is redelivered to the TypeScript worker, which answers at once.
    """
    time.sleep(60)
    return f"{name} resized by Python"


@task
def format_name(first: str, last: str = "", upper: bool = False) -> str:
    """Called from TypeScript with keyword arguments: ``applyAsync(["ford"], { kwargs: {...} })``."""
    name = f"{first} {last}".strip()
    return name.upper() if upper else name
