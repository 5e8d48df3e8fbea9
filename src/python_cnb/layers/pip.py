"""The ``pip`` layer: pip and pip-tools in a tool venv (build, cache; never launched).

Used when ``BP_PYTHON_INSTALLER=pip``: ``pip-compile`` resolves requirement sets and
``pip-sync`` makes the app's virtualenv match them exactly. pip-tools and its dependencies
(pip included) come from the hashed set in ``data/tools/pip-tools.txt``, installed with the
venv's own pip (:mod:`python_cnb.layers.tools`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from python_cnb import output
from python_cnb.cnb.context import BuildContext
from python_cnb.config.index import IndexSettings
from python_cnb.config.tool_specs import ToolSpec
from python_cnb.layers.python import InstalledPython
from python_cnb.layers.tools import ToolLayer, ToolVenv, tool_venv_layer
from python_cnb.support.commands import run_quiet

LAYER = ToolLayer("pip", "pip-tools", layout="3")


@dataclass(frozen=True)
class PipTool:
    """pip and pip-tools in their own venv."""

    venv: ToolVenv
    pip_version: str
    pip_tools_version: str

    @property
    def home(self) -> Path:
        return self.venv.home

    @property
    def python(self) -> Path:
        return self.venv.python

    @property
    def description(self) -> str:
        return f"pip {self.pip_version} with pip-tools {self.pip_tools_version}"

    def pip(self, *args: str) -> list[str]:
        """``python -m pip <args>`` in the tool venv."""
        return [str(self.python), "-I", "-m", "pip", *args]

    def script(self, name: str, *args: str) -> list[str]:
        """A console script of the tool venv (``pip-compile``, ``pip-sync``)."""
        return [str(self.venv.layout.bin / name), *args]

    @property
    def pip_package_dir(self) -> Path:
        """The ``pip`` package alone (no dist-info), to run pip under another interpreter."""
        return self.venv.layout.site_packages / "pip"


def install_pip_tools(
    ctx: BuildContext,
    python: InstalledPython,
    spec: ToolSpec,
    index: IndexSettings,
    env: Mapping[str, str],
    *,
    keep_cache: bool = True,
) -> PipTool:
    """Reuse the cached tool venv, or create it and install pip-tools from its hashed set."""
    venv = tool_venv_layer(ctx, python, LAYER, spec, index, env, keep_cache=keep_cache)
    pip_version = run_quiet(
        [str(venv.python), "-I", "-c", "import pip; print(pip.__version__)"],
        cwd=ctx.app_dir,
        env={"PATH": "/usr/bin:/bin"},
    ).strip()
    if venv.fresh:
        output.info(f"Installed pip {pip_version} and pip-tools {spec.version} (build only)")
    return PipTool(venv, pip_version, spec.version)
