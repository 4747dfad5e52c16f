"""`legato worker MODULE[:ATTRIBUTE]`: finding the worker tasks a module declares."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from legato import cli
from legato.worker import WorkerLoadError, load_workers

MODULE = """
from legato.worker import worker_task

@worker_task("first")
def first() -> None: ...

@worker_task("second")
async def second() -> None: ...

def not_a_worker() -> None: ...
"""


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def write(directory: Path, name: str, body: str) -> None:
    (directory / f"{name}.py").write_text(textwrap.dedent(body))


def test_every_top_level_worker_task(modules: Path) -> None:
    write(modules, "wl_plain", MODULE)
    assert [t.name for t in load_workers("wl_plain")] == ["first", "second"]


def test_a_workers_list_wins(modules: Path) -> None:
    write(modules, "wl_listed", MODULE + "\nworkers = [second]\n")
    assert [t.name for t in load_workers("wl_listed")] == ["second"]


def test_a_named_attribute(modules: Path) -> None:
    write(modules, "wl_named", MODULE + "\nfast = [first]\n")
    assert [t.name for t in load_workers("wl_named:fast")] == ["first"]
    assert [t.name for t in load_workers("wl_named:second")] == ["second"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("wl_missing_module", "no module named 'wl_missing_module'"),
        ("wl_errors:nothing", "has no attribute 'nothing'"),
        ("wl_errors:not_a_worker", "not a list of worker tasks"),
        ("wl_errors:mixed", "not worker tasks"),
        ("wl_empty", "declares no worker tasks"),
        (":x", "no module"),
    ],
)
def test_load_errors(modules: Path, spec: str, message: str) -> None:
    write(modules, "wl_errors", MODULE + "\nmixed = [first, 3]\n")
    write(modules, "wl_empty", "x = 1\n")
    with pytest.raises(WorkerLoadError, match=message):
        load_workers(spec)


def test_the_worker_command_parses(modules: Path) -> None:
    args = cli.build_parser().parse_args(
        ["worker", "pkg.mod:workers", "--server", "http://h:1", "--shutdown-grace", "5"]
    )
    assert args.module == "pkg.mod:workers"
    assert args.server == "http://h:1" and args.shutdown_grace == 5.0
    assert args.poll_timeout_ms == 1000 and args.client is False


def test_the_worker_command_reports_a_bad_module(
    modules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["worker", "wl_does_not_exist"]) == 1
    assert "error: no module named 'wl_does_not_exist'" in capsys.readouterr().err
