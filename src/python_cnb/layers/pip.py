"""The ``pip`` layer: pip and pip-tools in a tool venv (build, cache; never launched).

Used when ``BP_PYTHON_INSTALLER=pip``: ``pip-compile`` resolves requirement sets and
``pip-sync`` makes the app's virtualenv match them exactly. pip-tools and its dependencies
(pip included) come from the hashed set in ``data/tools/pip-tools.txt``.
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
from python_cnb.layers.uv import install_pinned_tool
from python_cnb.support.commands import run_quiet

LAYER_NAME = "pip"
TYPES = LayerTypes(build=True, cache=True)
LAYOUT = "2"


@dataclass(frozen=True)
class PipLayerMetadata:
    """What a cached pip must match to be reused."""

    python_version: str = field(metadata={"label": "Python version"})
    python_checksum: str = field(metadata={"label": "CPython archive checksum"})
    arch: str = field(metadata={"label": "target architecture"})
    tools: str = field(metadata={"label": "pip-tools version"})
    layout: str = field(metadata={"label": "python-cnb pip layout"})


@dataclass(frozen=True)
class PipTool:
    """pip and pip-tools in their own venv."""

    home: Path
    pip_version: str
    pip_tools_version: str

    @property
    def python(self) -> Path:
        return self.home / "bin" / "python"

    @property
    def description(self) -> str:
        return f"pip {self.pip_version} with pip-tools {self.pip_tools_version}"

    def pip(self, *args: str) -> list[str]:
        """``python -m pip <args>`` in the tool venv."""
        return [str(self.python), "-I", "-m", "pip", *args]

    def script(self, name: str, *args: str) -> list[str]:
        """A console script of the tool venv (``pip-compile``, ``pip-sync``)."""
        return [str(self.home / "bin" / name), *args]

    @property
    def pip_package_dir(self) -> Path:
        """The ``pip`` package alone (no dist-info), to run pip under another interpreter."""
        return next(self.home.glob("lib/python3*/site-packages/pip"))


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
    metadata = PipLayerMetadata(
        python_version=str(python.version),
        python_checksum=python.distribution.sha256,
        arch=ctx.target.arch,
        tools=spec.fingerprint,
        layout=LAYOUT,
    )
    decision = cached_layer(
        ctx.layers_dir, LAYER_NAME, types=TYPES, metadata=metadata, keep=keep_cache
    )
    log_decision(decision, f"pip-tools {spec.version}")  # type: ignore[arg-type]
    layer = decision.layer
    tool = PipTool(layer.path, "", spec.version)
    if not decision.reused:
        run_quiet(
            python.command("-m", "venv", "--clear", str(layer.path)),
            cwd=ctx.app_dir,
            # venv runs ensurepip in a child without -B: it would write ensurepip's
            # bytecode into the python layer, which then no longer matches its manifest.
            env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
            display="python -m venv (pip-tools)",
        )
        install_pinned_tool(
            "pip-tools",
            spec,
            tool.pip("install", "--no-input", "--disable-pip-version-check"),
            index.pip_options(),
            offline=index.no_index,
            cwd=ctx.app_dir,
            env=env,
            display=f"pip install pip-tools=={spec.version}",
        )
    pip_version = run_quiet(
        [str(tool.python), "-I", "-c", "import pip; print(pip.__version__)"],
        cwd=ctx.app_dir,
        env={"PATH": "/usr/bin:/bin"},
    ).strip()
    if not decision.reused:
        output.info(f"Installed pip {pip_version} and pip-tools {spec.version} (build only)")
    layer.write(TYPES, metadata)
    return PipTool(layer.path, pip_version, spec.version)
