"""A build as the lifecycle runs it in production: a non-root user, a read-only buildpack."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.lifecycle import Lifecycle

pytestmark = pytest.mark.integration

USER = "1000:1000"


@pytest.fixture
def world_readable_root() -> Iterator[Path]:
    """pytest's tmp dirs are private to root; the build user must be able to reach this."""
    root = Path(tempfile.mkdtemp(prefix="python-cnb-nonroot-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def make_read_only(path: Path) -> None:
    for entry in [path, *path.rglob("*")]:
        if not entry.is_symlink():
            entry.chmod(stat.S_IMODE(entry.stat().st_mode) & ~0o222)


@pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
def test_non_root_build_with_read_only_buildpack(
    world_readable_root: Path, platform_env: dict[str, str], buildpack: Path
) -> None:
    read_only_bp = world_readable_root / "buildpack"
    shutil.copytree(buildpack, read_only_bp)
    make_read_only(read_only_bp)
    shipped = sorted(read_only_bp.rglob("*"))
    lifecycle = Lifecycle(world_readable_root, platform_env, buildpacks=(read_only_bp,))
    try:
        app = lifecycle.app("flask-app")
        for entry in [world_readable_root / "apps", *(world_readable_root / "apps").rglob("*")]:
            entry.chmod(stat.S_IMODE(entry.stat().st_mode) | 0o755 if entry.is_dir() else 0o644)

        result = lifecycle.build(app, user=USER)

        assert "Installed CPython 3.12.1" in result.output
        venv = lifecycle.layer("venv")
        assert venv.stat().st_uid == 1000
        # Nothing written into the buildpack (it may ship bytecode of its own).
        assert sorted(read_only_bp.rglob("*")) == shipped

        web = lifecycle.start(user=USER)
        assert web.wait_for_http("/")[0] == 200

        again = lifecycle.build(app, user=USER)
        assert "Using cached virtualenv" in again.output
    finally:
        lifecycle.close()
