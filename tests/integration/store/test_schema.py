"""The migrations build exactly the canonical schema, and stores refuse a schema they don't know."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from legato.errors import StorageError
from legato.store import Store, migrate
from legato.store.schema import include_name, is_search_table, metadata


def _reflect(url: str) -> dict[str, Any]:
    """Tables, columns, keys and indexes as the database reports them, in comparable form."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        insp = sa.inspect(engine)
        out: dict[str, Any] = {}
        with engine.connect() as conn:
            for table in sorted(insp.get_table_names()):
                if table == "alembic_version":
                    continue
                out[table] = {
                    "columns": [
                        (c["name"], repr(c["type"]), c["nullable"], c.get("default"))
                        for c in insp.get_columns(table)
                    ],
                    "pk": insp.get_pk_constraint(table),
                    "unique": insp.get_unique_constraints(table),
                    "foreign_keys": insp.get_foreign_keys(table),
                    "indexes": sorted(
                        (
                            i["name"],
                            tuple(i["column_names"]),
                            bool(i["unique"]),
                            sorted((k, str(v)) for k, v in i.get("dialect_options", {}).items()),
                        )
                        for i in insp.get_indexes(table)
                    ),
                }
                if engine.dialect.name == "sqlite":  # column order and direction (DESC)
                    out[table]["index_keys"] = {
                        name: conn.exec_driver_sql(f'PRAGMA index_xinfo("{name}")').fetchall()
                        for (name, *_rest) in out[table]["indexes"]
                    }
        return out
    finally:
        engine.dispose()


async def test_migrations_build_the_canonical_schema(
    store: Store, database_url: str, other_database_url: str
) -> None:
    # `store` was opened on a new database: the migrations built it.
    assert migrate.current_revision(database_url) == migrate.head_revision()

    canonical = sa.create_engine(other_database_url, poolclass=sa.pool.NullPool)
    try:
        metadata.create_all(canonical)
    finally:
        canonical.dispose()

    migrated = _reflect(database_url)
    # The FTS5 search tables are not in `metadata` (SQLAlchemy cannot declare virtual tables);
    # `create_all` makes them through a DDL event, so the comparison below still covers them.
    assert {t for t in migrated if not is_search_table(t)} == set(metadata.tables)
    assert migrated == _reflect(other_database_url)

    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_name": include_name})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_upgrade_and_current_revision(database_url: str) -> None:
    assert migrate.current_revision(database_url) is None
    migrate.upgrade(database_url)
    assert migrate.current_revision(database_url) == migrate.head_revision()
    migrate.upgrade(database_url)  # idempotent
    assert migrate.current_revision(database_url) == migrate.head_revision()


def _set_revision(url: str, revision: str | None) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            if revision is None:
                conn.execute(sa.text("DROP TABLE alembic_version"))
            else:
                conn.execute(
                    sa.text("UPDATE alembic_version SET version_num = :v"), {"v": revision}
                )
    finally:
        engine.dispose()


async def test_open_refuses_an_older_schema(
    make_store: Callable[..., Store], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate.upgrade(database_url)
    # Pretend this code knows a newer revision than the database has.
    monkeypatch.setattr(migrate, "head_revision", lambda: "9999")
    known = migrate.known_revisions() | {"9999"}
    monkeypatch.setattr(migrate, "known_revisions", lambda: known)
    with pytest.raises(StorageError, match="run `legato db upgrade`"):
        await make_store().open()


async def test_open_refuses_a_newer_schema(
    make_store: Callable[..., Store], database_url: str
) -> None:
    migrate.upgrade(database_url)
    _set_revision(database_url, "ffffffff")
    with pytest.raises(StorageError, match="newer Legato"):
        await make_store().open()


async def test_open_refuses_tables_without_revision(
    make_store: Callable[..., Store], database_url: str
) -> None:
    migrate.upgrade(database_url)
    _set_revision(database_url, None)
    with pytest.raises(StorageError, match="no schema revision"):
        await make_store().open()
