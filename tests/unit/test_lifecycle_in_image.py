"""The launcher stand-in of the container tier: its entrypoint choices and the container CMD."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.lifecycle import REPO
from tests.unit.buildpacks import SH_PATH


@pytest.fixture
def image(tmp_path: Path) -> Path:
    """An image layout: a launch layer with a profile.d script, an app, two processes."""
    layers, app = tmp_path / "layers", tmp_path / "workspace"
    (layers / "bp_a" / "l" / "profile.d").mkdir(parents=True)
    (layers / "bp_a" / "l" / "profile.d" / "1").write_text("export FROM_PROFILE=yes\n")
    app.mkdir()
    metadata = {
        "buildpacks": [{"id": "bp/a", "layers": {}}],
        "processes": [
            {"type": "web", "command": ["bash", "-c"], "args": ['echo "web [$0] [$*]"']},
            {"type": "worker", "command": ["echo", "worker"], "args": ["default"]},
        ],
        "default_process": "web",
    }
    (tmp_path / "image.json").write_text(json.dumps(metadata))
    return tmp_path


def run(root: Path, *argv: str) -> str:
    """``python -m python_cnb_lifecycle.in_image`` on the layout, as the container runs it."""
    options = ["--layers", str(root / "layers"), "--app", str(root / "workspace")]
    result = subprocess.run(
        [sys.executable, "-m", "python_cnb_lifecycle.in_image", *options, *argv],
        env={"PATH": SH_PATH, "PYTHONPATH": str(REPO / "src")},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_the_default_process_with_and_without_a_cmd(image: Path) -> None:
    metadata = ["--metadata", str(image / "image.json")]
    assert run(image, *metadata) == "web [bash] []\n"
    assert run(image, *metadata, "--") == "web [bash] []\n"
    assert run(image, *metadata, "--", "echo replaced") == "replaced\n"


def test_a_process_type_entrypoint(image: Path) -> None:
    metadata = ["--metadata", str(image / "image.json")]
    assert run(image, *metadata, "--process", "worker") == "worker default\n"
    assert run(image, *metadata, "--process", "worker", "--", "x", "--y") == "worker x --y\n"


def test_the_launcher_entrypoint(image: Path) -> None:
    metadata = ["--metadata", str(image / "image.json"), "--launcher"]
    assert run(image, *metadata, "--", 'echo "[$FROM_PROFILE]"') == "[yes]\n"
    assert run(image, *metadata, "--", "echo", "$FROM_PROFILE") == "yes\n"
    direct = run(image, *metadata, "--", "--", "sh", "-c", 'echo "[${FROM_PROFILE:-}]"')
    assert direct == "[]\n"
