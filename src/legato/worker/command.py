"""`legato worker MODULE[:ATTRIBUTE]`: run the worker tasks a module declares."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from legato.client.base import server_url
from legato.worker.loader import WorkerLoadError, load_workers
from legato.worker.runner import Worker

log = logging.getLogger("legato.worker")


def add_parser(commands: Any) -> None:
    """Add the `worker` subcommand to the `legato` command's subparsers."""
    parser = commands.add_parser(
        "worker",
        help="run the worker tasks a Python module declares",
        description=(
            "Import MODULE and run its worker tasks: the list named by ATTRIBUTE, else the "
            "module's `workers` list, else every @worker_task at its top level. SIGTERM or "
            "Ctrl-C stops it gracefully (running tasks finish or are handed back)."
        ),
    )
    parser.add_argument("module", metavar="MODULE[:ATTRIBUTE]")
    parser.add_argument(
        "--server",
        default=argparse.SUPPRESS,
        metavar="URL",
        help="Legato server (default: $LEGATO_SERVER, else http://127.0.0.1:8080)",
    )
    parser.add_argument("--worker-id", metavar="ID", help="default: HOSTNAME-PID")
    parser.add_argument(
        "--shutdown-grace",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long running tasks may take to finish after SIGTERM (default 30)",
    )
    parser.add_argument(
        "--poll-timeout-ms", type=int, default=1000, metavar="MS", help="long-poll (default 1000)"
    )
    parser.add_argument(
        "--log-level",
        type=str.upper,
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="default INFO",
    )
    parser.set_defaults(handler=run_command, client=False)


def _runner() -> Callable[[Coroutine[Any, Any, None]], None]:
    if importlib.util.find_spec("uvloop") is not None:
        import uvloop

        return lambda coro: asyncio.Runner(loop_factory=uvloop.new_event_loop).run(coro)
    return asyncio.run


def run_command(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("httpx", "httpcore"):  # one line per request otherwise
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    try:
        tasks = load_workers(args.module)
    except WorkerLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    server = server_url(getattr(args, "server", None))
    worker = Worker(
        tasks,
        server=server,
        worker_id=args.worker_id,
        poll_timeout_ms=args.poll_timeout_ms,
        shutdown_grace_seconds=args.shutdown_grace,
    )
    print(
        f"legato worker {worker.worker_id} on {server}: {', '.join(t.name for t in tasks)}",
        flush=True,
    )
    try:
        _runner()(worker.run())
    except KeyboardInterrupt:
        return 130
    if worker.busy_threads:
        # Sync functions still running were handed back; their threads would keep the
        # interpreter alive until they return.
        log.warning("exiting with %d handed-back tasks still running", worker.busy_threads)
        logging.shutdown()
        sys.stdout.flush()
        os._exit(0)
    return 0
