"""`Worker`: one process polling many task types and running their functions.

Each task type has its own poll loop, its own concurrency limit (free slots decide how many
tasks one batch poll asks for) and, for sync functions, its own thread pool: a slow type
never takes the slots or threads of another. Results are reported with `POST /api/tasks`;
long tasks get heartbeats. When the server cannot be reached, polls and reports retry with
exponential backoff until it is back.

Shutdown (`stop()`, SIGTERM or SIGINT): polling stops, polls in flight are let finish and
whatever they claimed is handed back; running tasks get `shutdown_grace_seconds` to finish
and report; tasks still running then are handed back (reported IN_PROGRESS without
`extendLease`, which puts them back on their queue at once). A second signal skips the grace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from legato.client.async_client import AsyncClient
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
from legato.worker.transport import HttpTaskTransport, TaskTransport

__all__ = ["Worker", "WorkerStats"]

log = logging.getLogger("legato.worker")

_RETRYABLE = (TransportError, ServerError, TooManyRequestsError)
REPORT_GRACE_SECONDS = 10.0  # after the shutdown grace: how long reports may still retry


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass(slots=True)
class WorkerStats:
    """Counters since the worker started (reports the server applied)."""

    polled: int = 0
    completed: int = 0
    failed: int = 0
    in_progress: int = 0
    handed_back: int = 0
    ignored: int = 0
    lost: int = 0


class _Running:
    __slots__ = ("context", "handed_back", "job", "task", "timer")

    context: TaskContext

    def __init__(self, task: dict[str, Any]) -> None:
        self.task = task
        self.job: asyncio.Task[None] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.handed_back = False


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


class _TaskType:
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
            except _RETRYABLE as exc:
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
        if running.handed_back or running.task["taskId"] not in self.running:
            return
        self.worker.background(self._send_heartbeat(running))

    async def _send_heartbeat(self, running: _Running) -> None:
        try:
            ignored = await self.worker.transport.update(
                heartbeat_result(running.task, running.context)
            )
        except (ApiError, TransportError) as exc:
            log.warning("heartbeat of task %s failed: %s", running.task["taskId"], exc)
            return
        if ignored:
            log.warning("heartbeat of task %s ignored: %s", running.task["taskId"], ignored)

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
            except _RETRYABLE as exc:
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


class Worker:
    """Runs worker tasks against a server until stopped.

        worker = Worker([greet, charge], server="http://127.0.0.1:8080")
        await worker.run()                    # until stop() / SIGTERM / SIGINT

        async with Worker([greet], client=client) as worker:   # in the background
            ...

    Give exactly one of `server` (a URL; default `$LEGATO_SERVER`), `client` (an
    `AsyncClient`) or `transport` (a `TaskTransport`, for in-process engines).
    """

    def __init__(
        self,
        tasks: Sequence[WorkerTask[..., Any]],
        *,
        server: str | None = None,
        client: AsyncClient | None = None,
        transport: TaskTransport | None = None,
        worker_id: str | None = None,
        poll_timeout_ms: int = 1000,
        shutdown_grace_seconds: float = 30.0,
        max_backoff_seconds: float = 10.0,
        handle_signals: bool = True,
    ) -> None:
        names = [t.name for t in tasks]
        if not tasks:
            raise ValueError("a Worker needs at least one worker task")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"more than one worker for task type {', '.join(duplicates)}")
        if sum(x is not None for x in (server, client, transport)) > 1:
            raise ValueError("give at most one of server, client, transport")
        self.tasks = list(tasks)
        self.worker_id = worker_id or default_worker_id()
        self.poll_timeout_ms = poll_timeout_ms
        self.shutdown_grace_seconds = shutdown_grace_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.handle_signals = handle_signals
        self.stats = WorkerStats()
        self._server = server
        self._client = client
        self._transport = transport
        self.transport: TaskTransport = transport  # type: ignore[assignment]
        self.stopping = False
        self._stop: asyncio.Event | None = None
        self._hurried: asyncio.Event | None = None
        self._hurry = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._deadline = float("inf")
        self._background: set[asyncio.Task[Any]] = set()
        self._types: list[_TaskType] = []
        self._runner: asyncio.Task[None] | None = None
        self.started = asyncio.Event()

    # ------------------------------------------------------------------ control
    def stop(self, *, now: bool = False) -> None:
        """Begin a graceful shutdown (`now`: no grace for running tasks). Thread-safe."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self.stopping = True
            self._hurry = self._hurry or now
            return
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is loop:
            self._begin_stop(now)
        else:
            loop.call_soon_threadsafe(self._begin_stop, now)

    def _begin_stop(self, now: bool) -> None:
        self.stopping = True
        if now:
            self._hurry = True
            if self._hurried is not None:
                self._hurried.set()
        if self._stop is not None:
            self._stop.set()
        for t in self._types:
            t.slot_freed.set()
            for running in t.running.values():
                running.context.stopping = True

    async def sleep(self, seconds: float) -> None:
        """Sleep, but wake when the worker is told to stop."""
        assert self._stop is not None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stop.wait()

    def background(self, coro: Any) -> None:
        job = asyncio.get_running_loop().create_task(coro)
        self._background.add(job)
        job.add_done_callback(self._background.discard)

    def past_report_deadline(self) -> bool:
        return time.monotonic() > self._deadline

    # ------------------------------------------------------------------ running
    async def run(self) -> None:
        """Poll and run tasks until stopped; returns once shut down."""
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._hurried = asyncio.Event()
        if self.stopping:
            self._stop.set()
        if self._hurry:
            self._hurried.set()
        owned = self._transport is None
        if owned:
            client = self._client or AsyncClient(self._server)
            self.transport = HttpTaskTransport(client, owns_client=self._client is None)
        signals = self._install_signals()
        self._types = [_TaskType(self, t) for t in self.tasks]
        pollers = [
            asyncio.create_task(t.poll_loop(), name=f"legato-poll-{t.wt.name}") for t in self._types
        ]
        log.info(
            "worker %s polling %s",
            self.worker_id,
            ", ".join(f"{t.name} (x{t.concurrency})" for t in self.tasks),
        )
        self.started.set()
        try:
            await self._stop.wait()
        finally:
            try:
                await self._shut_down(pollers)
            finally:
                self._remove_signals(signals)
                if owned:
                    await self.transport.close()

    async def _shut_down(self, pollers: list[asyncio.Task[None]]) -> None:
        started = time.monotonic()
        grace = 0.0 if self._hurry else self.shutdown_grace_seconds
        self._deadline = started + grace + REPORT_GRACE_SECONDS
        log.info("worker %s stopping", self.worker_id)
        # Polls in flight finish (what they claimed is handed back); a stuck one is cancelled.
        _, stuck = await asyncio.wait(pollers, timeout=self.poll_timeout_ms / 1000 + 5)
        for poller in stuck:
            poller.cancel()
        jobs = {r.job for t in self._types for r in t.running.values() if r.job is not None}
        if jobs and grace > 0:
            log.info("waiting up to %.0f s for %d running tasks", grace, len(jobs))
            assert self._hurried is not None
            hurried = asyncio.ensure_future(self._hurried.wait())
            everything = asyncio.ensure_future(asyncio.wait(jobs))
            await asyncio.wait(
                [hurried, everything], timeout=grace, return_when=asyncio.FIRST_COMPLETED
            )
            hurried.cancel()
            everything.cancel()
        late = [(t, r) for t in self._types for r in list(t.running.values())]
        if late:
            log.warning("handing back %d tasks still running", len(late))
        for _t, running in late:
            running.handed_back = True
            running.context.stopping = True
            if running.job is not None:
                running.job.cancel()  # a sync function's thread runs on; its result is dropped
        await asyncio.gather(
            *(t.give_back(r.task, "worker stopped before the task finished") for t, r in late)
        )
        pending = [r.job for _, r in late if r.job is not None]
        if pending:
            await asyncio.wait(pending, timeout=1)
        for job in list(self._background):
            job.cancel()
        for t in self._types:
            if t.executor is not None:
                t.executor.shutdown(wait=False, cancel_futures=True)
        log.info(
            "worker %s stopped: %d completed, %d failed, %d handed back",
            self.worker_id,
            self.stats.completed,
            self.stats.failed,
            self.stats.handed_back,
        )

    @property
    def busy_threads(self) -> int:
        """Sync functions still running in threads (after a shutdown: those handed back)."""
        return sum(t.executor.active for t in self._types if t.executor is not None)

    # ------------------------------------------------------------------ signals
    def _install_signals(self) -> list[signal.Signals]:
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return []
        assert self._loop is not None
        installed = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._loop.add_signal_handler(sig, self._on_signal, sig)
            except (NotImplementedError, RuntimeError, ValueError):
                continue
            installed.append(sig)
        return installed

    def _on_signal(self, sig: signal.Signals) -> None:
        log.info("worker %s got %s", self.worker_id, sig.name)
        self._begin_stop(now=self.stopping)  # a second signal: no more grace

    def _remove_signals(self, installed: list[signal.Signals]) -> None:
        assert self._loop is not None
        for sig in installed:
            self._loop.remove_signal_handler(sig)

    # ------------------------------------------------------------------ background mode
    async def __aenter__(self) -> Worker:
        self._runner = asyncio.create_task(self.run(), name="legato-worker")
        started = asyncio.create_task(self.started.wait())
        await asyncio.wait([self._runner, started], return_when=asyncio.FIRST_COMPLETED)
        started.cancel()
        if self._runner.done():
            self._runner.result()  # raises what stopped it
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop()
        assert self._runner is not None
        await self._runner
