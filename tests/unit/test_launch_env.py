"""Launch-time defaults from the container's limits: the exec.d program's logic and output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest

from python_cnb import launch_env
from python_cnb.cnb.toml_file import loads as toml_loads
from python_cnb.cnb.validate import check_exec_d_output
from python_cnb.launch_env import (
    cgroup_cpus,
    cgroup_memory,
    toml_line,
    web_concurrency,
)

MIB = 1024 * 1024
GIB = 1024 * MIB
V1_UNLIMITED = "9223372036854771712"


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="ascii")


# --- cgroups ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tree", "cpus"),
    [
        ({"cpu.max": "max 100000"}, None),
        ({"cpu.max": "150000 100000"}, 1.5),
        ({"cpu.max": "50000 100000"}, 0.5),
        ({"cpu.max": "200000 100000"}, 2.0),
        ({"cpu.max": "200000 0"}, None),
        ({"cpu.max": "garbage"}, None),
        ({"cpu.max": "-1 100000"}, None),
        ({"cpu.max": ""}, None),
        # v2 wins over v1 files
        ({"cpu.max": "max 100000", "cpu/cpu.cfs_quota_us": "100000"}, None),
        ({"cpu/cpu.cfs_quota_us": "200000", "cpu/cpu.cfs_period_us": "100000"}, 2.0),
        ({"cpu,cpuacct/cpu.cfs_quota_us": "50000", "cpu,cpuacct/cpu.cfs_period_us": "100000"}, 0.5),
        ({"cpu.cfs_quota_us": "300000", "cpu.cfs_period_us": "100000"}, 3.0),
        ({"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"}, None),
        ({"cpu/cpu.cfs_quota_us": "x", "cpu/cpu.cfs_period_us": "100000"}, None),
        ({"cpu/cpu.cfs_quota_us": "100000", "cpu/cpu.cfs_period_us": "0"}, None),
        # a directory with half the files is skipped
        (
            {
                "cpu/cpu.cfs_quota_us": "100000",
                "cpu,cpuacct/cpu.cfs_quota_us": "400000",
                "cpu,cpuacct/cpu.cfs_period_us": "100000",
            },
            4.0,
        ),
        ({}, None),
    ],
)
def test_cgroup_cpus(tmp_path: Path, tree: dict[str, str], cpus: Optional[float]) -> None:
    for relative, text in tree.items():
        write(tmp_path, relative, text)
    assert cgroup_cpus(tmp_path) == cpus


@pytest.mark.parametrize(
    ("tree", "memory"),
    [
        ({"memory.max": "max"}, None),
        ({"memory.max": str(512 * MIB)}, 512 * MIB),
        ({"memory.max": "garbage"}, None),
        ({"memory.max": "max", "memory/memory.limit_in_bytes": str(GIB)}, None),
        ({"memory/memory.limit_in_bytes": str(GIB)}, GIB),
        ({"memory.limit_in_bytes": str(2 * GIB)}, 2 * GIB),
        ({"memory/memory.limit_in_bytes": V1_UNLIMITED}, None),
        ({"memory.limit_in_bytes": V1_UNLIMITED}, None),
        ({"memory/memory.limit_in_bytes": "-1"}, None),
        ({}, None),
    ],
)
def test_cgroup_memory(tmp_path: Path, tree: dict[str, str], memory: Optional[int]) -> None:
    for relative, text in tree.items():
        write(tmp_path, relative, text)
    assert cgroup_memory(tmp_path) == memory


def test_missing_cgroup_root(tmp_path: Path) -> None:
    assert cgroup_cpus(tmp_path / "nowhere") is None
    assert cgroup_memory(tmp_path / "nowhere") is None


@pytest.mark.parametrize(
    ("cpus", "memory", "workers"),
    [
        (1, 512 * MIB, 2),
        (0.5, 4 * GIB, 3),
        (1.5, 4 * GIB, 5),
        (8, 64 * GIB, 17),
        (2, None, 5),
        (2, 100 * MIB, 1),
        (4, 0, 1),
        (1, GIB, 3),
        (16, GIB, 4),
    ],
)
def test_web_concurrency(cpus: float, memory: Optional[int], workers: int) -> None:
    assert web_concurrency(cpus, memory) == workers


# --- the variables ------------------------------------------------------------------------------


def v2_tree(root: Path, cpu_max: str = "100000 100000", memory_max: str = str(GIB)) -> Path:
    write(root, "cpu.max", cpu_max)
    write(root, "memory.max", memory_max)
    return root


def test_launch_env_defaults(tmp_path: Path) -> None:
    assert launch_env.launch_env({}, v2_tree(tmp_path)) == {
        "WEB_CONCURRENCY": "3",
        "WEB_CONCURRENCY_SET_BY": "python-cnb",
        "UVICORN_PORT": "8080",
        "UVICORN_HOST": "0.0.0.0",
    }


def test_launch_env_without_limits_uses_the_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(launch_env, "host_cpus", lambda: 4)
    monkeypatch.setattr(launch_env, "host_memory", lambda: 512 * MIB)
    assert launch_env.launch_env({}, tmp_path)["WEB_CONCURRENCY"] == "2"
    monkeypatch.setattr(launch_env, "host_memory", lambda: None)
    assert launch_env.launch_env({}, tmp_path)["WEB_CONCURRENCY"] == "9"


@pytest.mark.parametrize("value", ["", "  "])
def test_blank_web_concurrency_is_set(tmp_path: Path, value: str) -> None:
    env = launch_env.launch_env({"WEB_CONCURRENCY": value}, v2_tree(tmp_path))
    assert (env["WEB_CONCURRENCY"], env["WEB_CONCURRENCY_SET_BY"]) == ("3", "python-cnb")


def test_web_concurrency_set_by_the_user_is_kept(tmp_path: Path) -> None:
    env = launch_env.launch_env({"WEB_CONCURRENCY": "7"}, v2_tree(tmp_path))
    assert "WEB_CONCURRENCY" not in env
    assert "WEB_CONCURRENCY_SET_BY" not in env


@pytest.mark.parametrize(
    ("env", "port", "host"),
    [
        ({"PORT": "5000"}, "5000", "0.0.0.0"),
        ({"PORT": " "}, "8080", "0.0.0.0"),
        ({"PORT": "5000", "BIND_HOST": "127.0.0.1"}, "5000", "127.0.0.1"),
        ({"PORT": "5000", "BIND_HOST": "::"}, "5000", "::"),
    ],
)
def test_uvicorn_defaults(tmp_path: Path, env: dict[str, str], port: str, host: str) -> None:
    result = launch_env.launch_env(env, v2_tree(tmp_path))
    assert (result["UVICORN_PORT"], result["UVICORN_HOST"]) == (port, host)


@pytest.mark.parametrize("value", ["", " "])
def test_blank_uvicorn_settings_are_set(tmp_path: Path, value: str) -> None:
    result = launch_env.launch_env(
        {"UVICORN_PORT": value, "UVICORN_HOST": value, "PORT": "5000"}, v2_tree(tmp_path)
    )
    assert (result["UVICORN_PORT"], result["UVICORN_HOST"]) == ("5000", "0.0.0.0")


def test_uvicorn_settings_of_the_user_are_kept(tmp_path: Path) -> None:
    result = launch_env.launch_env(
        {"UVICORN_PORT": "9000", "UVICORN_HOST": "10.0.0.1", "PORT": "5000"}, v2_tree(tmp_path)
    )
    assert "UVICORN_PORT" not in result
    assert "UVICORN_HOST" not in result


@pytest.mark.parametrize(
    ("env", "args"),
    [
        ({}, None),
        ({"BIND_HOST": " ", "GUNICORN_CMD_ARGS": "--timeout 60"}, None),
        ({"BIND_HOST": "127.0.0.1"}, "--bind=127.0.0.1:8080"),
        ({"BIND_HOST": "127.0.0.1", "PORT": "5000"}, "--bind=127.0.0.1:5000"),
        ({"BIND_HOST": "::", "PORT": "5000"}, "--bind=[::]:5000"),
        ({"BIND_HOST": "::1", "PORT": "5000"}, "--bind=[::1]:5000"),
        ({"BIND_HOST": "[::1]", "PORT": "5000"}, "--bind=[::1]:5000"),
        (
            {"BIND_HOST": "0.0.0.0", "PORT": "5000", "GUNICORN_CMD_ARGS": " --timeout 60 "},
            "--bind=0.0.0.0:5000 --timeout 60",
        ),
    ],
)
def test_gunicorn_cmd_args(tmp_path: Path, env: dict[str, str], args: Optional[str]) -> None:
    assert launch_env.launch_env(env, v2_tree(tmp_path)).get("GUNICORN_CMD_ARGS") == args


# --- output -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("3", 'WEB_CONCURRENCY = "3"\n'),
        ('say "hi"', 'WEB_CONCURRENCY = "say \\"hi\\""\n'),
        ("C:\\path\\", 'WEB_CONCURRENCY = "C:\\\\path\\\\"\n'),
        ("a\nb", 'WEB_CONCURRENCY = "a\\nb"\n'),
        ("a\tb\rc", 'WEB_CONCURRENCY = "a\\tb\\rc"\n'),
        ("bell\x07del\x7f", 'WEB_CONCURRENCY = "bell\\u0007del\\u007F"\n'),
        ("héllo ✓", 'WEB_CONCURRENCY = "héllo ✓"\n'),
    ],
)
def test_toml_line(value: str, line: str) -> None:
    assert toml_line("WEB_CONCURRENCY", value) == line


@pytest.mark.parametrize(
    "value",
    [
        "",
        "plain",
        '"quoted"',
        "back\\slash\\",
        '\\"',
        "multi\nline\n",
        "tab\tcarriage\rreturn",
        "".join(chr(c) for c in range(32)) + "\x7f",
        "--bind=[::1]:8080 --access-logformat '%(h)s \"%(r)s\"'",
        "unicode ☃ \u2028",
    ],
)
def test_toml_line_parses_back(value: str) -> None:
    text = toml_line("GUNICORN_CMD_ARGS", value)
    assert toml_loads(text) == {"GUNICORN_CMD_ARGS": value}
    assert check_exec_d_output(text) == []


FD3 = "import os, sys; os.dup2(int(sys.argv[1]), 3); os.execv(sys.argv[2], sys.argv[2:])"
"""Makes the inherited pipe the program's fd 3, then execs it: the parent's fds stay as
they are."""


PYTHON39 = Path("/root/.pyenv/versions/3.9.18/bin/python3.9")
INTERPRETERS = [
    pytest.param(Path(sys.executable), id="dev"),
    pytest.param(
        PYTHON39,
        id="3.9",
        marks=pytest.mark.skipif(not PYTHON39.is_file(), reason=f"no Python 3.9 at {PYTHON39}"),
    ),
]


def run_exec_d(env: dict[str, str], python: Path = Path(sys.executable)) -> str:
    """Run launch_env.py as the launcher runs exec.d programs: fd 3 is where it writes."""
    read_end, write_end = os.pipe()
    try:
        completed = subprocess.run(
            [sys.executable, "-c", FD3, str(write_end), str(python), "-I", launch_env.__file__],
            env=env,
            pass_fds=(write_end,),
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.close(write_end)
    with os.fdopen(read_end, encoding="utf-8") as stream:
        text = stream.read()
    assert (completed.returncode, completed.stdout, completed.stderr) == (0, "", "")
    return text


@pytest.mark.parametrize("python", INTERPRETERS)
def test_main_writes_to_fd_3(tmp_path: Path, python: Path) -> None:
    root = v2_tree(tmp_path, cpu_max="200000 100000", memory_max=str(GIB))
    text = run_exec_d(
        {
            "PYTHON_CNB_CGROUP_ROOT": str(root),
            "PORT": "5000",
            "BIND_HOST": "::",
            "GUNICORN_CMD_ARGS": '--access-logformat "%(h)s"',
        },
        python,
    )
    assert text == (
        'GUNICORN_CMD_ARGS = "--bind=[::]:5000 --access-logformat \\"%(h)s\\""\n'
        'UVICORN_HOST = "::"\n'
        'UVICORN_PORT = "5000"\n'
        'WEB_CONCURRENCY = "4"\n'
        'WEB_CONCURRENCY_SET_BY = "python-cnb"\n'
    )
    assert check_exec_d_output(text) == []
    assert toml_loads(text)["GUNICORN_CMD_ARGS"] == '--bind=[::]:5000 --access-logformat "%(h)s"'


def test_main_writes_nothing_when_everything_is_set(tmp_path: Path) -> None:
    text = run_exec_d(
        {
            "PYTHON_CNB_CGROUP_ROOT": str(v2_tree(tmp_path)),
            "WEB_CONCURRENCY": "2",
            "UVICORN_PORT": "1",
            "UVICORN_HOST": "h",
        }
    )
    assert text == ""
    assert check_exec_d_output(text) == []
