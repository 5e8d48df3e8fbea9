"""The default package (``make package``'s .tgz for this machine) builds and serves an app on
its own trimmed bootstrap CPython, with no container: the build image's ``python3`` here is
a decoy that records being run. (tests/e2e builds on an image with no python3 at all.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from python_cnb.support.archive import extract
from python_cnb_lifecycle.launcher import RUN_IMAGE_PATH
from python_cnb_lifecycle.runner import build
from tests.conftest import CACHE
from tests.support.lifecycle import OPERATOR_ENV, Lifecycle
from tests.support.servers import FileServer
from tools import bootstrap_runtime, package

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def self_contained(
    cpython_mirror: FileServer, package_index: str, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """This machine's target's .tgz, unpacked."""
    target = package.Target("linux", bootstrap_runtime.host_arch())
    built = package.build(
        tmp_path_factory.mktemp("dist"),
        selected=[target],
        env={
            "BP_CPYTHON_MANIFEST": cpython_mirror.url("manifest.toml"),
            "PIP_INDEX_URL": package_index,
        },
        cache=CACHE / "runtime",
    )
    buildpack = tmp_path_factory.mktemp("buildpack") / "python-cnb"
    extract(built.archives[target], buildpack)
    return buildpack


def test_builds_and_serves_on_the_bundled_runtime(
    self_contained: Path, platform_env: dict[str, str], tmp_path: Path
) -> None:
    decoy = tmp_path / "image-bin"
    decoy.mkdir()
    used = tmp_path / "decoy-python3-was-run"
    for name in ("python3", "python3.13", "python3.12", "python3.11", "python3.9"):
        (decoy / name).write_text(f'#!/bin/sh\necho "$0 $*" >> {used}\nexit 3\n')
        (decoy / name).chmod(0o755)
    runner = Lifecycle(tmp_path / "lc", platform_env, buildpacks=(self_contained,))
    try:
        app = runner.app("flask-app")
        result = build(
            app,
            runner.workspace,
            env=platform_env,
            build_config_env=OPERATOR_ENV,
            buildpacks=[self_contained],
            image_env={"PATH": f"{decoy}:{RUN_IMAGE_PATH}", "HOME": str(tmp_path / "home")},
        )
        assert result.success, result.output
        assert "Installed CPython 3.12.1" in result.output
        assert not used.exists(), used.read_text()
        web = runner.start()
        assert web.wait_for_http("/") == (200, "Hello from python-cnb!\n")
    finally:
        runner.close()


def test_an_offline_build_uses_the_carried_uv_and_ships_no_uv(
    self_contained: Path, platform_env: dict[str, str], tmp_path: Path
) -> None:
    """Issue 12 item 10: a vendored (offline) app needs no uv wheel of its own; the package's
    uv is used, nothing is fetched, and no uv reaches the image."""
    runner = Lifecycle(tmp_path / "lc", platform_env, buildpacks=(self_contained,))
    try:
        app = runner.app("flask-app")
        (app / "vendor").mkdir()
        for prefix in OFFLINE_WHEELS:
            for wheel in (CACHE / "index" / "files").glob(f"{prefix}*.whl"):
                shutil.copyfile(wheel, app / "vendor" / wheel.name)
        unreachable = {**platform_env, "PIP_INDEX_URL": "http://127.0.0.1:9/simple/"}
        result = build(
            app,
            runner.workspace,
            env=unreachable,
            build_config_env=OPERATOR_ENV,
            buildpacks=[self_contained],
        )
        assert result.success, result.output
        assert "Installing offline from the vendored packages in vendor/" in result.output
        assert "Using uv 0.13.9 carried by the buildpack" in result.output
        assert runner.start().wait_for_http("/")[0] == 200
        listed = runner.exec(["sh", "-c", "ls vendor; command -v uv || echo no-uv"])
        assert "uv-" not in listed.stdout and "no-uv" in listed.stdout, listed.stdout
    finally:
        runner.close()


OFFLINE_WHEELS = (
    "flask-3.1.3",
    "werkzeug-3.1.9",
    "jinja2-3.1.6",
    "markupsafe-3.0.4-cp312",
    "itsdangerous-2.2.0",
    "click-8.5.1",
    "blinker-1.9.0",
    "gunicorn-27.0.1",
    "packaging-26.3",
)
"""flask-app's packages and the server python-cnb adds; no uv."""
