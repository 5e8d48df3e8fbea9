"""Build tools in a venv of their own, in a build-only cached layer (never launched).

One pattern for pip-tools (:mod:`python_cnb.layers.pip`) and Poetry
(:mod:`python_cnb.layers.poetry`): the layer is kept while the interpreter, the target
architecture, the tool set and the layer's layout are unchanged; else it is emptied, a venv
is made with the interpreter, and the tool's requirement set (hash-checked unless the
platform's setting or the app's constraint chose another version) is installed into it, with
uv when given, else with the venv's own pip.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

from python_cnb.buildpack_error import BuildpackError
from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.layers import LayerTypes, cached_layer
from python_cnb.config.index import IndexSettings
from python_cnb.config.tool_specs import ToolSpec
from python_cnb.layers import log_decision
from python_cnb.layers.python import InstalledPython
from python_cnb.python.layout import PythonLayout
from python_cnb.support.commands import CommandFailed, run_quiet

TYPES = LayerTypes(build=True, cache=True)


@dataclass(eq=False)
class ToolInstallFailed(BuildpackError):
    """A build tool could not be fetched or installed."""

    tool: str
    version: str
    output: str
    offline: bool
    origin: Optional[str] = None
    """What chose this version, when it is not the buildpack's pin."""


def install_pinned_tool(
    tool: str,
    spec: ToolSpec,
    command: list[str],
    index_options: list[str],
    *,
    offline: bool,
    cwd: Path,
    env: Mapping[str, str],
    display: str,
) -> None:
    """Run an installer ``command`` on ``spec``'s requirement lines (hash-checked unless
    the spec is overridden), followed by the index options; a failure is the tool's."""
    with tempfile.TemporaryDirectory(prefix=f"python-cnb-{tool}-") as tmp:
        requirements = Path(tmp) / f"{tool}.txt"
        requirements.write_text("\n".join(spec.requirement_lines()) + "\n", encoding="utf-8")
        hashed = [] if spec.overridden else ["--require-hashes"]
        try:
            run_quiet(
                [*command, *hashed, "-r", str(requirements), *index_options],
                cwd=cwd,
                env=env,
                display=display,
            )
        except CommandFailed as error:
            raise ToolInstallFailed(
                tool, spec.version, error.output, offline, spec.origin
            ) from None


@dataclass(frozen=True)
class ToolVenvMetadata:
    """What a cached tool venv must match to be reused."""

    python_version: str = field(metadata={"label": "Python version"})
    python_checksum: str = field(metadata={"label": "CPython archive checksum"})
    arch: str = field(metadata={"label": "target architecture"})
    tool: str = field(metadata={"label": "tool set"})
    """The spec's fingerprint: name, version and the digest of its hashed set."""
    layout: str = field(metadata={"label": "python-cnb tool layout"})


@dataclass(frozen=True)
class ToolLayer:
    """What tells one tool venv layer from another."""

    name: str
    """The layer's name."""
    label: str
    """What the log calls the tool (``pip-tools``, ``Poetry``)."""
    layout: str
    """Bump when the way the layer is built changes, to invalidate every cached one."""


@dataclass(frozen=True)
class ToolVenv:
    """A tool venv layer, ready."""

    layout: PythonLayout
    """The venv's own layout (the interpreter's, at the layer's path)."""
    fresh: bool
    """Built this build (nothing reusable was restored)."""

    @property
    def home(self) -> Path:
        return self.layout.home

    @property
    def python(self) -> Path:
        """``bin/python``, the name ``venv`` gives the interpreter."""
        return self.layout.bin / "python"


def tool_venv_layer(
    ctx: BuildContext,
    python: InstalledPython,
    tool: ToolLayer,
    spec: ToolSpec,
    index: IndexSettings,
    env: Mapping[str, str],
    *,
    uv: Optional[Path] = None,
    keep_cache: bool = True,
) -> ToolVenv:
    """Reuse the cached tool venv, or make it and install ``spec`` into it: with the ``uv``
    binary when given (the venv then has no pip), else with the venv's own pip."""
    metadata = ToolVenvMetadata(
        python_version=str(python.version),
        python_checksum=python.distribution.sha256,
        arch=ctx.target.arch,
        tool=spec.fingerprint,
        layout=tool.layout,
    )
    decision = cached_layer(
        ctx.layers_dir, tool.name, types=TYPES, metadata=metadata, keep=keep_cache
    )
    log_decision(decision, f"{tool.label} {spec.version}")
    layer = decision.layer
    venv = ToolVenv(python.layout.at(layer.path), fresh=not decision.reused)
    if venv.fresh:
        without_pip = ["--without-pip"] if uv is not None else []
        run_quiet(
            python.command("-m", "venv", *without_pip, "--clear", str(venv.home)),
            cwd=ctx.app_dir,
            # venv runs ensurepip in a child without -B: it would write ensurepip's
            # bytecode into the python layer, which then no longer matches its manifest.
            env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
            display=f"python -m venv ({tool.label})",
        )
        if uv is not None:
            command = [str(uv), "pip", "install", "--python", str(venv.python), "--no-progress"]
            options, installer = index.uv_options(), "uv pip install"
        else:
            command = [str(venv.python), "-I", "-m", "pip", "install", "--no-input"]
            command.append("--disable-pip-version-check")
            options, installer = index.pip_options(), "pip install"
        install_pinned_tool(
            spec.name,
            spec,
            command,
            options,
            offline=index.no_index,
            cwd=ctx.app_dir,
            env=env,
            display=f"{installer} {spec.name}=={spec.version}",
        )
    layer.write(TYPES, metadata)
    return venv
