"""`Store.workflow_analytics` on each backend with a fake clock, and the statistics built on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from ui_factories import simple, workflow_def

import pg_testdb
from legato.config import Settings
from legato.model import StartWorkflowRequest, TaskDef, TaskResult, WorkflowDef
from legato.service.clock import FakeClock
from legato.service.container import Services
from legato.store import store_for_url
from legato.store.base import StepTimes, WorkflowAnalytics
from legato.ui.analytics import build_view, percentile, slowest, step_stats

T0 = 1_700_000_000_000


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return pg_testdb.fresh_database(migrated=True)  # skips without a PostgreSQL server
    return f"sqlite:///{tmp_path / 'a.db'}"


@pytest.fixture
async def services(database_url: str) -> AsyncIterator[tuple[Services, FakeClock]]:
    clock = FakeClock(T0)
    settings = Settings(db=database_url)
    s = Services(store_for_url(settings.db), settings, clock)
    await s.open()
    try:
        await s.definitions.register_task_defs(
            [TaskDef(name=n, retry_count=1, retry_delay_seconds=0) for n in ("pick", "pack")]
        )
        definition = WorkflowDef.model_validate(
            workflow_def("ship", [simple("pick", "pick"), simple("pack", "pack")])
        )
        await s.definitions.register_workflow_def(definition, overwrite=False)
        yield s, clock
    finally:
        await s.close()


async def run_one(
    s: Services,
    clock: FakeClock,
    *,
    wait_s: float,
    pick_s: float,
    pack_s: float,
    fail_pack_once: bool = False,
) -> str:
    """An execution whose pick waits `wait_s` in queue and runs `pick_s`; pack runs `pack_s`."""
    wid = await s.workflows.start(StartWorkflowRequest(name="ship"))
    for task_type, run_s in (("pick", pick_s), ("pack", pack_s)):
        attempts = 2 if task_type == "pack" and fail_pack_once else 1
        for attempt in range(attempts):
            clock.advance(wait_s)
            (task,) = await s.tasks.poll(task_type, worker_id="w")
            clock.advance(run_s)
            failed = attempt + 1 < attempts
            await s.tasks.update(
                TaskResult(
                    workflow_instance_id=wid,
                    task_id=task.task_id,
                    status="FAILED" if failed else "COMPLETED",
                )
            )
    return wid


async def test_counts_samples_and_step_times(services: tuple[Services, FakeClock]) -> None:
    s, clock = services
    await run_one(s, clock, wait_s=1, pick_s=2, pack_s=10)
    await run_one(s, clock, wait_s=3, pick_s=4, pack_s=20, fail_pack_once=True)
    running = await s.workflows.start(StartWorkflowRequest(name="ship"))
    data = await s.store.workflow_analytics("ship", T0, clock.now_ms() + 1)
    assert data.status_counts == {"COMPLETED": 2, "RUNNING": 1}
    assert data.sampled == 3
    assert sorted(data.durations_ms) == [14_000, 53_000]  # waits included
    steps = {step.ref_name: step for step in data.steps}
    assert sorted(steps["pick"].queue_wait_ms) == [1000, 3000]
    assert sorted(steps["pick"].run_ms) == [2000, 4000]
    # pack: three attempts (one failed and retried), each waited and ran.
    assert sorted(steps["pack"].run_ms) == [10_000, 20_000, 20_000]
    assert sorted(steps["pack"].queue_wait_ms) == [1000, 3000, 3000]
    assert steps["pack"].task_type == "pack"
    # The running one's pick has been scheduled only: no wait, no run yet.
    assert running


async def test_the_period_and_the_sample_limit(services: tuple[Services, FakeClock]) -> None:
    s, clock = services
    await run_one(s, clock, wait_s=1, pick_s=1, pack_s=1)
    middle = clock.now_ms()
    clock.advance(60)
    await run_one(s, clock, wait_s=2, pick_s=2, pack_s=2)
    later = await s.store.workflow_analytics("ship", middle, clock.now_ms() + 1)
    assert later.status_counts == {"COMPLETED": 1} and later.durations_ms == [8000]
    earlier = await s.store.workflow_analytics("ship", T0, middle)
    assert earlier.status_counts == {"COMPLETED": 1} and earlier.durations_ms == [4000]
    newest = await s.store.workflow_analytics("ship", T0, clock.now_ms() + 1, sample=1)
    assert newest.status_counts == {"COMPLETED": 2}  # counts are exact
    assert newest.sampled == 1 and newest.durations_ms == [8000]  # timings: the newest one
    none = await s.store.workflow_analytics("nope", T0, clock.now_ms())
    assert none == WorkflowAnalytics({}, 0, [], [])


def test_percentiles_interpolate() -> None:
    assert percentile([], 50) == 0
    assert percentile([7], 95) == 7
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)


def test_the_slowest_step_is_the_longest_median_and_containers_do_not_count() -> None:
    quick = step_stats(StepTimes("quick", "SIMPLE", [10, 10, 10], [5, 5, 5]))
    slow_run = step_stats(StepTimes("slow", "SIMPLE", [10, 10, 10], [900, 1000, 1100]))
    queued = step_stats(StepTimes("queued", "SIMPLE", [700, 800, 900], [10, 10, 10]))
    join = step_stats(StepTimes("join", "JOIN", [], [5000, 5000]))
    assert slow_run.run_p50 == 1000 and slow_run.total_p50 == 1010
    picked = slowest([quick, queued, join, slow_run])
    assert picked is not None and picked.ref == "slow"
    view = build_view(
        WorkflowAnalytics(
            {"COMPLETED": 3},
            3,
            [100, 200, 300],
            [StepTimes("quick", "SIMPLE", [1], [1]), StepTimes("join", "JOIN", [], [9])],
        ),
        ["join", "quick"],
    )
    assert [st.ref for st in view["steps"]] == ["join", "quick"]  # definition order
    assert view["slowest"].ref == "quick"
    assert "step-quick" in view["step_chart"] and "step-join" not in view["step_chart"]
    assert view["duration_pcts"][0] == (50, 200)
