"""From a polled task to a TaskResult: typed inputs, outputs, failures, logs."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from datetime import timedelta
from typing import Any

import pydantic
import pytest
from sdk_factories import task_json

from legato.worker import InProgress, TaskContext, TaskError, execute, worker_task
from legato.worker.binding import output_of


async def run(fn: Any, input: dict[str, Any] | None = None, **task: Any) -> dict[str, Any]:
    t = task_json(fn.name, inputData=input or {}, **task)
    return await execute(fn, t, TaskContext(t, "w1"))


class Order(pydantic.BaseModel):
    id: str
    amount: float = pydantic.Field(gt=0)
    items: list[str] = []


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


@worker_task("pyd")
def takes_model(order: Order) -> Order:
    return order


@worker_task("dc")
async def takes_dataclass(point: Point) -> Point:
    return Point(point.x + 1, point.y)


@worker_task("named")
def by_name(name: str, times: int = 2, anything=None) -> str:  # type: ignore[no-untyped-def]
    return name * times


async def test_a_pydantic_model_gets_the_whole_input() -> None:
    result = await run(takes_model, {"id": "A", "amount": "2.5", "ignored": 1})
    assert result["status"] == "COMPLETED"
    assert result["outputData"] == {"id": "A", "amount": 2.5, "items": []}
    assert result["workerId"] == "w1"


async def test_a_dataclass_gets_the_whole_input() -> None:
    result = await run(takes_dataclass, {"x": 1})
    assert result["outputData"] == {"x": 2, "y": 0}


async def test_parameters_by_name_with_defaults() -> None:
    assert (await run(by_name, {"name": "ab"}))["outputData"] == {"result": "abab"}
    assert (await run(by_name, {"name": "a", "times": "3"}))["outputData"] == {"result": "aaa"}


@pytest.mark.parametrize(
    ("fn", "input", "reason"),
    [
        (takes_model, {"id": "A", "amount": -1}, "amount: Input should be greater than 0 (got -1)"),
        (takes_model, {"amount": 1}, "id: Field required"),
        (takes_dataclass, {"x": "not a number"}, "x: Input should be a valid integer"),
        (by_name, {"times": 1}, "name: Field required"),
    ],
)
async def test_invalid_input_fails_the_task_without_retry(
    fn: Any, input: dict[str, Any], reason: str
) -> None:
    result = await run(fn, input)
    assert result["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert result["reasonForIncompletion"].startswith(f"Invalid input for task {fn.name}: ")
    assert reason in result["reasonForIncompletion"]


async def test_task_error_retryable_with_its_own_delay() -> None:
    @worker_task("flaky")
    def flaky() -> None:
        raise TaskError("try later", retry_after=timedelta(minutes=2), output={"partial": 1})

    result = await run(flaky)
    assert result["status"] == "FAILED"
    assert result["reasonForIncompletion"] == "try later"
    assert result["retryAfterSeconds"] == 120
    assert result["outputData"] == {"partial": 1}


async def test_task_error_non_retryable() -> None:
    @worker_task("fatal")
    async def fatal() -> None:
        raise TaskError("card stolen", non_retryable=True, retry_after=5)

    result = await run(fatal)
    assert result["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert "retryAfterSeconds" not in result


async def test_an_unexpected_exception_fails_with_its_traceback_in_the_log() -> None:
    @worker_task("buggy")
    def buggy() -> None:
        {}["missing"]

    result = await run(buggy)
    assert result["status"] == "FAILED"
    assert result["reasonForIncompletion"] == "KeyError: 'missing'"
    assert "Traceback" in result["logs"][-1]["log"]


async def test_in_progress_asks_to_be_called_back() -> None:
    @worker_task("later")
    def later() -> InProgress:
        return InProgress(timedelta(seconds=30), output={"step": 1})

    result = await run(later)
    assert result["status"] == "IN_PROGRESS"
    assert result["callbackAfterSeconds"] == 30
    assert "extendLease" not in result
    assert result["outputData"] == {"step": 1}


async def test_context_logs_and_task_details() -> None:
    seen: dict[str, Any] = {}

    @worker_task("ctx")
    def with_context(x: int, ctx: TaskContext) -> None:
        ctx.log(f"got {x}")
        seen.update(
            task_id=ctx.task_id, retry=ctx.retry_count, thread=threading.current_thread().name
        )
        seen["ref"] = ctx.task.reference_task_name

    result = await run(with_context, {"x": 1}, retryCount=2)
    assert [entry["log"] for entry in result["logs"]] == ["got 1"]
    assert result["logs"][0]["createdTime"] > 0
    assert seen["retry"] == 2 and seen["ref"] == "ctx"
    assert seen["thread"] != threading.main_thread().name  # sync functions run in a thread


async def test_async_functions_run_on_the_loop() -> None:
    loops = []

    @worker_task("on_loop")
    async def on_loop() -> dict[str, int]:
        loops.append(asyncio.get_running_loop())
        return {"a": 1}

    assert (await run(on_loop))["outputData"] == {"a": 1}
    assert loops == [asyncio.get_running_loop()]


def test_worker_tasks_stay_plain_functions() -> None:
    assert by_name("x", 3) == "xxx"
    assert takes_model.__name__ == "takes_model"
    assert by_name.is_async is False and takes_dataclass.is_async is True
    assert "named" in repr(by_name)


def test_worker_task_rejects_var_args_and_bad_options() -> None:
    with pytest.raises(TypeError, match="cannot take"):

        @worker_task("bad")
        def bad(*args: Any) -> None: ...

    with pytest.raises(ValueError, match="concurrency"):
        worker_task("bad", concurrency=0)(lambda: None)


@pytest.mark.parametrize(
    ("value", "output"),
    [
        (None, {}),
        ({"a": 1}, {"a": 1}),
        (Point(1, 2), {"x": 1, "y": 2}),
        (Order(id="A", amount=1), {"id": "A", "amount": 1.0, "items": []}),
        ([1, 2], {"result": [1, 2]}),
        ("text", {"result": "text"}),
    ],
)
def test_output_of(value: Any, output: dict[str, Any]) -> None:
    assert output_of(value) == output


def test_heartbeat_interval() -> None:
    assert by_name.heartbeat_interval(30) == 10
    assert by_name.heartbeat_interval(0) is None
    assert by_name.heartbeat_interval(0.3) == 0.2  # type: ignore[arg-type]
    assert worker_task("h", heartbeat=2.5)(lambda: None).heartbeat_interval(30) == 2.5
    assert worker_task("h", heartbeat=False)(lambda: None).heartbeat_interval(30) is None
