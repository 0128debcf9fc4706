"""The calls of ``Task.map()``: which arguments are mapped, and ``unmapped``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class unmapped(Generic[T]):  # noqa: N801 - Prefect's name
    """Passes an iterable to every run of ``Task.map()`` instead of mapping over it.

    Example::

        add.map([1, 2, 3], unmapped([10, 20]))
    """

    def __init__(self, value: T) -> None:
        self.value = value


def _is_mapped(value: Any) -> bool:
    if isinstance(value, unmapped):
        return False
    # A str, bytes or dict is one value to a task, not a sequence of runs.
    return isinstance(value, (list, tuple, set, frozenset, range, Iterator))


def map_arguments(
    task_key: str, args: Sequence[Any], kwargs: dict[str, Any]
) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """One (args, kwargs) per run: the mapped arguments zipped, the others repeated.

    Raises:
        ValueError: no mapped argument, or mapped arguments of different lengths.
    """
    mapped_args = {i: list(v) for i, v in enumerate(args) if _is_mapped(v)}
    mapped_kwargs = {k: list(v) for k, v in kwargs.items() if _is_mapped(v)}
    lengths = {len(v) for v in [*mapped_args.values(), *mapped_kwargs.values()]}
    if not lengths:
        raise ValueError(f"task {task_key!r}: map() needs at least one list, tuple, set, range or iterator argument")
    if len(lengths) > 1:
        raise ValueError(f"task {task_key!r}: map() got iterables of different lengths {sorted(lengths)}")
    count = lengths.pop()

    def plain(value: Any) -> Any:
        return value.value if isinstance(value, unmapped) else value

    return [
        (
            tuple(mapped_args[i][n] if i in mapped_args else plain(v) for i, v in enumerate(args)),
            {k: mapped_kwargs[k][n] if k in mapped_kwargs else plain(v) for k, v in kwargs.items()},
        )
        for n in range(count)
    ]
