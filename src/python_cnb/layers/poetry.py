"""The ``poetry`` layer: Poetry in a tool venv (build, cache; never launched).

Poetry, its dependencies and poetry-plugin-pypi-mirror (which lets a platform's index
setting reach Poetry without editing pyproject.toml) come from the hashed set in
``data/tools/poetry.txt``, installed with uv.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from python_cnb import output
from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.layers import LayerTypes, cached_layer
from python_cnb.config.index import IndexSettings
from python_cnb.config.tool_specs import ToolSpec
from python_cnb.layers import log_decision
from python_cnb.layers.python import InstalledPython
from python_cnb.layers.uv import UvTool, install_pinned_tool
from python_cnb.support.commands import run_quiet

LAYER_NAME = "poetry"
TYPES = LayerTypes(build=True, cache=True)
LAYOUT = "1"


@dataclass(frozen=True)
class PoetryLayerMetadata:
    """What a cached Poetry must match to be reused."""

    python_version: str = field(metadata={"label": "Python version"})
    python_checksum: str = field(metadata={"label": "CPython archive checksum"})
    arch: str = field(metadata={"label": "target architecture"})
    poetry: str = field(metadata={"label": "Poetry version"})
    layout: str = field(metadata={"label": "python-cnb Poetry layout"})


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
    metadata = PoetryLayerMetadata(
        python_version=str(python.version),
        python_checksum=python.distribution.sha256,
        arch=ctx.target.arch,
        poetry=spec.fingerprint,
        layout=LAYOUT,
    )
    decision = cached_layer(
        ctx.layers_dir, LAYER_NAME, types=TYPES, metadata=metadata, keep=keep_cache
    )
    log_decision(decision, f"Poetry {spec.version}")  # type: ignore[arg-type]
    layer = decision.layer
    if not decision.reused:
        run_quiet(
            python.command("-m", "venv", "--without-pip", "--clear", str(layer.path)),
            cwd=ctx.app_dir,
            env={"PATH": "/usr/bin:/bin"},
            display="python -m venv (Poetry)",
        )
        install_pinned_tool(
            "poetry",
            spec,
            [
                str(uv.binary),
                "pip",
                "install",
                "--python",
                str(layer.path / "bin" / "python"),
                "--no-progress",
            ],
            index.uv_options(),
            offline=index.no_index,
            cwd=ctx.app_dir,
            env=env,
            display=f"uv pip install poetry=={spec.version}",
        )
        output.info(f"Installed Poetry {spec.version} (build only)")
    layer.write(TYPES, metadata)
    plugin = any(layer.path.glob("lib/python3*/site-packages/poetry_plugin_pypi_mirror"))
    return PoetryTool(layer.path / "bin" / "poetry", spec.version, plugin)
