"""The schema check a PostgresStore makes when it opens.

An empty database gets the schema (the Alembic migrations, as `legato db upgrade` runs them);
a database at this code's revision is used as it is; any other is refused with a message that
says what to run. Nodes starting together on an empty database take turns (advisory lock), so
the migrations run once.
"""

from __future__ import annotations

from typing import Any

import psycopg

from legato.errors import StorageError
from legato.store import migrate

# pg_advisory_lock key of schema changes (any 64-bit number unique to Legato).
SCHEMA_LOCK = 0x6C6567_61746F


def prepare_schema(url: str, conninfo: str, connect_kwargs: dict[str, Any]) -> None:
    """Create the schema in an empty database; refuse one whose revision is not ours."""
    from legato.store.postgres import display_url

    where = display_url(url)
    try:
        conn = psycopg.connect(conninfo, **connect_kwargs)
    except psycopg.Error as exc:
        raise StorageError(f"cannot connect to the database {where}: {exc}") from exc
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        revision, has_tables = _inspect(conn)
        head = migrate.head_revision()
        if revision is None and not has_tables:
            try:
                migrate.upgrade(url)
            except Exception as exc:
                raise StorageError(f"cannot create the schema in {where}: {exc}") from exc
            return
        if revision == head:
            return
        if revision is None:
            raise StorageError(
                f"The database {where} has Legato tables but no schema revision;"
                " it was not created by `legato db upgrade`"
            )
        if revision in migrate.known_revisions():
            raise StorageError(
                f"The database {where} has schema revision {revision}, this Legato needs"
                f" {head}: run `legato db upgrade` (with --db {where})"
            )
        raise StorageError(
            f"The database {where} has schema revision {revision}, unknown to this Legato"
            f" (which needs {head}): it was migrated by a newer Legato; upgrade Legato"
        )
    except psycopg.Error as exc:
        raise StorageError(f"cannot check the schema of {where}: {exc}") from exc
    finally:
        conn.close()  # releases the advisory lock


def _inspect(conn: psycopg.Connection[Any]) -> tuple[str | None, bool]:
    """(the Alembic revision or None, whether any legato_ table exists) in the search path."""
    tables = {
        name
        for (name,) in conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = ANY(current_schemas(false))"
        ).fetchall()
    }
    revision = None
    if "alembic_version" in tables:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else None
    return revision, any(t.startswith("legato_") for t in tables)
