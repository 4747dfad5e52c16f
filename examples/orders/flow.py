"""The order workflow, as code: validate, approve big orders, wait out a cooling-off period,
charge (with exponential retries)."""

from __future__ import annotations

from legato.client import dsl
from orders.workers import approve_order, charge_payment, validate_order

validate = dsl.task(
    validate_order,
    input={
        "order_id": dsl.input("orderId"),
        "customer": dsl.input("customer"),
        "amount": dsl.input("amount"),
    },
)
approve = dsl.task(
    approve_order, input={"customer": dsl.input("customer"), "amount": validate.output("amount")}
)

order_flow = (
    dsl.workflow("orders", version=1, owner_email="shop@example.com")
    .then(validate)
    .then(
        dsl.switch(
            "approval",
            value=validate.output("needsApproval"),
            cases={
                "true": [
                    approve,
                    dsl.switch(
                        "approved",
                        value=approve.output("approved"),
                        cases={
                            "false": [dsl.terminate("rejected", "FAILED", reason="not approved")]
                        },
                    ),
                ]
            },
        )
    )
    .then(dsl.wait("cooling_off", duration=dsl.input("coolingOff")))
    .then(
        charge := dsl.task(
            charge_payment,
            input={"order_id": validate.output("orderId"), "amount": validate.output("amount")},
        )
    )
    .output(chargeId=charge.output("chargeId"), amount=charge.output("amount"))
)
