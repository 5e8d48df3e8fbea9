"""The ``venv-pip`` layer: a build-only ``pip`` that installs into the app's venv (a real venv
made from this interpreter, real bundled pip, a local wheel)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from python_cnb.cnb import toml_file
from python_cnb.layers.build_pip import write_build_pip
from python_cnb.layers.python import InstalledPython
from python_cnb.layers.uv import bundled_pip
from python_cnb.python.distributions import Distribution
from python_cnb.python.version import PythonVersion
from tests.support.contexts import build_context
from tests.support.wheels import make_wheel

VERSION = PythonVersion.parse(platform.python_version())


def this_python() -> InstalledPython:
    """The interpreter running the tests, as the python layer's (its bundled pip is real)."""
    distribution = Distribution(VERSION, "https://example.com/cpython", "0" * 64, "linux", "amd64")
    python = InstalledPython(Path(sys.base_prefix), VERSION, distribution, reused=True)
    try:
        bundled_pip(python)
    except IndexError:
        pytest.skip("this interpreter has no bundled pip wheel (ensurepip)")
    return python


def test_pip_installs_into_the_venv_and_the_layer_is_build_only(tmp_path: Path) -> None:
    ctx = build_context(tmp_path)
    venv = ctx.layers_dir / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    make_wheel(tmp_path / "wheels", "demo-tool", "1.0")

    pip = write_build_pip(ctx, this_python(), venv / "bin" / "python")

    assert pip == ctx.layers_dir / "venv-pip" / "bin" / "pip"
    assert toml_file.read(ctx.layers_dir / "venv-pip.toml")["types"] == {
        "build": True,
        "launch": False,
        "cache": False,
    }
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PIP_CONFIG_FILE": os.devnull}
    for name in ("pip", "pip3"):
        assert (pip.parent / name).stat().st_mode & 0o111
    subprocess.run(
        [
            str(pip.parent / "pip3"),
            "install",
            "--no-index",
            "--find-links",
            str(tmp_path / "wheels"),
            "demo-tool",
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    site = venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    assert (site / "demo_tool-1.0.dist-info").is_dir()
    assert not list(site.glob("pip*"))  # pip ran from its wheel: none installed in the venv


def test_the_layer_is_written_anew(tmp_path: Path) -> None:
    ctx = build_context(tmp_path)
    stale = ctx.layers_dir / "venv-pip" / "bin" / "pip-leftover"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")
    write_build_pip(ctx, this_python(), ctx.layers_dir / "venv" / "bin" / "python")
    assert sorted(p.name for p in stale.parent.iterdir()) == ["pip", "pip3"]
