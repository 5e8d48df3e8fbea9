"""Launch-time defaults from the container's limits: the exec.d program's logic and output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest

from python_cnb.cnb.toml_file import loads as toml_loads
from python_cnb.cnb.validate import check_exec_d_output
from python_cnb.programs import launch_env
from python_cnb.programs.launch_env import (
    GUNICORN_BIND,
    available_cpus,
    available_memory,
    cgroup_cpus,
    cgroup_memory,
    expressible,
    gunicorn_sets,
    host_memory,
    toml_line,
    web_concurrency,
)
from tests.support import contexts
from tests.support.exec_d import exec_d_output, run_with_fd3

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


# --- limits larger than the machine -------------------------------------------------------------


@pytest.fixture
def two_cores_4_gib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launch_env, "host_cpus", lambda: 2)
    monkeypatch.setattr(launch_env, "host_memory", lambda: 4 * GIB)


@pytest.mark.usefixtures("two_cores_4_gib")
@pytest.mark.parametrize(
    ("cpu_max", "cpus"),
    [
        ("6400000 100000", 2.0),  # 64 CPUs on a 2-core machine
        ("200000 100000", 2.0),
        ("150000 100000", 1.5),
        ("max 100000", 2.0),  # no limit: the machine
    ],
)
def test_cpus_are_capped_at_the_machine(tmp_path: Path, cpu_max: str, cpus: float) -> None:
    write(tmp_path, "cpu.max", cpu_max)
    assert available_cpus(tmp_path) == cpus


@pytest.mark.usefixtures("two_cores_4_gib")
@pytest.mark.parametrize(
    ("memory_max", "memory"),
    [
        (str(64 * GIB), 4 * GIB),  # a limit above the machine's memory
        (str(4 * GIB), 4 * GIB),
        (str(512 * MIB), 512 * MIB),
        ("max", 4 * GIB),
    ],
)
def test_memory_is_capped_at_the_machine(tmp_path: Path, memory_max: str, memory: int) -> None:
    write(tmp_path, "memory.max", memory_max)
    assert available_memory(tmp_path) == memory


def test_memory_limit_when_the_machine_is_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(launch_env, "host_memory", lambda: None)
    write(tmp_path, "memory.max", str(GIB))
    assert available_memory(tmp_path) == GIB
    assert available_memory(tmp_path / "nowhere") is None


@pytest.mark.usefixtures("two_cores_4_gib")
def test_web_concurrency_from_limits_larger_than_the_machine(tmp_path: Path) -> None:
    """64 CPUs and 64 GiB allowed on a 2-core, 4 GiB machine: 5 workers, not 129."""
    env = launch_env.launch_env({}, v2_tree(tmp_path, "6400000 100000", str(64 * GIB)))
    assert env["WEB_CONCURRENCY"] == "5"


@pytest.mark.usefixtures("two_cores_4_gib")
def test_web_concurrency_from_memory_above_the_machine(tmp_path: Path) -> None:
    env = launch_env.launch_env({}, v2_tree(tmp_path, "max 100000", str(64 * GIB)))
    assert env["WEB_CONCURRENCY"] == "5"  # 4 GiB / 256 MiB = 16 allows 2 x 2 + 1


def test_host_memory_from_meminfo(monkeypatch: pytest.MonkeyPatch) -> None:
    meminfo = "MemTotal:       24683656 kB\nMemFree:         1000 kB"
    monkeypatch.setattr(launch_env, "_read", lambda path: meminfo)
    assert host_memory() == 24683656 * 1024


@pytest.mark.parametrize("meminfo", [None, "", "MemTotal: lots kB", "MemTotal:"])
def test_host_memory_without_meminfo_asks_sysconf(
    monkeypatch: pytest.MonkeyPatch, meminfo: Optional[str]
) -> None:
    monkeypatch.setattr(launch_env, "_read", lambda path: meminfo)
    sizes = {"SC_PHYS_PAGES": 1024, "SC_PAGE_SIZE": 4096}
    monkeypatch.setattr(os, "sysconf", sizes.__getitem__)
    assert host_memory() == 4 * MIB


def test_host_memory_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launch_env, "_read", lambda path: None)

    def sysconf(name: str) -> int:
        raise ValueError(name)

    monkeypatch.setattr(os, "sysconf", sysconf)
    assert host_memory() is None


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
        "STREAMLIT_SERVER_PORT": "8080",
        "STREAMLIT_SERVER_ADDRESS": "0.0.0.0",
        "STREAMLIT_SERVER_HEADLESS": "true",
        "GRADIO_SERVER_PORT": "8080",
        "GRADIO_SERVER_NAME": "0.0.0.0",
    }


UI_SERVERS_SET = {
    "STREAMLIT_SERVER_PORT": "1",
    "STREAMLIT_SERVER_ADDRESS": "h",
    "STREAMLIT_SERVER_HEADLESS": "false",
    "GRADIO_SERVER_PORT": "1",
    "GRADIO_SERVER_NAME": "h",
}
"""Streamlit's and Gradio's settings, already set: the tests of the other outputs leave
them out."""


def test_launch_env_streamlit_and_gradio(tmp_path: Path) -> None:
    """Their servers read these (``streamlit run`` and ``demo.launch()`` take no port
    argument); the user's own values win."""
    env = {"PORT": "5000", "BIND_HOST": "127.0.0.1", "GRADIO_SERVER_NAME": "0.0.0.0"}
    result = launch_env.launch_env(env, v2_tree(tmp_path))
    assert {k: v for k, v in result.items() if k.startswith(("STREAMLIT", "GRADIO"))} == {
        "STREAMLIT_SERVER_PORT": "5000",
        "STREAMLIT_SERVER_ADDRESS": "127.0.0.1",
        "STREAMLIT_SERVER_HEADLESS": "true",
        "GRADIO_SERVER_PORT": "5000",
    }
    assert launch_env.launch_env({**env, **UI_SERVERS_SET}, v2_tree(tmp_path)).keys() == {
        "WEB_CONCURRENCY",
        "WEB_CONCURRENCY_SET_BY",
        "UVICORN_PORT",
        "UVICORN_HOST",
        "GUNICORN_CMD_ARGS",
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


@pytest.mark.parametrize(
    "args",
    [
        "--bind 0.0.0.0:9000",
        "--bind=unix:/tmp/gunicorn.sock",
        "-b 10.0.0.1:80",
        "-b10.0.0.1:80",
        "-Db 10.0.0.1:80",
        "-RDb10.0.0.1:80",
        "--bin 10.0.0.1:80",
        "--bi=10.0.0.1:80",
        "--timeout 60 --bind '[::1]:80' --workers 2",
        "--access-logformat '%(h)s' -b :80",
    ],
)
def test_the_users_bind_wins(tmp_path: Path, args: str) -> None:
    """gunicorn appends every --bind: adding ours would make it listen on both."""
    assert gunicorn_sets(args, GUNICORN_BIND)
    env = {"BIND_HOST": "127.0.0.1", "PORT": "5000", "GUNICORN_CMD_ARGS": args}
    assert "GUNICORN_CMD_ARGS" not in launch_env.launch_env(env, v2_tree(tmp_path))


@pytest.mark.parametrize(
    "args",
    [
        "",
        "--timeout 60",
        "--backlog 64",  # --b is ambiguous for gunicorn, --ba is --backlog
        "--b 1",
        "--access-logfile -",
        "-w 4",
        "-D",
        "--name bind",
        "--access-logformat '-b x'",
        "-- -b",  # after --, not options
        "--timeout 'unterminated",
    ],
)
def test_no_bind_of_the_users(tmp_path: Path, args: str) -> None:
    assert not gunicorn_sets(args, GUNICORN_BIND)
    env = {"BIND_HOST": "127.0.0.1", "PORT": "5000", "GUNICORN_CMD_ARGS": args}
    expected = "--bind=127.0.0.1:5000" + (f" {args}" if args else "")
    assert launch_env.launch_env(env, v2_tree(tmp_path))["GUNICORN_CMD_ARGS"] == expected


@pytest.mark.parametrize("args", ["-w 2", "--workers=2", "--workers 2"])
def test_the_users_workers_stay_theirs(tmp_path: Path, args: str) -> None:
    """gunicorn's -w beats WEB_CONCURRENCY (only the default of --workers), so the
    user's workers need nothing from us; they reach gunicorn once, unchanged."""
    env = {"BIND_HOST": "127.0.0.1", "PORT": "5000", "GUNICORN_CMD_ARGS": args}
    result = launch_env.launch_env(env, v2_tree(tmp_path))
    assert result["GUNICORN_CMD_ARGS"] == f"--bind=127.0.0.1:5000 {args}"
    assert result["WEB_CONCURRENCY"] == "3"


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


INTERPRETERS = [
    pytest.param(Path(sys.executable), id="dev"),
    pytest.param(contexts.python("3.9"), id="3.9", marks=contexts.needs_python("3.9")),
]


def run_exec_d(env: dict[str, str], python: Path = Path(sys.executable)) -> str:
    """Run launch_env.py as the launcher runs exec.d programs: fd 3 is where it writes."""
    return exec_d_output([str(python), "-I", launch_env.__file__], env)


@pytest.mark.parametrize("python", INTERPRETERS)
def test_main_writes_to_fd_3(tmp_path: Path, python: Path) -> None:
    root = v2_tree(tmp_path, cpu_max="100000 100000", memory_max=str(512 * MIB))
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
        'GRADIO_SERVER_NAME = "::"\n'
        'GRADIO_SERVER_PORT = "5000"\n'
        'GUNICORN_CMD_ARGS = "--bind=[::]:5000 --access-logformat \\"%(h)s\\""\n'
        'STREAMLIT_SERVER_ADDRESS = "::"\n'
        'STREAMLIT_SERVER_HEADLESS = "true"\n'
        'STREAMLIT_SERVER_PORT = "5000"\n'
        'UVICORN_HOST = "::"\n'
        'UVICORN_PORT = "5000"\n'
        'WEB_CONCURRENCY = "2"\n'
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
            **UI_SERVERS_SET,
        }
    )
    assert text == ""
    assert check_exec_d_output(text) == []


