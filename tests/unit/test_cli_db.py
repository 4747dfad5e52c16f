"""`legato db upgrade`: migrates a database (SQLite here; PostgreSQL takes the same path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from legato.cli import main
from legato.store import migrate


def test_db_upgrade_creates_then_keeps_the_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["db", "upgrade", "--db", url]) == 0
    assert f"-> {migrate.head_revision()}" in capsys.readouterr().out
    assert migrate.current_revision(url) == migrate.head_revision()
    assert main(["db", "upgrade", "--db", url]) == 0
    assert "already" in capsys.readouterr().out


def test_db_upgrade_reports_an_unreachable_database(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://nobody:secret@127.0.0.1:1/nothing?connect_timeout=1"
    assert main(["db", "upgrade", "--db", url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot upgrade the database")
    assert "secret" not in err
