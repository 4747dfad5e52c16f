"""Browser tests of the web UI: a real server process, real workers, headless Chromium.

Chromium is Debian's (`/usr/bin/chromium`, installed by `make test`), driven by Playwright's
Python package through `executable_path` (never `playwright install`). The browser starts with
a new empty profile and every background service off: this machine's network is closed.
Screenshots of each page go to a temporary directory, or to `$LEGATO_SCREENSHOTS` when it is
set (`make screenshots` refreshes `docs/screenshots/` that way).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from ui_seed import Workers, register_definitions

CHROMIUM = os.environ.get("LEGATO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}  # a laptop screen


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: `make test` installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    pytest.importorskip("playwright")
    return CHROMIUM


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`legato server` on a free port and a new database; its base URL."""
    directory = tmp_path_factory.mktemp("ui-server")
    port = _free_port()
    env = {
        **os.environ,
        "LEGATO_TIMER_INTERVAL_MS": "50",
        "LEGATO_LOG_LEVEL": "warning",
    }
    log = (directory / "server.log").open("wb")
    cmd = [sys.executable, "-m", "legato.cli", "server", "--port", str(port)]
    cmd += ["--db", f"sqlite:///{directory / 'ui.db'}"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        with httpx.Client(timeout=1) as probe:
            while True:
                try:
                    if probe.get(f"{url}/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        "the server did not start:\n" + (directory / "server.log").read_text()
                    )
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    output = (directory / "server.log").read_text()
    assert "Traceback" not in output and "ERROR" not in output, output


@pytest.fixture(scope="session")
def api(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def workers(api: httpx.Client, server: str) -> Iterator[Workers]:
    """The test definitions, registered, and workers serving every task type but `ui_manual`."""
    register_definitions(api)
    w = Workers(server)
    w.start()
    try:
        yield w
    finally:
        w.stop()


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[object]:
    """Module scope, not session: Playwright's sync API marks an event loop as running on this
    thread while it is open, which would break every async test that runs after it."""
    from playwright.sync_api import sync_playwright

    # Playwright gives the browser a new empty profile (a temporary user-data-dir).
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: object, server: str) -> Iterator[object]:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context(base_url=server, viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    pg = context.new_page()
    requests: list[str] = []
    pg.on("request", lambda r: requests.append(r.url))
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield pg
    finally:
        context.close()
    outside = [u for u in requests if not u.startswith(server) and not u.startswith("data:")]
    assert not outside, f"the UI made requests outside the server: {outside}"
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("LEGATO_SCREENSHOTS")
    where = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    where.mkdir(parents=True, exist_ok=True)
    return where
