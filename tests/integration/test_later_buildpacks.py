"""Buildpacks after python-cnb in the same build (a group: python-cnb, then a test buildpack
from tests/fixtures/later_pip_buildpack)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.lifecycle import FIXTURES, Lifecycle

pytestmark = pytest.mark.integration

LATER_PIP = FIXTURES / "later_pip_buildpack"


@pytest.mark.parametrize("env", [{}, {"BP_PYTHON_INSTALLER": "pip"}], ids=["uv", "pip"])
def test_a_later_buildpacks_pip_install_lands_in_the_venv(
    tmp_path: Path, platform_env: dict[str, str], buildpack: Path, env: dict[str, str]
) -> None:
    """Issue 12 item 10 (Heroku's testing buildpack): ``pip install six`` run by a later
    buildpack installs into the app's venv; the launch image still has no pip."""
    runner = Lifecycle(tmp_path, platform_env, buildpacks=(buildpack, LATER_PIP))
    try:
        app = runner.app("flask-app")
        result = runner.build(app, env)

        assert re.search(
            r"later-pip: pip is /\S+/python-cnb_python/venv-pip/bin/pip\n", result.output
        )
        assert "Successfully installed six-1.17.0" in result.output
        assert re.search(
            r"later-pip: six in /\S+/python-cnb_python/venv/lib/python3\.12/site-packages/six\.py",
            result.output,
        )
        assert (runner.site_packages() / "six.py").is_file()  # in the exported venv

        assert runner.exec(["python", "-c", "import six, flask"]).returncode == 0
        found = runner.exec(["sh", "-c", "command -v pip pip3 || true"]).stdout
        assert "python-cnb_python" not in found, found  # this machine's /usr/bin/pip aside
        for command in (
            ["python", "-c", "import pip"],
            ["python", "-m", "pip", "--version"],
        ):
            assert runner.exec(command).returncode != 0, command
        if env:  # pip-tools' own tool layer (its pip targets a tool venv) stays as it was
            pip_tools = runner.cache_layer("pip")["types"]
            assert pip_tools == {"build": True, "launch": False, "cache": True}
        layers = sorted(p.name for p in runner.layer("venv").parent.iterdir())
        assert layers == ["python", "runtime", "venv"]  # the pip layer is build-only

        # A rebuild: python-cnb's venv check sees six (no app file lists it), the later
        # buildpack installs it again, and the image has it.
        again = runner.build(app, env)
        assert re.search(r"later-pip: six in /\S+/python-cnb_python/venv/", again.output)
        assert runner.exec(["python", "-c", "import six, flask"]).returncode == 0
    finally:
        runner.close()
