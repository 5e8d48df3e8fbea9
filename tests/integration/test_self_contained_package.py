"""The default package (``make package``'s .tgz for this machine) builds and serves an app on
its own trimmed bootstrap CPython, with no container: the build image's ``python3`` here is
a decoy that records being run. (tests/e2e builds on an image with no python3 at all.)"""

from __future__ import annotations

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
def self_contained(cpython_mirror: FileServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This machine's target's .tgz, unpacked."""
    target = package.Target("linux", bootstrap_runtime.host_arch())
    built = package.build(
        tmp_path_factory.mktemp("dist"),
        selected=[target],
        env={"BP_CPYTHON_MANIFEST": cpython_mirror.url("manifest.toml")},
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