# --- values that are not UTF-8 ------------------------------------------------------------------


def run_exec_d_raw(
    env: dict[bytes, bytes], python: Path = Path(sys.executable)
) -> tuple[int, bytes, str]:
    """Run the program with an environment of raw bytes: its exit code, what it wrote to fd
    3 (bytes, unchecked) and its stderr."""
    code, written, stdout, stderr = run_with_fd3([str(python), "-I", launch_env.__file__], env)
    assert stdout == b""
    return code, written, stderr.decode("utf-8")


def cgroup_env(root: Path) -> dict[bytes, bytes]:
    return {
        b"PYTHON_CNB_CGROUP_ROOT": os.fsencode(v2_tree(root, "100000 100000", str(GIB))),
        **{name.encode(): value.encode() for name, value in UI_SERVERS_SET.items()},
    }


@pytest.mark.parametrize("python", INTERPRETERS)
@pytest.mark.parametrize(
    ("env", "expected", "stderr"),
    [
        (
            {b"PORT": b"80\xff"},
            {"UVICORN_HOST": "0.0.0.0"},
            "python-cnb: not setting UVICORN_PORT: PORT (b'80\\xff') is not UTF-8, and exec.d "
            "output holds only UTF-8 text; uvicorn listens on its own default port unless "
            "given --port.\n",
        ),
        (
            {b"BIND_HOST": b"h\xe9te", b"PORT": b"5000"},
            {"UVICORN_PORT": "5000"},
            "python-cnb: not setting UVICORN_HOST: BIND_HOST (b'h\\xe9te') is not UTF-8, and "
            "exec.d output holds only UTF-8 text; uvicorn listens on its own default host "
            "unless given --host.\n"
            "python-cnb: not setting GUNICORN_CMD_ARGS: BIND_HOST (b'h\\xe9te') is not UTF-8, "
            "and exec.d output holds only UTF-8 text; gunicorn gets GUNICORN_CMD_ARGS as it "
            "is, without --bind for BIND_HOST.\n",
        ),
        (
            {
                b"BIND_HOST": b"127.0.0.1",
                b"PORT": b"80\xff",
                b"GUNICORN_CMD_ARGS": b"--access-logfile /logs/\xe9t\xe9.log",
            },
            {"UVICORN_HOST": "127.0.0.1"},
            "python-cnb: not setting UVICORN_PORT: PORT (b'80\\xff') is not UTF-8, and exec.d "
            "output holds only UTF-8 text; uvicorn listens on its own default port unless "
            "given --port.\n"
            "python-cnb: not setting GUNICORN_CMD_ARGS: GUNICORN_CMD_ARGS (b'--access-logfile "
            "/logs/\\xe9t\\xe9.log') and PORT (b'80\\xff') are not UTF-8, and exec.d output "
            "holds only UTF-8 text; gunicorn gets GUNICORN_CMD_ARGS as it is, without --bind "
            "for BIND_HOST.\n",
        ),
        (
            # the user's value needs nothing from us: it passes through as it is, silently
            {
                b"BIND_HOST": b"127.0.0.1",
                b"PORT": b"5000",
                b"GUNICORN_CMD_ARGS": b"--bind 127.0.0.1:5000 --access-logfile /\xe9.log",
            },
            {"UVICORN_HOST": "127.0.0.1", "UVICORN_PORT": "5000"},
            "",
        ),
        (
            # valid UTF-8 passes through faithfully, whatever the locale
            {b"BIND_HOST": "hôte".encode(), b"PORT": b"5000", b"LANG": b"C", b"LC_ALL": b"C"},
            {
                "UVICORN_HOST": "hôte",
                "UVICORN_PORT": "5000",
                "GUNICORN_CMD_ARGS": "--bind=hôte:5000",
            },
            "",
        ),
        (
            # a value that is not UTF-8 in a variable we do not use changes nothing
            {b"WEB_CONCURRENCY": b"\xff", b"OTHER": b"\xfe"},
            {"UVICORN_HOST": "0.0.0.0", "UVICORN_PORT": "8080"},
            "",
        ),
    ],
)
def test_values_that_are_not_utf8(
    tmp_path: Path,
    python: Path,
    env: dict[bytes, bytes],
    expected: dict[str, str],
    stderr: str,
) -> None:
    """The launcher passes the environment as bytes; exec.d output is UTF-8 TOML. The
    program never fails the start: it leaves out what it cannot write, and says why."""
    code, written, said = run_exec_d_raw({**cgroup_env(tmp_path), **env}, python)
    assert (code, said) == (0, stderr)
    text = written.decode("utf-8")  # strict: what the launcher reads must be UTF-8
    assert check_exec_d_output(text) == []
    parsed = toml_loads(text)
    for name in ("WEB_CONCURRENCY", "WEB_CONCURRENCY_SET_BY"):
        if b"WEB_CONCURRENCY" not in env:
            parsed.pop(name)
    assert parsed == expected


