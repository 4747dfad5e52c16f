"""Real processes for the SDK end-to-end tests: a Legato server, `legato worker` processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """`legato server` on a fixed port and database, so it can be stopped and started again."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [sys.executable, "-m", "legato.cli", "server", "--port", str(self.port)]
        cmd += ["--db", f"sqlite:///{self.directory / 'legato.db'}"]
        env = {**os.environ, "LEGATO_TIMER_INTERVAL_MS": "50", "LEGATO_LOG_LEVEL": "warning"}
        with (self.directory / "server.log").open("ab") as log:
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Legato did not start:\n{self.log()}")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def log(self) -> str:
        return (self.directory / "server.log").read_text(errors="replace")


class WorkerProcess:
    """`legato worker MODULE` run from `directory` (where the module is)."""

    def __init__(self, directory: Path, module: str, server: str, *extra: str) -> None:
        self.log_path = directory / f"worker-{module}-{time.monotonic_ns()}.log"
        cmd = [sys.executable, "-m", "legato.cli", "worker", module, "--server", server, *extra]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, cwd=directory, env=dict(os.environ)
            )

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 20) -> int:
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
