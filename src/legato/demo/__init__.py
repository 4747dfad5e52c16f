"""The demo: an order-fulfillment workflow, its task definitions and a worker that runs them.

`python -m legato.demo.run` (what `make run` does) starts a server, registers the definitions,
runs the worker and one workflow. `python -m legato.demo.worker` runs only the worker.
"""

from __future__ import annotations

from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent
WORKFLOW_NAME = "order_fulfillment"

__all__ = ["DEMO_DIR", "WORKFLOW_NAME"]
