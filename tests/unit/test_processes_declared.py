"""Declared processes: Procfile entries as launch.toml processes, where they come from (the
platform's settings or the app's Procfile), and BP_WEB_COMMAND."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest

from python_cnb.app.procfile import InvalidProcfile, ProcfileEntry, parse_procfile
from python_cnb.cnb.launch import Process
from python_cnb.cnb.validate import validate_launch_toml
from python_cnb.config.settings import Settings
from python_cnb.processes.declared import (
    SHELL,
    ProcessPlan,
    command_line,
    declared_processes,
    default_type,
    is_shell,
    procfile_processes,
    shell_process,
    with_web_command,
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


SH = ("bash", "-c")
IGNORING = "Ignoring the app's Procfile"


def procfile(app_dir: Path, text: str) -> None:
    (app_dir / "Procfile").write_text(text, encoding="utf-8")


def web(command: str) -> Process:
    """A shell process: the command line is the arg the user's arguments replace."""
    return Process("web", SH, (command,), default=True)


def declared(app_dir: Path, env: dict[str, str]) -> Optional[ProcessPlan]:
    """What the build declares with these settings."""
    return declared_processes(app_dir, Settings.from_env(env))


# --- declared processes -------------------------------------------------------------------------

ALL_SOURCES = {
    "BP_PROCFILE": "web: from-bp-procfile\n",
    "BUILD_PROCFILE": "web: from-build-procfile\n",
    "BUILD_AUTO_PROCFILE": "web: from-auto\n",
}


@pytest.mark.parametrize(
    ("unset", "with_procfile", "source", "command", "ignoring"),
    [
        ((), True, "BP_PROCFILE", "from-bp-procfile", True),
        (("BP_PROCFILE",), True, "BUILD_PROCFILE", "from-build-procfile", True),
        (("BP_PROCFILE", "BUILD_PROCFILE"), True, "Procfile", "from-procfile", False),
        (("BP_PROCFILE", "BUILD_PROCFILE"), False, "BUILD_AUTO_PROCFILE", "from-auto", False),
        ((), False, "BP_PROCFILE", "from-bp-procfile", False),
    ],
)
def test_precedence(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    unset: tuple[str, ...],
    with_procfile: bool,
    source: str,
    command: str,
    ignoring: bool,
) -> None:
    if with_procfile:
        procfile(tmp_path, "web: from-procfile\n")
    env = {k: v for k, v in ALL_SOURCES.items() if k not in unset}
    assert declared(tmp_path, env) == ProcessPlan((web(command),), source)
    out = capsys.readouterr().out
    if ignoring:
        assert out == f"{IGNORING}: {source} takes precedence\n"
    else:
        assert out == ""


