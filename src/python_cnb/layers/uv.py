"""The uv binary: the one the buildpack carries, or the ``uv`` layer (build, cache; never
launched).

The self-contained package carries the pinned uv of its target under ``tools/uv/`` (its
wheel hash-checked against buildpack.toml when the package was built, the binary's own
SHA-256 recorded beside it): that binary runs where it is, after its SHA-256 is checked, and
nothing is fetched, so an offline build needs no uv wheel among the app's vendored packages.
No layer holds a copy: a 37 MB cache layer would be saved, restored and checked on every
build for a file the buildpack already has (a ``uv`` layer an earlier build left is removed).
Otherwise (the slim package, or another uv version asked for) uv's wheel is fetched from the
configured package index and checked against the SHA-256 pinned in buildpack.toml before the
binary is extracted: straight from the index's project page when the index settings are
plain ones (see :mod:`python_cnb.support.simple_index`), else with the interpreter's bundled
pip (so proxies, find-links, pip.conf bindings apply exactly as for the app's packages). An
offline build with the slim package takes uv's wheel from the app's vendor directory; that
file is the app's and is never deleted, so it ships in the image (the log says so).
"""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

from python_cnb import notices, output
from python_cnb.cnb import toml_file
from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.layers import Layer, LayerTypes, cached_layer
from python_cnb.config.index import IndexSettings
from python_cnb.config.tool_specs import ToolSpec
from python_cnb.layers import log_decision
from python_cnb.layers.python import InstalledPython
from python_cnb.layers.tools import ToolInstallFailed
from python_cnb.support.commands import CommandFailed, run_quiet
from python_cnb.support.digests import file_sha256
from python_cnb.support.simple_index import fetch_pinned, project_versions

LAYER_NAME = "uv"
TYPES = LayerTypes(build=True, cache=True)
LAYOUT = "1"
MACHINES = {"amd64": "x86_64", "arm64": "aarch64"}
"""Wheel platform tags' machine names of the CNB target architectures."""
CARRIED_DIR = Path("tools") / "uv"
"""Where a self-contained package carries its uv: ``bin/uv`` and :data:`CARRIED_RECORD`."""
CARRIED_RECORD = "carried.toml"


@dataclass(frozen=True)
class UvLayerMetadata:
    """What a cached uv must match to be reused."""

    uv: str = field(metadata={"label": "uv version"})
    os: str = field(metadata={"label": "target OS"})
    arch: str = field(metadata={"label": "target architecture"})
    layout: str = field(metadata={"label": "python-cnb uv layout"})


@dataclass(frozen=True)
class UvTool:
    """The uv binary."""

    binary: Path
    version: str

    @property
    def description(self) -> str:
        return f"uv {self.version}"


@dataclass(frozen=True)
class CarriedUv:
    """The uv binary a self-contained package carries (see the module docstring)."""

    version: str
    arch: str
    wheel: str
    wheel_sha256: str
    sha256: str
    """Of the binary itself, checked before it is used."""

    def to_toml(self) -> dict[str, str]:
        return {
            "version": self.version,
            "arch": self.arch,
            "wheel": self.wheel,
            "wheel-sha256": self.wheel_sha256,
            "sha256": self.sha256,
        }


def carried_uv(buildpack_dir: Path) -> Optional[CarriedUv]:
    """The uv the buildpack carries, if it carries one (the slim package does not)."""
    record = buildpack_dir / CARRIED_DIR / CARRIED_RECORD
    if not record.is_file():
        return None
    try:
        data = toml_file.read(record)
        return CarriedUv(
            version=str(data["version"]),
            arch=str(data["arch"]),
            wheel=str(data["wheel"]),
            wheel_sha256=str(data["wheel-sha256"]),
            sha256=str(data["sha256"]),
        )
    except (KeyError, ValueError) as error:  # a damaged package: fetch uv as the slim one does
        output.debug(f"{record} is unreadable ({error}); uv is fetched")
        return None


def _usable_carried(ctx: BuildContext, spec: ToolSpec) -> Optional[tuple[CarriedUv, Path]]:
    """The carried uv when it is the one this build wants: the pinned version (not an
    override), of the target's architecture, one of the pinned wheels, intact."""
    carried = carried_uv(ctx.buildpack_dir)
    if carried is None:
        return None
    if (
        spec.overridden
        or carried.version != spec.version
        or carried.arch != ctx.target.arch
        or carried.wheel_sha256 not in spec.hashes
    ):
        output.debug(f"the carried uv {carried.version} ({carried.arch}) is not the one wanted")
        return None
    binary = ctx.buildpack_dir / CARRIED_DIR / "bin" / "uv"
    if not binary.is_file() or file_sha256(binary) != carried.sha256:
        output.warning(*notices.carried_uv_damaged(carried.version, str(binary)))
        return None
    return carried, binary


