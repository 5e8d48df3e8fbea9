"""The ``pip`` layer: pip in a tool venv of its own (build, cache; never launched).

pip comes from the interpreter's bundled ``ensurepip`` wheel, so it needs no network and its
version follows the interpreter's checksum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from python_cnb import output
from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.layers import LayerTypes, cached_layer
from python_cnb.layers import log_decision
from python_cnb.layers.python import InstalledPython
from python_cnb.subprocess_runner import run_quiet

LAYER_NAME = "pip"
TYPES = LayerTypes(build=True, cache=True)
LAYOUT = "1"


@dataclass(frozen=True)
class PipLayerMetadata:
    """What a cached pip must match to be reused."""

    python_version: str = field(metadata={"label": "Python version"})
    python_checksum: str = field(metadata={"label": "CPython archive checksum"})
    arch: str = field(metadata={"label": "target architecture"})
    layout: str = field(metadata={"label": "python-cnb pip layout"})


@dataclass(frozen=True)
class PipTool:
    """pip, run as ``<tool python> -m pip --python <target> ...``."""

    python: Path
    version: str

    def command(self, *args: str) -> list[str]:
        """The argv to run pip with ``args``."""
        return [str(self.python), "-I", "-m", "pip", *args]


def install_pip(ctx: BuildContext, python: InstalledPython, *, keep_cache: bool = True) -> PipTool:
    """Reuse the cached pip, or create a tool venv with the interpreter's bundled pip."""
    metadata = PipLayerMetadata(
        python_version=str(python.version),
        python_checksum=python.distribution.sha256,
        arch=ctx.target.arch,
        layout=LAYOUT,
    )
    decision = cached_layer(
        ctx.layers_dir, LAYER_NAME, types=TYPES, metadata=metadata, keep=keep_cache
    )
    log_decision(decision, "pip")  # type: ignore[arg-type]
    layer = decision.layer
    tool_python = layer.path / "bin" / "python"
    if not decision.reused:
        run_quiet(
            python.command("-m", "venv", "--clear", str(layer.path)),
            cwd=ctx.app_dir,
            env={"PATH": "/usr/bin:/bin"},
            display="python -m venv (pip)",
        )
    version = run_quiet(
        [str(tool_python), "-I", "-c", "import pip; print(pip.__version__)"],
        cwd=ctx.app_dir,
        env={"PATH": "/usr/bin:/bin"},
    ).strip()
    if not decision.reused:
        output.info(f"Installed pip {version} (build only)")
    layer.write(TYPES, metadata)
    return PipTool(tool_python, version)
