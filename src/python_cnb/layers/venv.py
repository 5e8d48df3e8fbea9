"""The ``venv`` layer: the app's dependencies in a virtual environment (build, launch, cache).

The layer is kept across builds while the interpreter, the target and the installer are
unchanged. Then:

* dependencies unchanged (same fingerprint): the venv is reused untouched;
* dependencies changed: the venv is synced to the new set in place, so what left is
  uninstalled, what is unchanged stays as it is, and what is new is installed;
* interpreter, target or installer changed: it is rebuilt from scratch.

While a sync runs, the layer has no metadata: if it fails, the build fails, nothing is
exported, and the next build starts again from the previous, complete venv.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

from python_cnb import output
from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.layer_env import LayerEnv
from python_cnb.cnb.layers import Layer, LayerTypes, cached_layer
from python_cnb.layers import log_decision
from python_cnb.layers.python import InstalledPython
from python_cnb.sbom import EXTENSION, venv_sbom
from python_cnb.subprocess_runner import run_quiet

LAYER_NAME = "venv"
TYPES = LayerTypes(build=True, launch=True, cache=True)
LAYOUT = "2"


@dataclass(frozen=True)
class VenvLayerMetadata:
    """What a cached virtualenv must match to be kept, and what it was built from."""

    python_version: str = field(metadata={"label": "Python version"})
    python_checksum: str = field(metadata={"label": "CPython archive checksum"})
    os: str = field(metadata={"label": "target OS"})
    arch: str = field(metadata={"label": "target architecture"})
    distro_name: str = field(metadata={"label": "target distribution"})
    distro_version: str = field(metadata={"label": "target distribution version"})
    installer: str = field(metadata={"label": "installer"})
    layout: str = field(metadata={"label": "python-cnb virtualenv layout"})
    package_manager: str = field(metadata={"label": "package manager", "invalidates": False})
    dependencies: str = field(
        metadata={"label": "dependencies (fingerprint)", "invalidates": False}
    )


@dataclass(frozen=True)
class VenvState:
    """The venv layer at the start of the dependency step."""

    layer: Layer
    metadata: VenvLayerMetadata
    fresh: bool
    """Created empty this build (nothing reusable was restored)."""
    up_to_date: bool
    """Restored, and built from exactly these dependencies: nothing to do."""

    @property
    def path(self) -> Path:
        return self.layer.path

    @property
    def python(self) -> Path:
        return self.layer.path / "bin" / "python"

    @property
    def site_packages(self) -> Path:
        return next(self.layer.path.glob("lib/python3*/site-packages"))


def create_venv(python: InstalledPython, path: Path, cwd: Path) -> None:
    """A venv without pip: nothing but the app's packages reaches the launch image."""
    run_quiet(
        python.command("-m", "venv", "--without-pip", "--clear", str(path)),
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin"},
        display="python -m venv --without-pip",
    )


def prepare_venv(
    ctx: BuildContext,
    python: InstalledPython,
    metadata: VenvLayerMetadata,
    *,
    keep_cache: bool,
    explain: Callable[[str], Sequence[str]],
) -> VenvState:
    """Keep, sync or rebuild: decide from the restored metadata, logging every reason."""
    decision = cached_layer(
        ctx.layers_dir, LAYER_NAME, types=TYPES, metadata=metadata, keep=keep_cache
    )
    previous = decision.previous
    if decision.reused and previous is not None:
        if (previous.dependencies, previous.package_manager) == (
            metadata.dependencies,
            metadata.package_manager,
        ):
            output.info("Using cached virtualenv (dependencies unchanged)")
            return VenvState(decision.layer, metadata, fresh=False, up_to_date=True)
        output.info("Updating cached virtualenv since:")
        if previous.package_manager != metadata.package_manager:
            output.detail(
                f"- The package manager changed from {previous.package_manager}"
                f" to {metadata.package_manager}"
            )
        else:
            for reason in explain(previous.dependencies):
                output.detail(f"- {reason}")
        return VenvState(decision.layer, metadata, fresh=False, up_to_date=False)
    log_decision(decision, "virtualenv")  # type: ignore[arg-type]
    output.info("Creating virtual environment")
    create_venv(python, decision.layer.path, ctx.app_dir)
    return VenvState(decision.layer, metadata, fresh=True, up_to_date=False)


def finish_venv(state: VenvState) -> None:
    """Write the layer's env and metadata: the venv is complete."""
    LayerEnv().override("VIRTUAL_ENV", str(state.path)).write(state.path)
    state.layer.write(TYPES, state.metadata)


def write_venv_sbom(
    state: VenvState, hashes: Mapping[tuple[str, str], tuple[str, ...]], formats: tuple[str, ...]
) -> None:
    """``venv.sbom.cdx.json``: what the venv holds now, with the lock's hashes."""
    state.layer.write_sbom(EXTENSION, venv_sbom(state.site_packages, hashes), formats)
