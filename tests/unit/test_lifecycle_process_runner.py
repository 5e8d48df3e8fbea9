"""Running a buildpack executable: its output merged and captured, teed when asked."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from python_cnb_lifecycle.process_runner import as_user, run

ENV = {"PATH": "/usr/bin:/bin"}


def test_stdout_and_stderr_are_merged_in_order_and_the_code_returned(tmp_path: Path) -> None:
    sink: list[str] = []
    code = run(
        ["sh", "-c", "echo one; echo two >&2; echo three; exit 3"],
        cwd=tmp_path,
        env=ENV,
        sink=sink,
    )
    assert (code, sink) == (3, ["one\n", "two\n", "three\n"])


def test_the_output_is_teed_to_echo(tmp_path: Path) -> None:
    sink: list[str] = []
    echo = io.StringIO()
    assert run(["sh", "-c", "echo hi"], cwd=tmp_path, env=ENV, sink=sink, echo=echo) == 0
    assert echo.getvalue() == "hi\n" == "".join(sink)


def test_it_runs_in_cwd_with_only_env_and_no_stdin(tmp_path: Path) -> None:
    """Not this process's stdin either (a build reads nothing from the terminal)."""
    sink: list[str] = []
    script = 'pwd; echo "[$HOME]" "$ONLY"; cat; echo end'
    read, write = os.pipe()
    os.write(write, b"typed at the terminal\n")
    os.close(write)
    saved = os.dup(0)
    os.dup2(read, 0)
    try:
        code = run(["sh", "-c", script], cwd=tmp_path, env={**ENV, "ONLY": "this"}, sink=sink)
    finally:
        os.dup2(saved, 0)
        os.close(saved)
        os.close(read)
    assert code == 0
    assert sink == [f"{tmp_path}\n", "[] this\n", "end\n"]


def test_undecodable_output_is_replaced_not_fatal(tmp_path: Path) -> None:
    sink: list[str] = []
    assert run(["printf", "a\\377b\\n"], cwd=tmp_path, env=ENV, sink=sink) == 0
    assert sink == ["a\ufffdb\n"]


def test_as_user() -> None:
    assert as_user(["bin/build", "x"], "1001:1000") == [
        "setpriv",
        "--reuid=1001",
        "--regid=1000",
        "--clear-groups",
        "--",
        "bin/build",
        "x",
    ]
    assert as_user(["id"], "1002")[1:3] == ["--reuid=1002", "--regid=1002"]  # its own group


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may run a command as another user")
def test_a_user_runs_it_as_that_user_without_groups(tmp_path: Path) -> None:
    sink: list[str] = []
    command = ["sh", "-c", "id -u; id -g; id -G"]
    assert run(command, cwd=tmp_path, env=ENV, sink=sink, user="1001:1000") == 0
    assert sink == ["1001\n", "1000\n", "1000\n"]  # the root's groups are not kept
