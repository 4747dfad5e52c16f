"""The commands that work in this process rather than through a server: `legato server` runs
the API server (uvicorn) with `Settings` from the environment and its flags, and
`legato db upgrade` migrates the database schema.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from legato import __version__
from legato.cli.client import CliError

if TYPE_CHECKING:
    from legato.config import Settings

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
SERVER_FLAGS = ("host", "port", "db", "sqlite_synchronous", "log_level")


def server_settings(args: argparse.Namespace) -> Settings:
    """`Settings` from the environment, overridden by the `legato server` flags given."""
    import pydantic

    from legato.config import Settings

    overrides = {key: getattr(args, key) for key in SERVER_FLAGS if getattr(args, key) is not None}
    try:
        settings = Settings(**overrides)
    except pydantic.ValidationError as exc:
        problems = [f"  - {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise CliError("invalid settings", problems) from exc
    if settings.log_level.lower() not in LOG_LEVELS:
        raise CliError(
            f"invalid log level {settings.log_level!r}: use one of {', '.join(LOG_LEVELS)}"
        )
    return settings


def cmd_server(args: argparse.Namespace) -> int:
    """Run the API server in this process (uvicorn, one worker, no access log)."""
    import asyncio
    import importlib.util

    import uvicorn

    settings = server_settings(args)
    try:
        from legato.api import app as api_app
    except ImportError as exc:
        raise CliError(f"the Legato server is not available: {exc}") from exc
    try:
        app = api_app.create_app(settings)
    except getattr(api_app, "UnsupportedDatabaseError", ValueError) as exc:
        raise CliError(str(exc)) from exc

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools",
        access_log=False,
        workers=1,
        log_level=settings.log_level.lower(),
    )
    server = uvicorn.Server(config)

    async def announce() -> None:
        while not server.started:
            await asyncio.sleep(0.02)
        sockname = server.servers[0].sockets[0].getsockname()
        host = f"[{sockname[0]}]" if ":" in sockname[0] else sockname[0]
        print(
            f"Legato {__version__} listening on http://{host}:{sockname[1]} "
            f"(database {_url_without_password(settings.db)})",
            flush=True,
        )

    async def serve() -> int:
        announcer = asyncio.ensure_future(announce())
        try:
            await server.serve()
        except SystemExit as exc:  # uvicorn exits this way when it cannot start
            return 0 if exc.code in (0, None) else 1
        finally:
            announcer.cancel()
        return 0

    try:
        with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
            code = runner.run(serve())
    except KeyboardInterrupt:
        return 0
    if code:
        raise CliError("the server did not start (see the log above)")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Migrate the database to this Legato's schema (creating it in an empty database)."""
    from legato.config import Settings
    from legato.store import migrate

    url = args.db or Settings().db
    shown = _url_without_password(url)
    before = None
    try:
        before = migrate.current_revision(url)
        migrate.upgrade(url)
        after = migrate.current_revision(url)
    except Exception as exc:
        raise CliError(f"cannot upgrade the database {shown}: {exc}".splitlines()[0]) from exc
    if before == after:
        print(f"{shown} is at schema revision {after} already")
    else:
        print(f"{shown}: schema revision {before or '(none)'} -> {after}")
    return 0


def _url_without_password(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()
    return url
