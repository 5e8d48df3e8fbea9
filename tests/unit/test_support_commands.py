"""Running the build's tools: streamed, masked output and CommandFailed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from python_cnb import output
from python_cnb.support.commands import CommandFailed, run_quiet, run_streamed, tail

PYTHON = sys.executable
ENV = {"PATH": "/usr/bin:/bin"}


def _script(code: str) -> list[str]:
    return [PYTHON, "-c", code]


def test_streams_every_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = "import sys; print('out 1'); print('err 1', file=sys.stderr, flush=True); print('out 2')"
    text = run_streamed(_script(code), cwd=tmp_path, env=ENV, display="tool --flag")
    assert sorted(text.splitlines()) == ["err 1", "out 1", "out 2"]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Running 'tool --flag'"
    assert sorted(lines[1:]) == ["      err 1", "      out 1", "      out 2"]


def test_runs_in_cwd_with_exactly_env(tmp_path: Path) -> None:
    code = "import os; print(os.getcwd()); print(sorted(k for k in os.environ if k != 'LC_CTYPE'))"
    text = run_quiet(_script(code), cwd=tmp_path, env={"ONLY": "1"})
    assert text.splitlines() == [str(tmp_path), "['ONLY']"]


def test_display_defaults_to_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_streamed(["true"], cwd=tmp_path, env=ENV)
    assert capsys.readouterr().out == "Running 'true'\n"


def test_quiet_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_quiet(_script("print('x')"), cwd=tmp_path, env=ENV) == "x"
    assert capsys.readouterr() == ("", "")


def test_masks_secrets_in_echoed_and_captured_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output.register_secret("s3cr3t-token")
    code = (
        "print('Looking in indexes: https://user:hunter2@pypi.test/simple');"
        "print('token s3cr3t-token')"
    )
    text = run_streamed(_script(code), cwd=tmp_path, env=ENV, display="pip install")
    assert text == "Looking in indexes: https://****@pypi.test/simple\ntoken ****"
    assert capsys.readouterr().out == (
        "Running 'pip install'\n"
        "      Looking in indexes: https://****@pypi.test/simple\n"
        "      token ****\n"
    )


def test_command_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output.register_secret("hunter2")
    code = "import sys; print('building'); print('password hunter2 rejected'); sys.exit(3)"
    with pytest.raises(CommandFailed) as caught:
        run_streamed(_script(code), cwd=tmp_path, env=ENV, display="pip install -r x")
    error = caught.value
    assert (error.display, error.exit_code) == ("pip install -r x", 3)
    assert error.output == "building\npassword **** rejected"
    assert error.echoed  # its output is in the log: the error block need not repeat it
    assert "hunter2" not in capsys.readouterr().out
    with pytest.raises(CommandFailed) as quiet:
        run_quiet(_script(code), cwd=tmp_path, env=ENV)
    assert not quiet.value.echoed


def test_killed_by_a_signal(tmp_path: Path) -> None:
    with pytest.raises(CommandFailed) as caught:
        run_quiet(["sh", "-c", "kill -9 $$"], cwd=tmp_path, env=ENV)
    assert caught.value.exit_code == -9


def test_missing_executable(tmp_path: Path) -> None:
    with pytest.raises(CommandFailed) as caught:
        run_streamed(["no-such-tool-xyz", "--version"], cwd=tmp_path, env=ENV)
    error = caught.value
    assert (error.display, error.exit_code) == ("no-such-tool-xyz --version", 127)
    assert "No such file or directory" in error.output


def test_missing_working_directory(tmp_path: Path) -> None:
    with pytest.raises(CommandFailed) as caught:
        run_quiet(["true"], cwd=tmp_path / "missing", env=ENV, display="true")
    assert caught.value.exit_code == 127


def test_undecodable_output_is_replaced(tmp_path: Path) -> None:
    code = "import sys; sys.stdout.buffer.write(b'caf\\xe9\\n')"
    assert run_quiet(_script(code), cwd=tmp_path, env=ENV) == "caf\ufffd"


def test_output_without_a_final_newline(tmp_path: Path) -> None:
    code = "import sys; sys.stdout.write('a\\nb')"
    assert run_quiet(_script(code), cwd=tmp_path, env=ENV) == "a\nb"


def test_tail() -> None:
    text = "\n".join(f"line {n}" for n in range(1, 101))
    assert tail(text).splitlines() == [f"line {n}" for n in range(61, 101)]
    assert tail(text, 2) == "line 99\nline 100"
    assert tail("") == ""
    assert tail("one") == "one"
