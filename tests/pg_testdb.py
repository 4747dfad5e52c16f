"""Throwaway PostgreSQL databases for the tests: each test gets its own, empty or migrated.

`make test` starts a private PostgreSQL cluster (scripts/pg-cluster.sh) and passes its URL in
LEGATO_TEST_POSTGRES_URL. Without it, tests of the `postgresql` backend are skipped.

CREATE DATABASE takes most of a second, so databases are recycled: a migrated one is made
once from a template database the migrations built (CREATE DATABASE ... TEMPLATE), and after
each test its rows are deleted and it goes back to the free list; an empty one gets its
`public` schema dropped and created again. A database whose schema a test changed is dropped.
tests/conftest.py calls `release()` after every test.
"""

from __future__ import annotations

import itertools
import os
import threading
from typing import Any
from urllib.parse import urlsplit

import pytest

ENV = "LEGATO_TEST_POSTGRES_URL"
DIR_ENV = "LEGATO_TEST_POSTGRES_DIR"
SKIP_REASON = (
    f"PostgreSQL tests need {ENV} (a URL of a server that may create databases);"
    " `make test` starts a throwaway PostgreSQL cluster and sets it"
)
TEMPLATE = "legato_test_template"

_lock = threading.Lock()
_counter = itertools.count(1)
_template_ready = False
_free: dict[bool, list[str]] = {True: [], False: []}  # migrated? -> databases ready for use
_in_use: list[tuple[str, bool]] = []


def admin_url() -> str:
    url = os.environ.get(ENV)
    if not url:
        pytest.skip(SKIP_REASON)
    return url


def url_of(database: str) -> str:
    return urlsplit(admin_url())._replace(path=f"/{database}").geturl()


def _connect(database: str | None = None) -> Any:
    import psycopg

    return psycopg.connect(admin_url() if database is None else url_of(database), autocommit=True)


def _execute(sql: str, database: str | None = None) -> None:
    with _connect(database) as conn:
        conn.execute(sql)


def _ensure_template() -> None:
    global _template_ready
    if _template_ready:
        return
    from legato.store import migrate

    _execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
    _execute(f"CREATE DATABASE {TEMPLATE} TEMPLATE template0")
    migrate.upgrade(url_of(TEMPLATE))
    _template_ready = True


def fresh_database(*, migrated: bool, per_test: bool = True) -> str:
    """The URL of a database for this test: empty, or with the schema at head if `migrated`.
    A database not `per_test` (a module's) is the caller's to `release_database`."""
    with _lock:
        admin_url()  # skips when there is no server
        if _free[migrated]:
            name = _free[migrated].pop()
        else:
            if migrated:
                _ensure_template()
            name = f"legato_test_{os.getpid()}_{next(_counter)}"
            template = TEMPLATE if migrated else "template0"
            _execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        if per_test:
            _in_use.append((name, migrated))
    return url_of(name)


def release_database(url: str, *, migrated: bool = True) -> None:
    """Recycle a database that was not `per_test`."""
    name = urlsplit(url).path.lstrip("/")
    with _lock:
        _in_use.append((name, migrated))
    release()


def release() -> None:
    """Recycle (or drop) the databases handed out since the last call."""
    with _lock:
        used = list(_in_use)
        _in_use.clear()
    for name, migrated in used:
        try:
            reusable = _reset(name, migrated)
        except Exception:
            reusable = False
        if reusable:
            with _lock:
                _free[migrated].append(name)
        else:
            _execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _reset(name: str, migrated: bool) -> bool:
    from legato.store import migrate

    with _connect(name) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        if not migrated:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
            return True
        tables = [
            t
            for (t,) in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        if "alembic_version" not in tables:
            return False
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        if row is None or row[0] != migrate.head_revision():
            return False
        # DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE makes new files.
        with conn.transaction():
            for t in tables:
                if t != "alembic_version":
                    conn.execute(f'DELETE FROM "{t}"')
        return True
