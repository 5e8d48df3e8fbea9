"""The ``poetry`` layer: Poetry in a tool venv (build, cache; never launched).

Poetry, its dependencies and poetry-plugin-pypi-mirror (which lets a platform's index
setting reach Poetry without editing pyproject.toml) come from the hashed set in
``data/tools/poetry.txt``, installed with uv (:mod:`python_cnb.layers.tools`).
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
from python_cnb.layers.tools import ToolLayer, tool_venv_layer
from python_cnb.layers.uv import UvTool

LAYER = ToolLayer("poetry", "Poetry", layout="2")


@dataclass(frozen=True)
class PoetryTool:
    """The ``poetry`` command."""

    binary: Path
    version: str
    mirror_plugin: bool

    @property
    def description(self) -> str:
        return f"Poetry {self.version}"


def install_poetry(
    ctx: BuildContext,
    python: InstalledPython,
    uv: UvTool,
    spec: ToolSpec,
    index: IndexSettings,
    env: Mapping[str, str],
    *,
    keep_cache: bool = True,
) -> PoetryTool:
    """Reuse the cached Poetry, or install it into a tool venv with uv."""
    venv = tool_venv_layer(
        ctx, python, LAYER, spec, index, env, uv=uv.binary, keep_cache=keep_cache
    )
    if venv.fresh:
        output.info(f"Installed Poetry {spec.version} (build only)")
    plugin = (venv.layout.site_packages / "poetry_plugin_pypi_mirror").is_dir()
    return PoetryTool(venv.layout.bin / "poetry", spec.version, plugin)
