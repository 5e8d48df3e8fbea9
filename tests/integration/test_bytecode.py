"""Bytecode compiled at build time: the app compiles nothing when it serves, and a clean
rebuild produces the same bytes."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.support.lifecycle import Lifecycle

pytestmark = pytest.mark.integration


def _files(lifecycle: Lifecycle) -> set[str]:
    ws = lifecycle.workspace
    return {str(p) for root in (ws.layers, ws.app) for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("fixture", ["flask-app", "pyproject_app", "wsgi_cartridge"])
def test_first_request_compiles_nothing(lifecycle: Lifecycle, fixture: str) -> None:
    lifecycle.build(lifecycle.app(fixture))
    before = _files(lifecycle)
    web = lifecycle.start()
    assert web.wait_for_http("/")[0] == 200
    web.stop()
    written = sorted(_files(lifecycle) - before)
    assert not [path for path in written if path.endswith(".pyc")], written


def test_clean_rebuild_is_byte_identical(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("uv_app")
    lifecycle.build(app)
    first = {name: lifecycle.image_layer(name)["sha"] for name in ("python", "venv")}
    lifecycle.build(app, {"BUILD_NO_CACHE": "true"})
    second = {name: lifecycle.image_layer(name)["sha"] for name in ("python", "venv")}
    assert first == second


@pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
def test_a_read_only_app_is_not_said_to_fail_to_compile(
    platform_env: dict[str, str], buildpack: Path
) -> None:
    """As uid 1000 with the app's directories 0555: every file compiles, only the .pyc
    cannot be saved, and the warning says so (not "do not compile ... fail at run time")."""
    root = Path(tempfile.mkdtemp(prefix="python-cnb-read-only-app-"))
    root.chmod(0o755)  # pytest's tmp dirs are private to root
    lifecycle = Lifecycle(root, platform_env, buildpacks=(buildpack,))
    try:
        app = lifecycle.app("flask-app")
        (app / "helpers").mkdir()
        (app / "helpers" / "__init__.py").write_text("GREETING = 'hi'\n")
        for entry in [root / "apps", *(root / "apps").rglob("*")]:
            entry.chmod(0o555 if entry.is_dir() else 0o444)

        result = lifecycle.build(app, user="1000:1000")

        assert "do not compile" not in result.output
        assert "[Warning: The app's bytecode could not be written]" in result.output
        assert "Permission denied" in result.output
        assert not list(lifecycle.workspace.app.rglob("*.pyc"))
        assert lifecycle.start(user="1000:1000").wait_for_http("/")[0] == 200
    finally:
        lifecycle.close()
        for entry in [root, *root.rglob("*")]:
            if entry.is_dir() and not entry.is_symlink():
                entry.chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)
