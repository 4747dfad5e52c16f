"""The examples keep working: `examples/orders` and its pytest tests, run from here."""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from legato.testing import SyncWorkflowEnvironment

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    yield importlib.import_module("orders.test_orders")
    for name in [n for n in sys.modules if n == "orders" or n.startswith("orders.")]:
        del sys.modules[name]


def test_the_example_runs_an_hour_wait_and_retries_in_under_a_second(example: ModuleType) -> None:
    with SyncWorkflowEnvironment(example.workers) as env:
        env.register(example.order_flow)
        started = time.monotonic()
        example.test_an_order_waits_an_hour_and_is_charged_after_a_retry(env)
        assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    "name",
    [
        "test_a_big_order_is_approved_by_the_rule",
        "test_a_blocked_customer_is_rejected_before_any_charge",
        "test_an_invalid_order_fails_at_once",
    ],
)
def test_the_other_example_tests(example: ModuleType, name: str) -> None:
    with SyncWorkflowEnvironment(example.workers) as env:
        env.register(example.order_flow)
        getattr(example, name)(env)


def test_the_example_with_a_mock(example: ModuleType) -> None:
    example.test_a_provider_that_stays_down_exhausts_the_retries()
