"""Bytecode compiled at build time: the app compiles nothing when it serves, and a clean
rebuild produces the same bytes."""

from __future__ import annotations

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
