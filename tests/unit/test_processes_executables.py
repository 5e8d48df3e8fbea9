"""A declared process's command, and whether anything in the image provides it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from python_cnb.cnb.launch import Process
from python_cnb.processes.declared import shell_process
from python_cnb.processes.executables import (
    MissingCommand,
    first_command,
    missing_commands,
    search_path,
)


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("gunicorn app:app", "gunicorn"),
        ("exec gunicorn app:app", "gunicorn"),
        ("FOO=1 BAR='a b' celery -A tasks worker", "celery"),
        ("env -i PATH=/x honcho start", "honcho"),
        ("python manage.py migrate && gunicorn app:app", "python"),
        ("./bin/start", None),
        ("/usr/bin/env python", None),
        ("$SERVER app:app", None),
        ("cd backend && gunicorn app:app", None),  # bash resolves it after the cd
        ("if true; then x; fi", None),
        ("echo 'unbalanced", None),
        ("# only a comment", None),
        ("", None),
    ],
)
def test_first_command(line: str, command: str | None) -> None:
    assert first_command(line) == command


def _executable(directory: Path, name: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text("#!/bin/sh\n")
    (directory / name).chmod(0o755)


def test_missing_commands_looks_in_every_directory_and_names_known_packages(
    tmp_path: Path,
) -> None:
    venv_bin, python_bin = tmp_path / "venv" / "bin", tmp_path / "python" / "bin"
    _executable(venv_bin, "flask")
    _executable(python_bin, "python3")
    (venv_bin / "celery").write_text("not executable")
    processes = [
        shell_process("web", "gunicorn app:app", True),
        shell_process("worker", "celery -A tasks worker", False),
        shell_process("release", "flask db upgrade", False),
        shell_process("shell", "python3 -V", False),
        shell_process("tool", "mytool run", False),
        Process("gen", ("gunicorn",), ("app:app",)),  # generated: python-cnb installs it
    ]
    assert missing_commands(processes, [venv_bin, python_bin]) == [
        MissingCommand("web", "gunicorn", "gunicorn"),
        MissingCommand("worker", "celery", "celery"),
        MissingCommand("tool", "mytool", None),
    ]


def test_search_path_ends_with_the_path_variable(tmp_path: Path) -> None:
    assert search_path(tmp_path, path_variable=os.pathsep.join(["/a", "", "/b"])) == [
        tmp_path,
        Path("/a"),
        Path("/b"),
    ]
