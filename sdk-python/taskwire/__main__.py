"""``python -m taskwire task serve module:task [module:task ...] [--limit N]``.

Like ``prefect task serve``: an entrypoint is ``module.path:name`` or
``path/to/file.py:name``; ``name`` is a ``@task`` or a plain function (served under
its ``__name__``). Installed as the ``taskwire-py`` command too, and ``taskwire task
serve file.py:name`` (the Node CLI) hands Python entrypoints to it. The shorter
``python -m taskwire serve ...`` still works.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from taskwire.errors import TaskwireError
from taskwire.serve import serve
from taskwire.task import Task


def load_entrypoint(entrypoint: str) -> Task[..., object]:
    """Imports ``module:name`` or ``file.py:name`` and returns it as a Task.

    Raises:
        ValueError: the entrypoint is malformed, or names something not callable.
        ImportError: the module cannot be imported.
    """
    target, sep, name = entrypoint.rpartition(":")
    if not sep or not target or not name:
        raise ValueError(f"expected module:task or file.py:task, got {entrypoint!r}")
    if target.endswith(".py") or os.sep in target:
        path = Path(target).resolve()
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    obj: Any = module
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise ValueError(f"{target} has no attribute {name!r}")
    if isinstance(obj, Task):
        return obj
    if callable(obj):
        return Task(obj)
    raise ValueError(f"{entrypoint} is not a task or a function")


def _add_serve_arguments(serve_parser: argparse.ArgumentParser) -> None:
    serve_parser.add_argument("entrypoints", nargs="+", metavar="module:task")
    serve_parser.add_argument("--limit", type=int, default=10, help="runs in flight at most (10)")
    serve_parser.add_argument(
        "--grace", type=float, default=10.0, help="seconds in-flight runs get on shutdown (10)"
    )


def main(argv: Sequence[str] | None = None, prog: str = "python -m taskwire") -> int:
    parser = argparse.ArgumentParser(prog=prog, description="taskwire for Python")
    commands = parser.add_subparsers(dest="command", required=True)
    task_parser = commands.add_parser("task", help="work with tasks")
    task_commands = task_parser.add_subparsers(dest="task_command", required=True)
    _add_serve_arguments(task_commands.add_parser("serve", help="run a task worker for the given tasks"))
    _add_serve_arguments(commands.add_parser("serve", help="the same as `task serve`"))
    args = parser.parse_args(argv)

    # Import modules relative to where the worker was started, as `prefect task serve` does.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        tasks = [load_entrypoint(e) for e in args.entrypoints]
    except (ValueError, ImportError) as exc:
        parser.error(str(exc))
    try:
        serve(*tasks, limit=args.limit, shutdown_grace_seconds=args.grace)
    except (TaskwireError, ValueError) as exc:
        print(f"taskwire: {exc}", file=sys.stderr)
        return 1
    return 0


def console_main() -> int:
    """The ``taskwire-py`` command."""
    return main(prog="taskwire-py")


if __name__ == "__main__":
    sys.exit(main())
