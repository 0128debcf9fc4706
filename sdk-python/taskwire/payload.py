"""JSON payloads: run parameters as ``{"args": [...], "kwargs": {...}}``, results as values.

Only values every language reads the same way are accepted: None, bool, int, finite
float, str, lists (tuples become lists) and dicts with str keys. Anything else is refused
at ``delay()`` with the argument's name, rather than lost or mangled at the worker.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from taskwire.v1 import task_run_pb2

JSON_CONTENT_TYPE = "application/json"

# The integers a JavaScript number (a double) holds exactly: a TypeScript caller or task
# would silently round 2**53 + 1 to 2**53, so larger ones are refused, not sent.
MAX_SAFE_INTEGER = 2**53 - 1


def check_json_value(value: Any, where: str) -> None:
    """Raises TypeError naming ``where`` (and the path inside it) if JSON cannot carry value."""
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise TypeError(
                f"{where} is {value}, beyond ±(2**53 - 1), the integers every language reads "
                "exactly (a TypeScript number would round it); pass it as a str"
            )
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{where} is {value!r}, which JSON cannot carry")
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            check_json_value(item, f"{where}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(
                    f"{where} has the key {key!r} of type {type(key).__name__}; "
                    "JSON object keys must be str"
                )
            check_json_value(item, f"{where}[{key!r}]")
        return
    raise TypeError(
        f"{where} is of type {type(value).__name__}, which JSON cannot carry; "
        "pass str, int, float, bool, None, list or dict values"
    )


def encode_json(value: Any) -> task_run_pb2.Payload:
    """Encodes a checked JSON value as a Payload."""
    data = json.dumps(value, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    return task_run_pb2.Payload(content_type=JSON_CONTENT_TYPE, data=data.encode("utf-8"))


def encode_parameters(
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    arg_names: Sequence[str] = (),
    task_key: str = "",
) -> task_run_pb2.Payload:
    """Encodes call arguments as ``{"args": [...], "kwargs": {...}}``.

    Args:
        args: Positional arguments.
        kwargs: Keyword arguments.
        arg_names: Names of the positional parameters, used in error messages.
        task_key: The task's key, used in error messages.

    Raises:
        TypeError: a value JSON cannot carry; the message names the argument.
    """
    owner = f" of task {task_key!r}" if task_key else ""
    for index, value in enumerate(args):
        name = arg_names[index] if index < len(arg_names) else f"#{index}"
        check_json_value(value, f"argument {name!r}{owner}")
    for name, value in kwargs.items():
        check_json_value(value, f"argument {name!r}{owner}")
    return encode_json({"args": list(args), "kwargs": dict(kwargs)})


def decode_json(payload: task_run_pb2.Payload, what: str) -> Any:
    """Decodes a JSON Payload (an empty content type counts as JSON).

    Raises:
        ValueError: another content type, or bytes that are not JSON.
    """
    content_type = payload.content_type or JSON_CONTENT_TYPE
    if content_type.split(";")[0].strip() != JSON_CONTENT_TYPE:
        raise ValueError(f"{what} has content type {content_type!r}; this SDK reads JSON only")
    if not payload.data:
        return None
    try:
        return json.loads(payload.data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{what} is not valid JSON: {exc}") from exc


def decode_parameters(payload: task_run_pb2.Payload) -> tuple[list[Any], dict[str, Any]]:
    """Decodes ``{"args": [...], "kwargs": {...}}``; both keys are optional.

    Raises:
        ValueError: not JSON, or not an object of that shape.
    """
    value = decode_json(payload, "the run's parameters")
    if value is None:
        return [], {}
    if not isinstance(value, dict):
        raise ValueError('the run\'s parameters must be a JSON object {"args": [...], "kwargs": {...}}')
    args = value.get("args", [])
    kwargs = value.get("kwargs", {})
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise ValueError('the run\'s parameters must be {"args": [...], "kwargs": {...}}')
    return args, kwargs
