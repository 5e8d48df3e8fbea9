"""Launch-time defaults from the exec.d program: WEB_CONCURRENCY from the container's cgroup
limits, server addresses from PORT and BIND_HOST, FORWARDED_ALLOW_IPS for generated web."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tools.ports import free_port

from python_cnb.programs.launch_env import host_cpus, host_memory, web_concurrency
from tests.support.lifecycle import Lifecycle, http_get

pytestmark = pytest.mark.integration


def cgroup_v2(root: Path, cpu_max: str, memory_max: str) -> Path:
    root.mkdir(parents=True)
    (root / "cpu.max").write_text(cpu_max + "\n")
    (root / "memory.max").write_text(memory_max + "\n")
    return root


def cgroup_v1(root: Path, quota: str, period: str, limit: str) -> Path:
    (root / "cpu").mkdir(parents=True)
    (root / "memory").mkdir()
    (root / "cpu" / "cpu.cfs_quota_us").write_text(quota + "\n")
    (root / "cpu" / "cpu.cfs_period_us").write_text(period + "\n")
    (root / "memory" / "memory.limit_in_bytes").write_text(limit + "\n")
    return root


def launch_env(lifecycle: Lifecycle, **env: str) -> dict[str, str]:
    lines = lifecycle.exec(["env"], env=env).stdout.splitlines()
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def built(lifecycle: Lifecycle) -> Lifecycle:
    lifecycle.build(lifecycle.app("flask_noprocfile"))
    return lifecycle


def test_cgroup_v2_limits(built: Lifecycle, tmp_path: Path) -> None:
    root = cgroup_v2(tmp_path / "v2", "150000 100000", str(1024**3))  # 1.5 CPUs, 1 GiB
    env = launch_env(built, PYTHON_CNB_CGROUP_ROOT=str(root))
    assert env["WEB_CONCURRENCY"] == "4"  # min(2 x 2 + 1, 1 GiB / 256 MiB)
    assert env["WEB_CONCURRENCY_SET_BY"] == "python-cnb"


def test_cgroup_v1_limits(built: Lifecycle, tmp_path: Path) -> None:
    root = cgroup_v1(tmp_path / "v1", "100000", "100000", str(2 * 1024**3))  # 1 CPU, 2 GiB
    assert launch_env(built, PYTHON_CNB_CGROUP_ROOT=str(root))["WEB_CONCURRENCY"] == "3"


def test_no_limits_uses_the_machine(built: Lifecycle, tmp_path: Path) -> None:
    root = cgroup_v2(tmp_path / "v2", "max 100000", "max")
    expected = web_concurrency(host_cpus(), host_memory())
    assert launch_env(built, PYTHON_CNB_CGROUP_ROOT=str(root))["WEB_CONCURRENCY"] == str(expected)


def test_limits_above_the_machine_are_capped(built: Lifecycle, tmp_path: Path) -> None:
    root = cgroup_v2(tmp_path / "v2", "6400000 100000", str(1024**4))  # 64 CPUs, 1 TiB
    expected = web_concurrency(host_cpus(), host_memory())
    assert launch_env(built, PYTHON_CNB_CGROUP_ROOT=str(root))["WEB_CONCURRENCY"] == str(expected)


def test_a_set_value_wins(built: Lifecycle) -> None:
    env = launch_env(built, WEB_CONCURRENCY="7")
    assert env["WEB_CONCURRENCY"] == "7" and "WEB_CONCURRENCY_SET_BY" not in env


def test_gunicorn_runs_that_many_workers(built: Lifecycle, tmp_path: Path) -> None:
    root = cgroup_v2(tmp_path / "v2", "150000 100000", str(1024**3))
    web = built.start(env={"PYTHON_CNB_CGROUP_ROOT": str(root)})
    assert web.wait_for_http("/")[0] == 200
    # Access log on stdout, for the generated gunicorn process (written after the answer).
    web.wait_for_output('"GET / HTTP/1.1" 200')
    output = web.wait_for_output("Booting worker with pid", 4)
    assert output.count("Booting worker with pid") == 4, output


def test_the_users_gunicorn_bind_and_workers_win(built: Lifecycle) -> None:
    """With BIND_HOST set, a --bind of the user's in GUNICORN_CMD_ARGS is the only one:
    gunicorn would listen on both otherwise. The user's -w beats WEB_CONCURRENCY."""
    port = free_port()
    web = built.start(
        env={"GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} -w 2", "WEB_CONCURRENCY": "3"}
    )
    web.wait_for_output(f"Listening at: http://127.0.0.1:{port}", timeout=60)
    assert http_get(f"http://127.0.0.1:{port}/")[0] == 200
    web.wait_for_output("Booting worker with pid", 2)
    time.sleep(1)  # a third worker would boot by now
    assert web.output.count("Listening at:") == 1, web.output
    assert f"127.0.0.1:{web.port}" not in web.output
    assert web.output.count("Booting worker with pid") == 2, web.output


def test_uvicorn_follows_web_concurrency(lifecycle: Lifecycle) -> None:
    lifecycle.build(lifecycle.app("fastapi_app"))
    web = lifecycle.start(env={"WEB_CONCURRENCY": "2"})
    assert web.wait_for_http("/")[0] == 200
    output = web.wait_for_output("Started server process", 2)
    assert output.count("Started server process") == 2, output


def test_generated_web_trusts_forwarded_headers(built: Lifecycle) -> None:
    env_file = built.layer("runtime") / "env.launch" / "web" / "FORWARDED_ALLOW_IPS.default"
    assert env_file.read_text() == "*"
    assert "FORWARDED_ALLOW_IPS" not in launch_env(built)  # web only, not other processes


def test_procfile_processes_get_no_server_defaults(lifecycle: Lifecycle) -> None:
    lifecycle.build(lifecycle.app("procfile_multiple"))
    assert not (lifecycle.layer("runtime") / "env.launch" / "web").exists()
    assert launch_env(lifecycle)["PORT"] == "8080"
