"""Task keys, calling now, and the TaskRunSpec that delay() would send."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time

import pytest

from taskwire import Task, task


@task
def plain(x: int) -> int:
    return x * 2


@task(name="emails.send", retries=2, retry_delay_seconds=[1, 10], timeout_seconds=30, tags=["mail"])
def send_email(to: str, subject: str = "Welcome") -> str:
    return f"{to}: {subject}"


def test_task_key_is_the_function_name_by_default() -> None:
    assert plain.task_key == "plain"
    assert isinstance(plain, Task)


def test_task_key_is_the_given_name() -> None:
    assert send_email.task_key == "emails.send"


def test_task_key_does_not_depend_on_the_code() -> None:
    def build(body_constant: int) -> Task:
        def compute() -> int:
            return body_constant

        return task(compute)

    assert build(1).task_key == build(2).task_key == "compute"


def test_calling_a_task_runs_it_now() -> None:
    assert plain(21) == 42
    assert send_email("ford@example.com", subject="Hi") == "ford@example.com: Hi"


def test_task_keeps_the_function_metadata() -> None:
    assert send_email.__name__ == "send_email"
    assert send_email.__wrapped__ is send_email.fn


def test_spec_carries_args_kwargs_and_task_options() -> None:
    spec = send_email.build_spec(("ford@example.com",), {"subject": "Hi"})
    assert spec.task_key == "emails.send"
    assert spec.parameters.content_type == "application/json"
    assert json.loads(spec.parameters.data) == {"args": ["ford@example.com"], "kwargs": {"subject": "Hi"}}
    assert spec.options.retries == 2
    assert list(spec.options.retry_delay_seconds) == [1.0, 10.0]
    assert spec.options.timeout_seconds == 30
    assert list(spec.options.tags) == ["mail"]
    assert not spec.options.HasField("scheduled_time")


def test_per_run_options_override_and_add_tags() -> None:
    spec = send_email.build_spec(
        ("a@b.c",), {}, retries=5, priority=7, idempotency_key="k1", tags=["urgent", "mail"]
    )
    assert spec.options.retries == 5
    assert spec.options.priority == 7
    assert spec.options.idempotency_key == "k1"
    assert list(spec.options.tags) == ["mail", "urgent"]


def test_delay_seconds_sets_the_scheduled_time() -> None:
    before = time.time()
    spec = plain.build_spec((1,), {}, delay_seconds=60)
    scheduled = spec.options.scheduled_time.ToNanoseconds() / 1e9
    assert before + 59 < scheduled < time.time() + 61


def test_scheduled_time_takes_an_aware_datetime() -> None:
    when = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    spec = plain.build_spec((1,), {}, scheduled_time=when)
    assert spec.options.scheduled_time.ToDatetime(tzinfo=dt.timezone.utc) == when


def test_scheduled_time_and_delay_seconds_together_are_refused() -> None:
    with pytest.raises(TypeError, match="not both"):
        plain.build_spec((1,), {}, delay_seconds=1, scheduled_time=dt.datetime.now())


def test_unknown_option_is_refused() -> None:
    with pytest.raises(TypeError, match="countdown"):
        plain.build_spec((1,), {}, countdown=5)


def test_arguments_that_do_not_fit_the_signature_are_refused() -> None:
    with pytest.raises(TypeError, match="plain"):
        plain.build_spec((1, 2), {})
    with pytest.raises(TypeError, match="plain"):
        plain.build_spec((), {"y": 1})


def test_unserializable_positional_argument_is_named() -> None:
    with pytest.raises(TypeError, match="argument 'to'.*set"):
        send_email.build_spec(({"a@b.c"},), {})


def test_unserializable_keyword_argument_is_named() -> None:
    with pytest.raises(TypeError, match="argument 'subject'.*datetime"):
        send_email.build_spec(("a@b.c",), {"subject": dt.datetime.now()})


def test_an_async_task_called_directly_returns_a_coroutine_of_its_value() -> None:
    async def double(n: int) -> int:
        return n * 2

    t = task(double)
    assert t.is_async
    assert asyncio.run(t(21)) == 42


def test_integers_beyond_2_53_are_refused_naming_the_argument() -> None:
    @task
    def count(n: int) -> int:
        return n

    count.build_spec((2**53 - 1,), {})
    with pytest.raises(TypeError, match=r"argument 'n' of task 'count' is 9007199254740993, beyond"):
        count.build_spec((2**53 + 1,), {})
    with pytest.raises(TypeError, match=r"argument 'n' of task 'count' is -9007199254740992, beyond"):
        count.build_spec((), {"n": -(2**53)})