def test_expressible_names_the_value_without_a_known_input() -> None:
    kept, problems = expressible({"A": "ok", "B": "x\udcff"}, {})
    assert kept == {"A": "ok"}
    assert problems == [
        "python-cnb: not setting B: its value (b'x\\xff') is not UTF-8, and exec.d output "
        "holds only UTF-8 text; B is left as it is."
    ]


def test_a_bug_never_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(env: object, root: object) -> dict[str, str]:
        raise KeyError("oops")

    monkeypatch.setattr(launch_env, "launch_env", broken)
    assert launch_env.main() == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "python-cnb: launch-time defaults (WEB_CONCURRENCY, server addresses) are not set: "
        "KeyError: 'oops'. This is a bug in python-cnb; please report it. The app starts "
        "without them.\n"
    )


def test_without_fd_3_it_says_so_and_exits_0(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-I", launch_env.__file__],
        env={"PYTHON_CNB_CGROUP_ROOT": str(v2_tree(tmp_path))},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0
    assert completed.stderr.startswith(
        "python-cnb: cannot write launch-time defaults to file descriptor 3 ("
    )


def test_streamlit_port_that_is_not_utf8_names_port() -> None:
    env = {"PORT": "80\udcff"}
    kept, problems = launch_env.expressible({"STREAMLIT_SERVER_PORT": "80\udcff"}, env)
    assert kept == {}
    assert problems == [
        "python-cnb: not setting STREAMLIT_SERVER_PORT: PORT (b'80\\xff') is not UTF-8, and "
        "exec.d output holds only UTF-8 text; Streamlit listens on its own default port (8501)."
    ]
