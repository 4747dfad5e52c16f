"""Register the order workflow and run one order: `python -m orders.start` (from `examples`),
with a server (`legato server`) and the workers (`legato worker orders.workers`) running."""

from __future__ import annotations

import argparse
import json

from legato.client import Client
from orders.flow import order_flow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", help="default: $LEGATO_SERVER, else http://127.0.0.1:8080")
    parser.add_argument("--amount", type=float, default=1250.0)
    parser.add_argument("--cooling-off", default="3 seconds")
    args = parser.parse_args()
    with Client(args.server) as client:
        client.register(order_flow)  # the charge task's retries, then the workflow
        order = {"orderId": "A-1001", "customer": "ada", "amount": args.amount}
        workflow_id = client.start_workflow(order_flow, {**order, "coolingOff": args.cooling_off})
        print(f"started {workflow_id}")
        wf = client.wait_for_workflow(workflow_id, timeout=120)
        print(f"{wf.status}: {json.dumps(wf.output)}")
        for task in wf.tasks:
            print(
                f"  {task.reference_task_name:<16} {task.status:<12} attempt {task.retry_count + 1}"
            )


if __name__ == "__main__":
    main()
