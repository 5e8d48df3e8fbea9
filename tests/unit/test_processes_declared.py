"""Procfile entries as launch.toml processes."""

from __future__ import annotations

import pytest

from python_cnb.app.procfile import ProcfileEntry, parse_procfile
from python_cnb.cnb.launch import Process
from python_cnb.cnb.validate import validate_launch_toml
from python_cnb.processes.declared import (
    SHELL,
    command_line,
    default_type,
    is_shell,
    procfile_processes,
    shell_process,
)


def test_processes_run_through_bash_with_the_command_line_as_args() -> None:
    """As Heroku's Procfile buildpack: user args replace the command line (BUG-3)."""
    entries = parse_procfile(
        "web: gunicorn -b 0.0.0.0:$PORT app:app\nworker: celery -A app worker\n"
    )
    assert SHELL == ("bash", "-c")
    assert procfile_processes(entries) == (
        Process("web", ("bash", "-c"), ("gunicorn -b 0.0.0.0:$PORT app:app",), default=True),
        Process("worker", ("bash", "-c"), ("celery -A app worker",), default=False),
    )


def test_web_is_default_wherever_it_is() -> None:
    entries = parse_procfile("release: migrate\nworker: celery\nweb: gunicorn app:app\n")
    assert [(p.type, p.default) for p in procfile_processes(entries)] == [
        ("release", False),
        ("worker", False),
        ("web", True),
    ]


def test_a_lone_process_is_default() -> None:
    [process] = procfile_processes((ProcfileEntry("worker", "celery", 1),))
    assert process == Process("worker", ("bash", "-c"), ("celery",), default=True)


def test_several_processes_without_web_have_no_default() -> None:
    entries = parse_procfile("worker: celery\nclock: python clock.py\n")
    assert [p.default for p in procfile_processes(entries)] == [False, False]


def test_no_entries() -> None:
    assert procfile_processes(()) == ()


@pytest.mark.parametrize(
    ("types", "default"),
    [
        ([], None),
        (["web"], "web"),
        (["worker"], "worker"),
        (["worker", "web"], "web"),
        (["worker", "clock"], None),
        (["Web", "worker"], None),
    ],
)
def test_default_type(types: list[str], default: str | None) -> None:
    assert default_type(types) == default


def test_launch_toml_shape() -> None:
    [process] = procfile_processes(parse_procfile("web: gunicorn app:app"))
    data = process.to_toml()
    assert data == {
        "type": "web",
        "command": ["bash", "-c"],
        "args": ["gunicorn app:app"],
        "default": True,
    }
    validate_launch_toml({"processes": [data]})


@pytest.mark.parametrize(
    ("process", "shown", "shell"),
    [
        (
            shell_process("web", "gunicorn app:app --bind :$PORT", True),
            "gunicorn app:app --bind :$PORT",
            True,
        ),
        (
            Process("web", ("gunicorn", "--chdir", "b"), ("p.wsgi:app", "-k", "x")),
            "gunicorn --chdir b p.wsgi:app -k x",
            False,
        ),
        (Process("web", ("python",), ("main.py",)), "python main.py", False),
        (Process("web", ("serve",)), "serve", False),
        # bash -c with more than a command line is not one of ours: shown word by word
        (Process("web", ("bash", "-c"), ("echo", "x")), "bash -c echo x", False),
    ],
)
def test_command_line_as_the_build_log_shows_it(process: Process, shown: str, shell: bool) -> None:
    assert (command_line(process), is_shell(process)) == (shown, shell)
