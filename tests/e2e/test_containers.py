"""End to end in containers: build in a build image as 1001:1000 with the buildpack and the
platform directory read-only, then run the app in a run image that has no Python at all, as
1002:1000 (Paketo's users: only the group is shared)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Mapping, Optional

import docker
import pytest

from python_cnb_lifecycle.runner import Workspace
from tests.support.containers import E2E, RUN_USER, BuildContainer, build_in_container
from tests.support.lifecycle import REPO, http_get
from tests.unit.buildpacks import write_buildpack
from tools import bootstrap_runtime, package

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("variant", ["packaged", "packaged_slim"])
def test_flask_app(e2e: E2E, variant: str, request: pytest.FixtureRequest) -> None:
    """The default package (its bundled runtime) and the slim one (the image's python3)."""
    result = e2e.build(e2e.app("flask-app"), request.getfixturevalue(variant))
    assert (
        "Trusting 1 certificate file(s) from ca-certificates bindings (build only)" in result.output
    )
    assert "Installed CPython 3.12.1" in result.output
    assert (e2e.workspace.layers / "python-cnb_python" / "venv").stat().st_uid == 1001
    container, port = e2e.run()
    assert e2e.wait_for_http(container, port) == (200, "Hello from python-cnb!\n")
    assert "Listening at: http://127.0.0.1:" in container.logs()


def test_rebuild_reuses_layers(e2e: E2E, packaged: Path) -> None:
    app = e2e.app("flask-app")
    e2e.build(app, packaged)
    again = e2e.build(app, packaged)
    assert "Using cached Python 3.12.1" in again.output
    assert "Using cached virtualenv (dependencies unchanged)" in again.output
    container, port = e2e.run()
    assert e2e.wait_for_http(container, port)[0] == 200


def test_django_with_static_files(e2e: E2E, packaged: Path) -> None:
    result = e2e.build(e2e.app("django_app"), packaged)
    assert "Running 'manage.py collectstatic --noinput'" in result.output
    container, port = e2e.run()
    assert e2e.wait_for_http(container, port) == (200, "Hello from Django\n")
    assert http_get(f"http://127.0.0.1:{port}/static/site.css") == (
        200,
        "body { color: #306998; }\n",
    )


def test_uv_project(e2e: E2E, packaged: Path) -> None:
    e2e.build(e2e.app("uv_app"), packaged)
    container, port = e2e.run()
    assert e2e.wait_for_http(container, port) == (200, "Hello from the uv fixture\n")


def test_default_package_on_a_build_image_without_python(e2e: E2E, packaged: Path) -> None:
    """The self-contained package needs nothing from the build image but /bin/sh and glibc."""
    no_python = docker.from_env().containers.run(
        e2e.images["run"],
        ["sh", "-c", "command -v python3 || echo none"],
        remove=True,
        network_mode="host",
    )
    assert no_python.decode().strip() == "none"
    result = e2e.build(e2e.app("flask-app"), packaged, image="run")
    assert "Installed CPython 3.12.1" in result.output
    container, port = e2e.run()
    assert e2e.wait_for_http(container, port)[0] == 200


def test_interpreter_finds_every_library_in_the_run_image(e2e: E2E, packaged: Path) -> None:
    e2e.build(e2e.app("flask-app"), packaged)
    layers = str(e2e.workspace.layers)
    client = docker.from_env()
    script = (
        "ldd /layers/python-cnb_python/python/bin/python3.12; "
        "ldd /layers/python-cnb_python/python/lib/python3.12/lib-dynload/_ssl*.so"
    )
    output = client.containers.run(
        e2e.images["run"],
        ["sh", "-c", script],
        remove=True,
        network_mode="host",
        volumes={layers: {"bind": "/layers", "mode": "ro"}},
    ).decode()
    assert "not found" not in output, output
    assert "libpython3.12.so.1.0 => /layers/python-cnb_python/python/bin/../lib/" in output


def _pack() -> Optional[str]:
    return shutil.which("pack")


@pytest.mark.skipif(_pack() is None, reason="the pack CLI is not installed (it cannot be here)")
def test_with_pack_and_a_builder(packaged_targets: package.Built) -> None:
    """What users run: `pack build` with a builder, python-cnb given as `make package`'s
    .tgz for the builder's (this machine's) architecture."""
    import os
    import subprocess

    builder = os.environ.get("PYTHON_CNB_PACK_BUILDER")
    if not builder:
        pytest.skip("set PYTHON_CNB_PACK_BUILDER to a builder image to run this test")
    tgz = packaged_targets.archives[package.Target("linux", bootstrap_runtime.host_arch())]
    subprocess.run(
        [
            "pack",
            "build",
            "python-cnb-e2e-app",
            "--builder",
            builder,
            "--buildpack",
            str(tgz),
            "--path",
            str(REPO / "examples" / "flask-app"),
        ],
        check=True,
    )


class _Recording:
    """An executor that records the env the runner gave each phase."""

    def __init__(self, executor: BuildContainer) -> None:
        self.executor = executor
        self.envs: list[dict[str, str]] = []

    def __call__(self, argv: list[str], cwd: Path, env: Mapping[str, str]) -> tuple[int, str]:
        self.envs.append({name: self.executor.translate(v) for name, v in env.items()})
        return self.executor(argv, cwd, env)


def test_phases_get_only_the_lifecycles_env(images: dict[str, str], tmp_path: Path) -> None:
    """The lifecycle sets detect's and build's env exactly (buildpack/build.go: cmd.Env);
    ``docker exec`` would add the build image's configured Env, which holds a canary."""
    configured = docker.from_env().images.get(images["build"]).attrs["Config"]["Env"]
    assert "PYTHON_CNB_CANARY=leak" in configured
    buildpack = write_buildpack(
        tmp_path / "buildpacks",
        "test/env",
        detect="env | sed 's/^/detect env: /'\n",
        build="env | sed 's/^/build env: /'\n",
    )
    recordings: list[_Recording] = []

    def record(executor: BuildContainer) -> _Recording:
        recordings.append(_Recording(executor))
        return recordings[-1]

    app = tmp_path / "app"
    app.mkdir()
    result = build_in_container(
        images["build"], app, Workspace(tmp_path / "ws"), buildpack, "0.0.1", observe=record
    )
    (recording,) = recordings
    assert result.success, result.output
    assert "PYTHON_CNB_CANARY" not in result.output
    shell = {"PWD", "OLDPWD", "SHLVL", "_"}  # what sh itself sets
    assert len(recording.envs) == 2
    assert "CNB_LAYERS_DIR" in recording.envs[1]
    for phase, expected in zip(("detect", "build"), recording.envs):
        seen = dict(
            line[len(f"{phase} env: ") :].partition("=")[::2]
            for line in result.output.splitlines()
            if line.startswith(f"{phase} env: ")
        )
        assert {k: v for k, v in seen.items() if k not in shell} == expected


def test_build_and_run_users_differ_and_share_a_group(e2e: E2E, packaged: Path) -> None:
    """Build as 1001:1000, run as 1002:1000 (Paketo's users): the run user must read every
    layer and app file, and run every executable, through group or other permissions."""
    e2e.build(e2e.app("flask-app"), packaged)
    venv = (e2e.workspace.layers / "python-cnb_python" / "venv").stat()
    assert (venv.st_uid, venv.st_gid) == (1001, 1000)
    script = (
        "id -u; id -g; "
        "find /layers /workspace ! -readable; "
        "find /layers /workspace -type d ! -executable; "
        "find /layers /workspace -type f -perm -u+x ! -executable; "
        "/layers/python-cnb_python/venv/bin/python -c 'import flask; print(\"flask ok\")'"
    )
    output = (
        docker.from_env()
        .containers.run(
            e2e.images["run"],
            ["sh", "-c", script],
            remove=True,
            network_mode="host",
            user=RUN_USER,
            volumes={
                str(e2e.workspace.layers): {"bind": "/layers", "mode": "ro"},
                str(e2e.workspace.app): {"bind": "/workspace", "mode": "ro"},
            },
            environment={
                "LD_LIBRARY_PATH": "/layers/python-cnb_python/python/lib",
            },
        )
        .decode()
    )
    assert output.splitlines() == ["1002", "1000", "flask ok"], output
