"""The container tier: builds in a build image as 1001:1000, runs in a run image without
Python as 1002:1000. Skipped, with the reason, when no Docker daemon answers (.ci/run starts
one)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest

from python_cnb.support.archive import extract
from tests.conftest import CACHE
from tests.support.containers import E2E, docker_usable
from tests.support.servers import FileServer
from tools import bootstrap_runtime, e2e_images, package


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = docker_usable()
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            if reason is not None:
                item.add_marker(
                    pytest.mark.skip(reason=f"container tier skipped: no usable Docker ({reason})")
                )


@pytest.fixture(scope="session")
def images() -> dict[str, str]:
    """The build and run images (debootstrap, cached by recipe)."""
    return {"build": e2e_images.ensure(e2e_images.BUILD), "run": e2e_images.ensure(e2e_images.RUN)}


@pytest.fixture(scope="session")
def packaged_targets(cpython_mirror: FileServer, package_index: str) -> package.Built:
    """``make package`` with the test mirror's CPythons: a self-contained package per target.
    The linux/arm64 one is built from the mirror's arm64 STAND-IN (x86-64 CPython with
    AArch64 ELF headers, see tools/mirror.py): checked, never run."""
    return package.build(
        CACHE / "e2e" / "dist",
        env={
            "BP_CPYTHON_MANIFEST": cpython_mirror.url("manifest.toml"),
            "PIP_INDEX_URL": package_index,
        },
        cache=CACHE / "runtime",
    )


@pytest.fixture(scope="session")
def packaged(packaged_targets: package.Built) -> Path:
    """The default package for this machine's target, as users take it: the linux/<arch>
    buildpack of the multi-platform layout with its single-target buildpack.toml, i.e. that
    target's .tgz unpacked (self-contained: a trimmed bootstrap CPython under runtime/).
    Mounted read-only."""
    tgz = packaged_targets.archives[package.Target("linux", bootstrap_runtime.host_arch())]
    target = CACHE / "e2e" / "python-cnb"
    shutil.rmtree(target, ignore_errors=True)
    extract(tgz, target)
    return target


@pytest.fixture(scope="session")
def packaged_slim() -> Path:
    """The slim package (``make package-slim``): no runtime, the build image's python3."""
    return package.assemble(CACHE / "e2e" / "python-cnb-slim")


@pytest.fixture
def e2e(tmp_path: Path, images: dict[str, str], platform_env: dict[str, str]) -> Iterator[E2E]:
    """One app's workspace, built and run in containers; its app containers stopped after."""
    runner = E2E(tmp_path, images, platform_env)
    yield runner
    runner.close()
