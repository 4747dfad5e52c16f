"""Legato workers: Python functions that execute a workflow's tasks.

    from legato.worker import Worker, worker_task

    @worker_task("greet")
    async def greet(name: str) -> dict[str, str]:
        return {"greeting": f"Hello, {name}"}

    await Worker([greet], server="http://127.0.0.1:8080").run()

or `legato worker my_module` for the worker tasks `my_module` declares. Sync and `async def`
functions, typed inputs (pydantic models, dataclasses, annotated parameters), per-type
concurrency, heartbeats, structured failures (`TaskError`), graceful shutdown.
"""

from legato.worker.context import TaskContext
from legato.worker.execute import execute
from legato.worker.loader import WorkerLoadError, load_workers
from legato.worker.outcome import InProgress, TaskError
from legato.worker.runner import Worker, WorkerStats
from legato.worker.task import WorkerTask, worker_task
from legato.worker.transport import HttpTaskTransport, TaskTransport

__all__ = [
    "HttpTaskTransport",
    "InProgress",
    "TaskContext",
    "TaskError",
    "TaskTransport",
    "Worker",
    "WorkerLoadError",
    "WorkerStats",
    "WorkerTask",
    "execute",
    "load_workers",
    "worker_task",
]
