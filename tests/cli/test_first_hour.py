"""A newcomer's first hour with the real ``habeas`` entry point (INTERFACES.md exit codes:
2 for bad input or refused, nothing written): an uninitialised home, ``--help``, refused and
unknown commands. Each runs ``python -m habeas`` in a fresh process, on a fresh home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

#: Every command here runs on a fresh embedded-SQLite home, whatever database the suite uses
#: (the environment's database settings are removed): the PostgreSQL suite would run the very
#: same thing again, so it leaves these to the SQLite suite.
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("HABEAS_TEST_DATABASE_URL")),
    reason="fresh embedded-SQLite homes only: run by the SQLite suite (this run is on PostgreSQL)",
)


def habeas(
    *args: str, home: Path | None, cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "HABEAS_TEST_DATABASE_URL", "HABEAS_SECRET_KEY", "HABEAS_HOME"}
    }
    if home is not None:
        env["HABEAS_HOME"] = str(home)
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "habeas", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


@pytest.mark.parametrize(
    "args",
    [("stats", "--json"), ("locate", "--ref", "A-1"), ("show", "1")],
)
def test_a_command_on_a_missing_home_says_to_run_init_and_creates_nothing(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    home = tmp_path / "home"
    result = habeas(*args, home=home, cwd=tmp_path / "cwd")
    assert result.returncode == 2, result.stderr
    assert "run `habeas init`" in result.stderr
    assert str(home) in result.stderr
    assert "internal error" not in result.stderr
    assert result.stdout == ""
    assert not home.exists()
    assert tree(tmp_path / "cwd") == []


def test_the_default_home_is_not_created_in_the_current_folder(tmp_path: Path) -> None:
    cwd = tmp_path / "somewhere"
    result = habeas("stats", home=None, cwd=cwd)
    assert result.returncode == 2
    assert "run `habeas init`" in result.stderr
    assert str(cwd / "var") in result.stderr
    assert tree(cwd) == []


def test_an_existing_empty_home_is_refused_and_left_empty(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    result = habeas("verify-ledger", home=home, cwd=tmp_path)
    assert result.returncode == 2
    assert "run `habeas init`" in result.stderr
    assert tree(home) == []


def test_an_empty_database_file_is_refused_too(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "habeas.sqlite3").write_bytes(b"")
    result = habeas("stats", home=home, cwd=tmp_path)
    assert result.returncode == 2
    assert "not initialised" in result.stderr
    assert "run `habeas init`" in result.stderr


def test_init_then_commands_work_on_a_fresh_home(tmp_path: Path) -> None:
    home = tmp_path / "fresh" / "home"
    assert habeas("check", home=home, cwd=tmp_path).returncode == 0
    result = habeas("init", home=home, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ledger key" in result.stdout
    assert {"habeas.sqlite3", "ledger_ed25519.pem", "secret_key", "static"} <= set(tree(home))
    result = habeas("stats", "--json", home=home, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"facilities": []' in result.stdout
    assert habeas("verify-ledger", home=home, cwd=tmp_path).returncode == 0


def test_help_lists_habeas_commands_grouped_one_line_each(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for args in (("--help",), ("help",), ()):
        result = habeas(*args, home=home, cwd=tmp_path / "cwd")
        assert result.returncode == 0, result.stderr
        out = result.stdout
        for group in ("Setting up:", "Transfers:", "Custody:", "Ledger:", "Billing:"):
            assert group in out
        lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
        for command in ("init", "apply", "import-manifest", "admit", "release", "stats"):
            assert command in lines
            assert len(lines[command].split()) > 2, lines[command]  # a description
            assert len(lines[command]) <= 100
        for hidden in ("flush", "dbshell", "sqlflush", "startproject", "startapp", "loaddata"):
            assert hidden not in out.split()
    assert not home.exists()
    assert tree(tmp_path / "cwd") == []
    everything = habeas("help", "--all", home=home, cwd=tmp_path).stdout
    assert "migrate" in everything
    assert "flush" not in everything.replace(",", " ").split()


def test_help_of_one_command_needs_no_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for args in (("stats", "--help"), ("help", "stats")):
        result = habeas(*args, home=home, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "--json" in result.stdout
    assert not home.exists()


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("flush", "append-only"),
        ("sqlflush", "append-only"),
        ("dbshell", "ledger"),
        ("loaddata", "ledger"),
        ("startproject", "not a Habeas command"),
        ("startapp", "not a Habeas command"),
        ("createsuperuser", "habeas user"),
    ],
)
def test_destructive_framework_commands_are_refused_with_a_reason(
    tmp_path: Path, command: str, reason: str
) -> None:
    home = tmp_path / "home"
    result = habeas(command, home=home, cwd=tmp_path / "cwd")
    assert result.returncode == 2
    assert f"`{command}` is refused" in result.stderr
    assert reason in result.stderr
    assert not home.exists()
    assert tree(tmp_path / "cwd") == []


def test_an_unknown_command_exits_2_with_a_suggestion(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = habeas("statz", home=home, cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown command `statz`" in result.stderr
    assert "`stats`" in result.stderr
    result = habeas("help", "nonsense-xyz", home=home, cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown command `nonsense-xyz`" in result.stderr
    assert not home.exists()
