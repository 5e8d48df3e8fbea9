"""The ``venv`` layer: the app's dependencies in a virtual environment (build, launch, cache)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from python_cnb import output
from python_cnb.bytecode import compile_bytecode
from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.layer_env import LayerEnv
from python_cnb.cnb.layers import LayerTypes, cached_layer
from python_cnb.layers import log_decision
from python_cnb.layers.pip import PipTool
from python_cnb.layers.python import InstalledPython
from python_cnb.subprocess_runner import run_quiet, run_streamed

LAYER_NAME = "venv"
TYPES = LayerTypes(build=True, launch=True, cache=True)
LAYOUT = "1"


@dataclass(frozen=True)
class VenvLayerMetadata:
    """What a cached virtualenv must match to be reused."""

    python_version: str = field(metadata={"label": "Python version"})
    python_checksum: str = field(metadata={"label": "CPython archive checksum"})
    os: str = field(metadata={"label": "target OS"})
    arch: str = field(metadata={"label": "target architecture"})
    distro_name: str = field(metadata={"label": "target distribution"})
    distro_version: str = field(metadata={"label": "target distribution version"})
    engine: str = field(metadata={"label": "installer"})
    requirements: str = field(metadata={"label": "requirements (fingerprint)"})
    layout: str = field(metadata={"label": "python-cnb virtualenv layout"})


@dataclass(frozen=True)
class InstalledVenv:
    """The app's virtualenv."""

    path: Path
    python: Path
    reused: bool


def create_venv(python: InstalledPython, path: Path, cwd: Path) -> None:
    """A venv without pip: nothing but the app's packages reaches the launch image."""
    run_quiet(
        python.command("-m", "venv", "--without-pip", "--clear", str(path)),
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin"},
        display="python -m venv --without-pip",
    )


def install_requirements(
    ctx: BuildContext,
    python: InstalledPython,
    pip: PipTool | None,
    *,
    requirements: str,
    fingerprint: str,
    tool_env: Mapping[str, str],
    keep_cache: bool = True,
) -> InstalledVenv:
    """Reuse the cached venv while its key holds, else build it anew with pip."""
    metadata = VenvLayerMetadata(
        python_version=str(python.version),
        python_checksum=python.distribution.sha256,
        os=ctx.target.os,
        arch=ctx.target.arch,
        distro_name=ctx.target.distro_name,
        distro_version=ctx.target.distro_version,
        engine=f"pip {pip.version}" if pip is not None else "none",
        requirements=fingerprint,
        layout=LAYOUT,
    )
    decision = cached_layer(
        ctx.layers_dir, LAYER_NAME, types=TYPES, metadata=metadata, keep=keep_cache
    )
    log_decision(decision, "virtualenv")  # type: ignore[arg-type]
    layer = decision.layer
    venv_python = layer.path / "bin" / "python"
    if not decision.reused:
        output.info("Creating virtual environment")
        create_venv(python, layer.path, ctx.app_dir)
    if not decision.reused and pip is not None:
        run_streamed(
            pip.command(
                "--python",
                str(venv_python),
                "install",
                "--no-input",
                "--progress-bar",
                "off",
                "--no-compile",
                "-r",
                requirements,
            ),
            cwd=ctx.app_dir,
            env=tool_env,
            display=f"pip install -r {requirements}",
        )
        compile_bytecode(venv_python, [layer.path / python.site_packages_name], cwd=ctx.app_dir)
    _environment(layer.path).write(layer.path)
    layer.write(TYPES, metadata)
    return InstalledVenv(layer.path, venv_python, decision.reused)


def _environment(venv: Path) -> LayerEnv:
    return LayerEnv().override("VIRTUAL_ENV", str(venv))