def bundled_pip(python: InstalledPython) -> Path:
    """The pip wheel ``ensurepip`` carries (runnable as ``python <wheel>/pip``)."""
    bundled = python.layout.stdlib / "ensurepip" / "_bundled"
    return sorted(bundled.glob("pip-*.whl"))[-1]


def available_versions(
    python: InstalledPython,
    project: str,
    index: IndexSettings,
    env: Mapping[str, str],
    cwd: Path,
    arch: Optional[str] = None,
) -> list[str]:
    """The versions of ``project`` on the package index (with a Linux wheel for ``arch``
    when given): from its project page when the index settings are plain ones, else as
    the bundled pip lists them (empty when that fails)."""
    listed = project_versions(project, index, env, MACHINES.get(arch, arch) if arch else None)
    if listed is not None:
        return listed
    command = [
        *python.command(f"{bundled_pip(python)}/pip", "index", "versions", project),
        "--disable-pip-version-check",
        "--no-input",
        *index.pip_options(),
    ]
    try:
        said = run_quiet(command, cwd=cwd, env=env, display=f"pip index versions {project}")
    except CommandFailed:
        return []
    line = next((ln for ln in said.splitlines() if ln.startswith("Available versions:")), "")
    return [v.strip() for v in line.partition(":")[2].split(",") if v.strip()]


def download_wheel(
    python: InstalledPython,
    spec: ToolSpec,
    destination: Path,
    index: IndexSettings,
    env: Mapping[str, str],
    cwd: Path,
) -> Path:
    """Download ``spec``'s wheel, hash-checked unless overridden: straight from the index
    when that is possible, else with the bundled pip."""
    if spec.hashes and not spec.overridden:
        direct = fetch_pinned(spec.name, spec.hashes, destination / "wheels", index, env)
        if direct is not None:
            return direct
    requirement = destination / "requirement.txt"
    hashes = "".join(f" --hash=sha256:{h}" for h in spec.hashes) if not spec.overridden else ""
    requirement.write_text(f"{spec.name}=={spec.version}{hashes}\n", encoding="utf-8")
    command = [
        *python.command(f"{bundled_pip(python)}/pip", "download"),
        "--no-deps",
        "--only-binary",
        ":all:",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--no-input",
        "--dest",
        str(destination / "wheels"),
        *(["--require-hashes"] if hashes else []),
        "-r",
        str(requirement),
        *index.pip_options(),
    ]
    try:
        run_quiet(command, cwd=cwd, env=env, display=f"pip download {spec.name}=={spec.version}")
    except CommandFailed as error:
        raise ToolInstallFailed(
            spec.name, spec.version, error.output, index.no_index, spec.origin
        ) from None
    return next((destination / "wheels").glob("*.whl"))


def install_uv(
    ctx: BuildContext,
    python: InstalledPython,
    spec: ToolSpec,
    index: IndexSettings,
    env: Mapping[str, str],
    *,
    keep_cache: bool = True,
) -> UvTool:
    """The carried uv; else reuse the cached uv, or fetch the pinned wheel and extract the
    binary."""
    carried = _usable_carried(ctx, spec)
    if carried is not None:
        Layer(ctx.layers_dir, LAYER_NAME).remove()
        output.info(
            f"Using uv {spec.version} carried by the buildpack (from {carried[0].wheel}, "
            "SHA-256 verified; build only, nothing fetched)"
        )
        return UvTool(carried[1], _version(carried[1], ctx.app_dir))
    metadata = UvLayerMetadata(
        uv=spec.fingerprint, os=ctx.target.os, arch=ctx.target.arch, layout=LAYOUT
    )
    decision = cached_layer(
        ctx.layers_dir, LAYER_NAME, types=TYPES, metadata=metadata, keep=keep_cache
    )
    log_decision(decision, f"uv {spec.version}")
    layer = decision.layer
    binary = layer.path / "bin" / "uv"
    if not decision.reused:
        with tempfile.TemporaryDirectory(prefix="python-cnb-uv-") as tmp:
            wheel = download_wheel(python, spec, Path(tmp), index, env, ctx.app_dir)
            with zipfile.ZipFile(wheel) as archive:
                member = next(n for n in archive.namelist() if n.endswith(".data/scripts/uv"))
                binary.parent.mkdir(parents=True, exist_ok=True)
                binary.write_bytes(archive.read(member))
            binary.chmod(0o755)
        checked = ", SHA-256 verified" if spec.hashes and not spec.overridden else ""
        output.info(f"Installed uv {spec.version} from {wheel.name} (build only{checked})")
        if index.vendor_dir is not None:
            # The app's own file: never deleted, so it is exported with the app.
            output.info(notices.vendored_uv_ships(wheel.name))
    version = _version(binary, ctx.app_dir)
    layer.write(TYPES, metadata)
    return UvTool(binary, version)


def _version(binary: Path, cwd: Path) -> str:
    """What ``uv --version`` says (it also proves that the binary runs here)."""
    return run_quiet([str(binary), "--version"], cwd=cwd, env={"PATH": "/usr/bin:/bin"}).split()[1]
