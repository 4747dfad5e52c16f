"""The order workflow, tested in pytest: the real engine in process, a fake clock.

The cooling-off WAIT lasts an hour and the charge is retried with exponential backoff, yet
each test takes a fraction of a second: run them with `pytest examples/orders`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from legato.testing import SyncWorkflowEnvironment
from legato.worker import TaskError
from orders.flow import order_flow
from orders.workers import workers

HOUR = 3600


def order(amount: float, customer: str = "ada") -> dict[str, object]:
    return {"orderId": "A-1", "customer": customer, "amount": amount, "coolingOff": "1 hour"}


@pytest.fixture
def env() -> Iterator[SyncWorkflowEnvironment]:
    with SyncWorkflowEnvironment(workers) as env:
        env.register(order_flow)
        yield env


def test_an_order_waits_an_hour_and_is_charged_after_a_retry(env: SyncWorkflowEnvironment) -> None:
    started = time.monotonic()
    start = env.clock.now_ms()
    wf = env.run_workflow(order_flow, order(250))
    assert time.monotonic() - started < 1.0  # one hour of waiting, and a retry, in no time

    assert wf.status == "COMPLETED"
    assert wf.output == {"chargeId": "ch-A-1-1", "amount": 250.0}
    assert wf.find_task("orders_approve") is None  # small orders need no approval
    charges = env.executions_of("orders_charge")
    assert [c.status for c in charges] == ["FAILED", "COMPLETED"]
    # charged after the hour, retried 2 s later (the TaskDef's exponential backoff)
    assert [(c.at_ms - start) / 1000 for c in charges] == [HOUR, HOUR + 2]


def test_a_big_order_is_approved_by_the_rule(env: SyncWorkflowEnvironment) -> None:
    wf = env.run_workflow(order_flow, order(5000))
    assert wf.status == "COMPLETED"
    assert wf.task("orders_approve").output_data["approved"] is True


def test_a_blocked_customer_is_rejected_before_any_charge(env: SyncWorkflowEnvironment) -> None:
    wf = env.run_workflow(order_flow, order(5000, customer="mallory"))
    assert wf.status == "FAILED"
    assert wf.reason_for_incompletion == "not approved"
    assert env.executions_of("orders_charge") == []


def test_an_invalid_order_fails_at_once(env: SyncWorkflowEnvironment) -> None:
    wf = env.run_workflow(order_flow, order(-5))
    assert wf.status == "FAILED"
    assert "amount: Input should be greater than 0" in (wf.reason_for_incompletion or "")


def test_a_provider_that_stays_down_exhausts_the_retries() -> None:
    down = TaskError("payment provider timed out")
    with SyncWorkflowEnvironment(workers, mocks={"orders_charge": down}) as env:
        env.register(order_flow)
        start = env.clock.now_ms()
        wf = env.run_workflow(order_flow, order(250))
        charges = env.executions_of("orders_charge")
    assert wf.status == "FAILED"
    # 1 attempt + 4 retries, 2 s, 4 s, 8 s and 16 s apart
    assert [(c.at_ms - start) / 1000 - HOUR for c in charges] == [0, 2, 6, 14, 30]
