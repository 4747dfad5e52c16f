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
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from legato.client.async_client import AsyncClient
from legato.worker.task import WorkerTask
from legato.worker.task_loop import TaskTypeLoop
from legato.worker.transport import HttpTaskTransport, TaskTransport

__all__ = ["Worker", "WorkerStats"]

log = logging.getLogger("legato.worker")

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


class Worker:
    """Runs worker tasks against a server until stopped.

        worker = Worker([greet, charge], server="http://127.0.0.1:8080")
        await worker.run()                    # until stop() / SIGTERM / SIGINT

        async with Worker([greet], client=client) as worker:   # in the background
            ...

    Give at most one of `server` (a URL), `client` (an `AsyncClient`) or `transport` (a
    `TaskTransport`, for in-process engines); with none, the server is `$LEGATO_SERVER`,
    else `http://127.0.0.1:8080`.
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
        self._types: list[TaskTypeLoop] = []
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
        self._types = [TaskTypeLoop(self, t) for t in self.tasks]
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
        if sys.platform == "win32":  # asyncio's loops there take no signal handlers
            return []
        assert self._loop is not None
        installed = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._loop.add_signal_handler(sig, self._on_signal, sig)
            except (RuntimeError, ValueError):  # a loop that cannot take this signal
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