def test_nothing_declared(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert declared(tmp_path, {}) is None
    assert declared(tmp_path, {"BP_PROCFILE": "", "BUILD_PROCFILE": "  \n"}) is None
    assert capsys.readouterr().out == ""


def test_bp_procfile_keeps_every_process(tmp_path: Path) -> None:
    plan = declared(tmp_path, {"BP_PROCFILE": "worker: celery\nweb: gunicorn a:b\n"})
    assert plan == ProcessPlan(
        (Process("worker", SH, ("celery",), default=False), web("gunicorn a:b")), "BP_PROCFILE"
    )
    assert plan.server is None
    assert plan.generated_web is False


@pytest.mark.parametrize(
    ("text", "processes"),
    [
        ("gunicorn app:app --workers 2", (web("gunicorn app:app --workers 2"),)),
        ("  uvicorn main:app  \n", (web("uvicorn main:app"),)),
        ("python -m http.server", (web("python -m http.server"),)),
        (
            "python app.py --url http://example.com",
            (web("python app.py --url http://example.com"),),
        ),
        ("web: gunicorn app:app", (web("gunicorn app:app"),)),
        (
            "web: gunicorn app:app\nworker: celery -A app worker\n",
            (
                web("gunicorn app:app"),
                Process("worker", SH, ("celery -A app worker",), default=False),
            ),
        ),
        ("worker: celery", (Process("worker", SH, ("celery",), default=True),)),
        # the first line that is not a comment decides whether it is Procfile text
        ("# the web process\nweb: gunicorn app:app\n", (web("gunicorn app:app"),)),
        ("\n# start it\ngunicorn app:app\n", (web("# start it\ngunicorn app:app"),)),
    ],
)
def test_build_procfile_with_and_without_a_type(
    tmp_path: Path, text: str, processes: tuple[Process, ...]
) -> None:
    assert declared(tmp_path, {"BUILD_PROCFILE": text}) == ProcessPlan(processes, "BUILD_PROCFILE")


def test_build_procfile_errors_name_it(tmp_path: Path) -> None:
    with pytest.raises(InvalidProcfile) as caught:
        declared(tmp_path, {"BUILD_PROCFILE": "web: a\nweb: b\n"})
    assert (caught.value.source, caught.value.problem) == ("BUILD_PROCFILE", "duplicate")


@pytest.mark.parametrize(
    ("env", "text", "source"),
    [
        ({"BP_PROCFILE": "# nothing here\n"}, None, "BP_PROCFILE"),
        ({"BUILD_PROCFILE": "# nothing here\n"}, None, "BUILD_PROCFILE"),
        ({"BUILD_PROCFILE": "\n  # one\n# two\n"}, None, "BUILD_PROCFILE"),
        ({}, "", "Procfile"),
        ({}, "# comments only\n\n", "Procfile"),
        ({"BUILD_AUTO_PROCFILE": "#\n"}, None, "BUILD_AUTO_PROCFILE"),
    ],
)
def test_empty_sources_warn_and_fall_through(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    text: Optional[str],
    source: str,
) -> None:
    if text is not None:
        procfile(tmp_path, text)
    assert declared(tmp_path, env) is None
    out = capsys.readouterr().out
    assert out.startswith(f"\n[Warning: {source} defines no processes]\n")
    assert f"{source} is empty (or only comments), so python-cnb chooses the web process" in out
    assert "`web: gunicorn app:app`" in out


def test_an_empty_platform_procfile_falls_through_to_the_app(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    procfile(tmp_path, "web: from-procfile\n")
    plan = declared(tmp_path, {"BP_PROCFILE": "# later\n"})
    assert plan == ProcessPlan((web("from-procfile"),), "Procfile")
    out = capsys.readouterr().out
    assert "[Warning: BP_PROCFILE defines no processes]" in out
    assert IGNORING not in out


def test_an_empty_procfile_falls_through_to_build_auto_procfile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    procfile(tmp_path, "\n")
    plan = declared(tmp_path, {"BUILD_AUTO_PROCFILE": "web: auto\n"})
    assert plan == ProcessPlan((web("auto"),), "BUILD_AUTO_PROCFILE")
    assert "[Warning: Procfile defines no processes]" in capsys.readouterr().out


# --- BP_WEB_COMMAND -----------------------------------------------------------------------------


def test_web_command_replaces_web_and_keeps_the_others(tmp_path: Path) -> None:
    procfile(tmp_path, "web: gunicorn app:app\nworker: celery\nclock: python clock.py\n")
    plan = with_web_command(declared(tmp_path, {}), "  uvicorn main:app  ")
    assert plan == ProcessPlan(
        (
            web("uvicorn main:app"),
            Process("worker", SH, ("celery",), default=False),
            Process("clock", SH, ("python clock.py",), default=False),
        ),
        "BP_WEB_COMMAND",
    )


def test_web_command_makes_a_lone_process_non_default(tmp_path: Path) -> None:
    procfile(tmp_path, "worker: celery\n")
    plan = with_web_command(declared(tmp_path, {}), "gunicorn app:app")
    assert plan is not None
    assert [(p.type, p.default) for p in plan.processes] == [("web", True), ("worker", False)]


def test_web_command_without_a_procfile() -> None:
    assert with_web_command(None, "gunicorn app:app") == ProcessPlan(
        (web("gunicorn app:app"),), "BP_WEB_COMMAND"
    )


@pytest.mark.parametrize("command", [None, ""])
def test_no_web_command_changes_nothing(tmp_path: Path, command: Optional[str]) -> None:
    plan = ProcessPlan((web("a"),), "Procfile")
    assert with_web_command(plan, command) is plan
    assert with_web_command(None, command) is None
