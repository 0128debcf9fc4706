"""JSON parameters {"args": [...], "kwargs": {...}} and the values JSON cannot carry."""

from __future__ import annotations

import json
import math

import pytest

from taskwire.payload import decode_json, decode_parameters, encode_json, encode_parameters
from taskwire.v1 import task_run_pb2


def test_parameters_are_an_args_kwargs_object() -> None:
    payload = encode_parameters([1, "two", None], {"flag": True, "nested": {"a": [1.5]}})
    assert payload.content_type == "application/json"
    assert json.loads(payload.data) == {
        "args": [1, "two", None],
        "kwargs": {"flag": True, "nested": {"a": [1.5]}},
    }


def test_empty_call_still_has_both_keys() -> None:
    assert json.loads(encode_parameters([], {}).data) == {"args": [], "kwargs": {}}


def test_tuples_travel_as_lists() -> None:
    args, kwargs = decode_parameters(encode_parameters([(1, 2)], {}))
    assert args == [[1, 2]]
    assert kwargs == {}


def test_non_ascii_text_survives() -> None:
    args, _ = decode_parameters(encode_parameters(["Zaphod ✓ Ωmega"], {}))
    assert args == ["Zaphod ✓ Ωmega"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (object(), "type object"),
        ({1, 2}, "type set"),
        (b"bytes", "type bytes"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        ({1: "int key"}, "key 1"),
    ],
)
def test_values_json_cannot_carry_are_refused_with_the_name(value: object, message: str) -> None:
    with pytest.raises(TypeError, match=message) as raised:
        encode_parameters([], {"payload": value}, task_key="t")
    assert "argument 'payload' of task 't'" in str(raised.value)


def test_the_path_inside_a_nested_value_is_named() -> None:
    with pytest.raises(TypeError, match=r"argument 'rows'\[1\]\['when'\]"):
        encode_parameters([[{"ok": 1}, {"when": object()}]], {}, arg_names=["rows"])


def test_positional_argument_without_a_name_gets_its_index() -> None:
    with pytest.raises(TypeError, match="argument '#0'"):
        encode_parameters([object()], {})


def test_decode_rejects_other_content_types() -> None:
    payload = task_run_pb2.Payload(content_type="application/x-pickle", data=b"...")
    with pytest.raises(ValueError, match="JSON only"):
        decode_parameters(payload)


def test_decode_accepts_missing_keys_and_empty_content_type() -> None:
    assert decode_parameters(task_run_pb2.Payload(data=b'{"args": [1]}')) == ([1], {})
    assert decode_parameters(task_run_pb2.Payload()) == ([], {})


def test_decode_rejects_the_wrong_shape() -> None:
    with pytest.raises(ValueError, match="args"):
        decode_parameters(task_run_pb2.Payload(content_type="application/json", data=b"[1, 2]"))
    with pytest.raises(ValueError, match="args"):
        decode_parameters(
            task_run_pb2.Payload(content_type="application/json", data=b'{"args": {"a": 1}}')
        )


def test_results_round_trip() -> None:
    value = {"ok": True, "n": [1, 2.5, None]}
    assert decode_json(encode_json(value), "result") == value
