"""The self-contained packages, built once for the tools' tests (from the test mirror; the
linux/arm64 one from its arm64 STAND-IN, see tools/mirror.py: checked, never run)."""

from __future__ import annotations

import pytest
from tests.conftest import CACHE
from tests.support.servers import FileServer

from tools import package


@pytest.fixture(scope="session")
def mirror_env(cpython_mirror: FileServer, package_index: str) -> dict[str, str]:
    """Packaging settings that take the CPythons from the test mirror and the carried uv from
    the test index, over HTTP."""
    return {
        "BP_CPYTHON_MANIFEST": cpython_mirror.url("manifest.toml"),
        "PIP_INDEX_URL": package_index,
    }


@pytest.fixture(scope="session")
def built(mirror_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> package.Built:
    """``make package``: both targets."""
    return package.build(tmp_path_factory.mktemp("dist"), env=mirror_env, cache=CACHE / "runtime")
