"""The poll loop of one task type: its slots, its thread pool, running and reporting tasks."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from legato.client.errors import (
    ApiError,
    PayloadTooLargeError,
    ServerError,
    TooManyRequestsError,
    TransportError,
)
from legato.worker.backoff import Backoff
from legato.worker.context import TaskContext
from legato.worker.execute import execute, hand_back, heartbeat_result
from legato.worker.task import WorkerTask

if TYPE_CHECKING:
    from legato.worker.runner import Worker

log = logging.getLogger("legato.worker")

RETRYABLE = (TransportError, ServerError, TooManyRequestsError)


class _Running:
    __slots__ = ("beating", "context", "handed_back", "job", "task", "timer")

    context: TaskContext

    def __init__(self, task: dict[str, Any]) -> None:
        self.task = task
        self.job: asyncio.Task[None] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.handed_back = False
        self.beating = False  # a heartbeat is in flight


class _Threads(ThreadPoolExecutor):
    """A thread pool that knows how many of its calls are running."""

    def __init__(self, size: int, thread_name_prefix: str) -> None:
        super().__init__(size, thread_name_prefix=thread_name_prefix)
        self.active = 0
        self._count_lock = threading.Lock()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        def counted() -> Any:
            with self._count_lock:
                self.active += 1
            try:
                return fn(*args, **kwargs)
            finally:
                with self._count_lock:
                    self.active -= 1

        return super().submit(counted)


class TaskTypeLoop:
    """The poll loop, slots and thread pool of one task type."""

    def __init__(self, worker: Worker, task: WorkerTask[..., Any]) -> None:
        self.worker = worker
        self.wt = task
        self.free = task.concurrency
        self.slot_freed = asyncio.Event()
        self.running: dict[str, _Running] = {}
        self.executor = (
            None
            if task.is_async
            else _Threads(task.concurrency, thread_name_prefix=f"legato-{task.name}")
        )
        self.backoff = Backoff(most=worker.max_backoff_seconds)
        self.down_since: float | None = None

    # ------------------------------------------------------------------ polling
    async def poll_loop(self) -> None:
        w = self.worker
        while not w.stopping:
            if self.free <= 0:
                self.slot_freed.clear()
                await self.slot_freed.wait()
                continue
            try:
                tasks = await w.transport.poll(
                    self.wt.name,
                    worker_id=w.worker_id,
                    domain=self.wt.domain,
                    count=self.free,
                    timeout_ms=w.poll_timeout_ms,
                )
            except RETRYABLE as exc:
                await self._poll_failed(exc)
                continue
            except ApiError as exc:
                log.error("polling %s was refused: %s", self.wt.name, exc)
                await w.sleep(self.backoff.next_delay())
                continue
            except Exception:
                log.exception("polling %s failed", self.wt.name)
                await w.sleep(self.backoff.next_delay())
                continue
            if self.down_since is not None:
                log.info(
                    "%s: the server answers again (after %.1f s)",
                    self.wt.name,
                    time.monotonic() - self.down_since,
                )
                self.down_since = None
            self.backoff.reset()
            if not tasks:
                continue
            w.stats.polled += len(tasks)
            if w.stopping:  # claimed for us while we were stopping: give them back
                await asyncio.gather(*(self.give_back(t, "worker stopping") for t in tasks))
                return
            for task in tasks:
                self.start(task)

    async def _poll_failed(self, exc: Exception) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
            log.warning("%s: cannot poll (%s); retrying with backoff", self.wt.name, exc)
        else:
            log.debug("%s: still cannot poll: %s", self.wt.name, exc)
        await self.worker.sleep(self.backoff.next_delay())

    # ------------------------------------------------------------------ running
    def start(self, task: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        self.free -= 1
        running = _Running(task)
        running.context = TaskContext(
            task,
            self.worker.worker_id,
            on_heartbeat=lambda: loop.call_soon_threadsafe(self.beat, running),
        )
        self.running[task["taskId"]] = running
        running.job = loop.create_task(self.run(running))
        interval = self.wt.heartbeat_interval(int(task.get("responseTimeoutSeconds") or 0))
        if interval is not None:
            running.timer = loop.call_later(interval, self._tick, running, interval)

    async def run(self, running: _Running) -> None:
        try:
            try:
                result = await execute(self.wt, running.task, running.context, self.executor)
            except asyncio.CancelledError:
                return  # the shutdown handed it back
            if not running.handed_back:
                await self.report(result)
        finally:
            if running.timer is not None:
                running.timer.cancel()
            del self.running[running.task["taskId"]]
            self.free += 1
            self.slot_freed.set()

    # ------------------------------------------------------------------ heartbeats
    def _tick(self, running: _Running, interval: float) -> None:
        if running.handed_back or running.task["taskId"] not in self.running:
            return
        self.beat(running)
        running.timer = asyncio.get_running_loop().call_later(
            interval, self._tick, running, interval
        )

    def beat(self, running: _Running) -> None:
        if running.handed_back or running.beating or running.task["taskId"] not in self.running:
            return
        running.beating = True
        self.worker.background(self._send_heartbeat(running))

    async def _send_heartbeat(self, running: _Running) -> None:
        task_id = running.task["taskId"]
        heartbeat = heartbeat_result(running.task, running.context)
        try:
            ignored = await self.worker.transport.update(heartbeat)
        except (ApiError, TransportError) as exc:
            running.context.restore_logs(heartbeat.get("logs", []))
            log.warning("heartbeat of task %s failed: %s", task_id, exc)
            return
        finally:
            running.beating = False
        if ignored and task_id in self.running:  # the server gave up on a task still running
            log.warning("heartbeat of task %s ignored: %s", task_id, ignored)

    # ------------------------------------------------------------------ reporting
    async def give_back(self, task: dict[str, Any], reason: str) -> None:
        self.worker.stats.handed_back += 1
        await self.report(hand_back(task, self.worker.worker_id, reason), count=False)

    async def report(self, result: dict[str, Any], *, count: bool = True) -> None:
        """Report until the server has it; retries while the server cannot be reached."""
        w = self.worker
        backoff = Backoff(first=0.05, most=w.max_backoff_seconds)
        while True:
            try:
                ignored = await w.transport.update(result)
            except TypeError as exc:  # the output has no JSON form
                result = _failed(result, f"Task output is not JSON-serializable: {exc}")
                continue
            except PayloadTooLargeError as exc:
                result = _failed(result, f"Task output is too large: {exc.message}")
                continue
            except RETRYABLE as exc:
                if w.past_report_deadline():
                    w.stats.lost += 1
                    log.error(
                        "gave up reporting task %s (%s); the server will time it out and retry",
                        result["taskId"],
                        exc,
                    )
                    return
                log.debug("reporting task %s failed (%s); retrying", result["taskId"], exc)
                await asyncio.sleep(backoff.next_delay())
                continue
            except ApiError as exc:
                log.error("the server refused the result of task %s: %s", result["taskId"], exc)
                return
            break
        if ignored:
            w.stats.ignored += 1
            log.warning("the server ignored the result of task %s: %s", result["taskId"], ignored)
        elif count:
            status = result["status"]
            if status == "COMPLETED":
                w.stats.completed += 1
            elif status == "IN_PROGRESS":
                w.stats.in_progress += 1
            else:
                w.stats.failed += 1


def _failed(result: dict[str, Any], reason: str) -> dict[str, Any]:
    out = {k: result[k] for k in ("workflowInstanceId", "taskId", "workerId")}
    return {
        **out,
        "status": "FAILED_WITH_TERMINAL_ERROR",
        "reasonForIncompletion": reason[:2000],
        "outputData": {},
    }
