"""The container tier: builds in a build image as 1001:1000, runs in a run image without
Python as 1002:1000. Skipped, with the reason, when no Docker daemon answers (.ci/run starts
one)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import CACHE
from tests.support.containers import docker_usable
from tools import e2e_images, package


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
def packaged() -> Path:
    """The packaged buildpack (what `make package` ships), mounted read-only."""
    return package.assemble(CACHE / "e2e" / "python-cnb")


@pytest.fixture(scope="session")
def packaged_with_runtime(cpython_mirror: object) -> Iterator[Path]:
    """The packaged buildpack with a bundled bootstrap CPython (BUNDLE_RUNTIME=1)."""
    from tools.bootstrap_runtime import prepare_runtime

    runtime = prepare_runtime(
        CACHE / "runtime", {"BP_CPYTHON_MANIFEST": str(CACHE / "mirror" / "manifest.toml")}
    )
    target = package.assemble(CACHE / "e2e" / "python-cnb-runtime", runtime=runtime)
    yield target
    shutil.rmtree(target, ignore_errors=True)
