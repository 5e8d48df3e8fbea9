"""Procfile processes, launched the way the launcher would launch them."""

from __future__ import annotations

import pytest

from tests.support.lifecycle import Lifecycle

pytestmark = pytest.mark.integration


def test_procfile_types_and_default(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(lifecycle.app("procfile_multiple"))
    assert "web (default): python -m http.server $PORT --bind 127.0.0.1" in result.output
    assert "worker: python -c \"print('working')\"" in result.output
    image = lifecycle.workspace.image_metadata.read_text()
    assert '"default_process": "web"' in image

    web = lifecycle.start()
    assert web.wait_for_http("/")[0] == 200  # $PORT expanded by the shell

    worker = lifecycle.start("worker")
    assert worker.process.wait(timeout=30) == 0
    assert worker.output == "working\n"


def test_port_from_the_platform_beats_the_default(lifecycle: Lifecycle) -> None:
    lifecycle.build(lifecycle.app("procfile_multiple"))
    assert lifecycle.exec(["sh", "-c", "echo $PORT"]).stdout == "8080\n"
    assert lifecycle.exec(["sh", "-c", "echo $PORT"], env={"PORT": "9123"}).stdout == "9123\n"
