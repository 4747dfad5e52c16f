"""The workers of the order workflow: plain functions, declared with `@worker_task`.

Run them against a server with `legato worker orders.workers` (from the `examples` folder).
"""

from __future__ import annotations

import pydantic

from legato.client import TaskDef
from legato.worker import TaskContext, TaskError, worker_task

BLOCKED_CUSTOMERS = frozenset({"mallory"})


class Order(pydantic.BaseModel):
    order_id: str
    customer: str
    amount: float = pydantic.Field(gt=0, description="in euros")


@worker_task("orders_validate")
def validate_order(order: Order) -> dict[str, object]:
    """Typed input: a malformed order fails the task (and the workflow) with a clear reason."""
    return {
        "orderId": order.order_id,
        "amount": order.amount,
        "needsApproval": order.amount >= 1000,
    }


@worker_task("orders_approve")
def approve_order(customer: str, amount: float) -> dict[str, object]:
    """The approval of big orders, with no human in the loop: a rule decides."""
    if customer in BLOCKED_CUSTOMERS:
        return {"approved": False, "why": f"{customer} is blocked"}
    return {"approved": amount < 50_000, "why": "within limits" if amount < 50_000 else "too big"}


@worker_task(
    "orders_charge",
    concurrency=20,
    task_def=TaskDef(
        retry_count=4,
        retry_logic="EXPONENTIAL_BACKOFF",  # 2 s, 4 s, 8 s, 16 s between attempts
        retry_delay_seconds=2,
        response_timeout_seconds=30,
    ),
)
async def charge_payment(order_id: str, amount: float, ctx: TaskContext) -> dict[str, object]:
    """An async worker calling a payment provider that fails now and then."""
    ctx.log(f"charging {amount:.2f} EUR for {order_id}, attempt {ctx.retry_count + 1}")
    if amount > 100_000:
        raise TaskError("amount above the provider's limit", non_retryable=True)
    if ctx.retry_count == 0:  # the demo provider always times out the first time
        raise TaskError("payment provider timed out")
    return {"chargeId": f"ch-{order_id}-{ctx.retry_count}", "amount": amount}


workers = [validate_order, approve_order, charge_payment]
