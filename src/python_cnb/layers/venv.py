"""The ``venv`` layer: the app's dependencies in a virtual environment (build, launch, cache).

The layer is kept across builds while the interpreter, the target and the installer are
unchanged. Then:

* dependencies unchanged (same fingerprint): the venv is reused untouched;
* dependencies changed: the venv is synced to the new set in place, so what left is
  uninstalled, what is unchanged stays as it is, and what is new is installed; unless a file
  in it belongs to no installed distribution (a package's build wrote it, a ``.pth`` say:
  uninstalling that package would leave it behind), then it is rebuilt from scratch;
* interpreter, target or installer changed: it is rebuilt from scratch.

A restored venv is first checked against its content manifest
(:mod:`python_cnb.layers.manifest`): one changed, missing or added file and it is discarded.

While a sync runs, the layer has no metadata: if it fails, the build fails, nothing is
exported, and the next build starts again from the previous, complete venv.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import json
import posixpath
import re
import urllib.parse
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Mapping, Sequence

from python_cnb import output
from python_cnb.cnb.context import BuildContext, Target
from python_cnb.cnb.layer_env import LayerEnv
from python_cnb.cnb.layers import Layer, LayerTypes, cached_layer
from python_cnb.layers import log_decision
from python_cnb.layers import manifest as layer_manifest
from python_cnb.layers.python import InstalledPython
from python_cnb.layers.tool_cache import verify_uv_cache
from python_cnb.python.layout import PythonLayout
from python_cnb.sbom import EXTENSION, venv_sbom
from python_cnb.support.commands import run_quiet

LAYER_NAME = "venv"
TYPES = LayerTypes(build=True, launch=True, cache=True)
LAYOUT = "2"
"""Bumped when the buildpack lays the venv out differently: every cached venv is rebuilt."""


def venv_path(layers_dir: Path) -> Path:
    """Where the venv layer is (the installers are told before it exists)."""
    return layers_dir / LAYER_NAME


def venv_python(layers_dir: Path) -> Path:
    """The venv's interpreter, ``<layer>/bin/python``."""
    return venv_path(layers_dir) / "bin" / "python"


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
    contents: str = field(
        default="", metadata={"label": "content manifest (SHA-256)", "invalidates": False}
    )
    """The SHA-256 of the layer's content manifest, written by :func:`finish_venv`."""

    @classmethod
    def build(
        cls,
        python: InstalledPython,
        target: Target,
        *,
        installer: str,
        package_manager: str,
        dependencies: str,
    ) -> VenvLayerMetadata:
        """What a venv built now, with this installer, from these dependencies, holds."""
        return cls(
            python_version=str(python.version),
            python_checksum=python.distribution.sha256,
            os=target.os,
            arch=target.arch,
            distro_name=target.distro_name,
            distro_version=target.distro_version,
            installer=installer,
            layout=LAYOUT,
            package_manager=package_manager,
            dependencies=dependencies,
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
    verified: str = ""
    """The manifest SHA-256 of a venv reused untouched, verified against it this build."""

    @property
    def path(self) -> Path:
        return self.layer.path

    @property
    def python(self) -> Path:
        return self.layer.path / "bin" / "python"

    @property
    def site_packages(self) -> Path:
        return PythonLayout.find(self.layer.path).site_packages


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
    *,
    installer: str,
    package_manager: str,
    dependencies: str,
    keep_cache: bool,
    explain: Callable[[str], Sequence[str]],
    always_update: Sequence[str] = (),
) -> VenvState:
    """Keep, sync or rebuild: decide from the restored metadata, logging every reason.

    ``installer`` describes the tool (``uv 0.9.0``), ``dependencies`` is the plan's
    fingerprint; ``explain`` says why a previous fingerprint no longer matches;
    ``always_update`` says why a venv with the same fingerprint is synced all the same (a
    Git branch may have moved)."""
    metadata = VenvLayerMetadata.build(
        python,
        ctx.target,
        installer=installer,
        package_manager=package_manager,
        dependencies=dependencies,
    )
    decision = cached_layer(
        ctx.layers_dir,
        LAYER_NAME,
        types=TYPES,
        metadata=metadata,
        extra_reasons=_damaged,
        keep=keep_cache,
        before_discard=lambda layer: layer_manifest.abandon(layer.path),
    )
    previous = decision.previous
    if decision.reused and previous is not None:
        unchanged = (previous.dependencies, previous.package_manager) == (
            metadata.dependencies,
            metadata.package_manager,
        )
        if unchanged and not always_update:
            output.info("Using cached virtualenv (dependencies unchanged)")
            return VenvState(decision.layer, metadata, False, True, previous.contents)
        strays = files_outside_records(decision.layer.path)
        if strays:
            output.info("Rebuilding the virtualenv from scratch since:")
            for line in _stray_reasons(strays):
                output.detail(f"- {line}")
            decision.layer.reset()
            create_venv(python, decision.layer.path, ctx.app_dir)
            verify_uv_cache(ctx)
            return VenvState(decision.layer, metadata, fresh=True, up_to_date=False)
        output.info("Updating cached virtualenv since:")
        if previous.package_manager != metadata.package_manager:
            output.detail(
                f"- The package manager changed from {previous.package_manager}"
                f" to {metadata.package_manager}"
            )
        elif not unchanged:
            for reason in explain(previous.dependencies):
                output.detail(f"- {reason}")
        for reason in always_update:
            output.detail(f"- {reason}")
        verify_uv_cache(ctx)
        return VenvState(decision.layer, metadata, fresh=False, up_to_date=False)
    log_decision(decision, "virtualenv")
    output.info("Creating virtual environment")
    create_venv(python, decision.layer.path, ctx.app_dir)
    verify_uv_cache(ctx)
    return VenvState(decision.layer, metadata, fresh=True, up_to_date=False)


def finish_venv(
    state: VenvState,
    hashes: Mapping[tuple[str, str], tuple[str, ...]],
    sbom_formats: tuple[str, ...],
) -> None:
    """Write the layer's env, content manifest, metadata and SBOM (``venv.sbom.cdx.json``:
    what the venv holds, with the lock's ``hashes``): the venv is complete. Called once.

    A venv verified this build and unchanged since (no file added, removed or resized by a
    server install, say) keeps the manifest it was verified against, rather than hashing
    everything a second time."""
    LayerEnv().override("VIRTUAL_ENV", str(state.path)).write(state.path)
    if not state.fresh and not state.up_to_date:
        drop_orphaned_bytecode(state.path)
    _drop_uv_cache_info(state.site_packages)
    drop_url_credentials(state.site_packages)
    contents = state.verified
    if not contents or not layer_manifest.same_shape(state.path, contents):
        contents = layer_manifest.write_manifest(state.path)
    state.layer.write(TYPES, replace(state.metadata, contents=contents))
    state.layer.write_sbom(EXTENSION, venv_sbom(state.site_packages, hashes), sbom_formats)


UV_CACHE_INFO = "uv_cache.json"


def _drop_uv_cache_info(site_packages: Path) -> None:
    """Remove ``<dist>.dist-info/uv_cache.json`` and its RECORD line, for a reproducible venv.

    uv writes it for a project installed from a local directory (the editable app): the
    time it installed it, to tell later whether the sources changed since. uv has no
    option against it. Without it, uv reinstalls such a project on the next sync, which is
    what a changed project needs anyway (and costs milliseconds for an editable one)."""
    for info in site_packages.glob(f"*.dist-info/{UV_CACHE_INFO}"):
        info.unlink()
        record = info.parent / "RECORD"
        if record.is_file():
            name = f"{info.parent.name}/{UV_CACHE_INFO}"
            lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
            kept = [line for line in lines if (next(csv.reader([line]), None) or [""])[0] != name]
            record.write_text("".join(kept), encoding="utf-8")


def drop_url_credentials(site_packages: Path) -> None:
    """Remove ``user:password@`` from the URL of every ``direct_url.json`` (PEP 610), and
    update its RECORD line: a token in a ``git+https://user:token@…`` requirement must not
    reach the image. (``git@`` of an SSH URL is a user name, not a secret: it stays.)"""
    for info in site_packages.glob("*.dist-info/direct_url.json"):
        try:
            document = json.loads(info.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        url = document.get("url") if isinstance(document, dict) else None
        if not isinstance(url, str):
            continue
        parts = urllib.parse.urlsplit(url)
        if "@" not in parts.netloc or (parts.username == "git" and parts.password is None):
            continue
        document["url"] = urllib.parse.urlunsplit(
            parts._replace(netloc=parts.netloc.rsplit("@", 1)[1])
        )
        data = json.dumps(document, sort_keys=True).encode()
        info.write_bytes(data)
        _rewrite_record(info, data)


def _rewrite_record(path: Path, data: bytes) -> None:
    """The RECORD line of ``path`` (in a ``.dist-info``) with the hash and size of ``data``."""
    record = path.parent / "RECORD"
    if not record.is_file():
        return
    name = f"{path.parent.name}/{path.name}"
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    rows = list(csv.reader(record.read_text(encoding="utf-8").splitlines()))
    rows = [[name, f"sha256={digest}", str(len(data))] if r and r[0] == name else r for r in rows]
    with record.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream, lineterminator="\n").writerows(rows)


def _damaged(previous: VenvLayerMetadata, layer: Layer) -> list[str]:
    return layer_manifest.verify(layer.path, previous.contents).reasons()


VENV_SKELETON = re.compile(
    r"pyvenv\.cfg|\.gitignore|\.lock|lib64"
    r"|bin/(python(3(\.\d+)?)?|\U0001d70bthon|activate(\.\w+)?|Activate\.ps1)"
)
"""What ``python -m venv --without-pip`` creates (3.14 adds ``bin/𝜋thon``), and uv's lock
file: no RECORD lists them."""

_BYTECODE = re.compile(r"(.*/)?__pycache__/([^/.]+)\.[^/]+\.pyc")


def _owned(venv: Path) -> set[str]:
    """Every path (relative to the venv) that an installed distribution's RECORD lists."""
    owned: set[str] = set()
    root = str(venv.absolute())
    for record in PythonLayout.find(venv).site_packages.glob("*.dist-info/RECORD"):
        base = record.parent.parent.relative_to(venv).as_posix()
        with record.open(encoding="utf-8", newline="", errors="surrogateescape") as stream:
            for row in csv.reader(stream):
                if not row:
                    continue
                if row[0].startswith("/"):  # absolute paths are allowed, if rare
                    owned.add(posixpath.relpath(posixpath.normpath(row[0]), root))
                else:  # relative to site-packages (``../../../bin/gunicorn``)
                    owned.add(posixpath.normpath(f"{base}/{row[0]}"))
    return owned


def drop_orphaned_bytecode(venv: Path) -> list[str]:
    """Remove the bytecode the buildpack compiled for sources a sync has since removed (uv
    and pip delete what RECORD lists, not the ``__pycache__/six.cpython-313.pyc`` of a
    removed ``six.py``), and ``__pycache__`` directories left empty: the synced venv holds
    what a clean build makes, and the next build does not take it for a stray file and
    rebuild from scratch. Returns the removed files (relative to ``venv``)."""
    owned = _owned(venv)
    removed = []
    for pyc in sorted(venv.rglob("__pycache__/*.pyc")):
        relative = pyc.relative_to(venv).as_posix()
        compiled = _BYTECODE.fullmatch(relative)
        if relative in owned or compiled is None:
            continue
        if not (pyc.parent.parent / f"{compiled.group(2)}.py").exists():
            pyc.unlink()
            removed.append(relative)
            with contextlib.suppress(OSError):  # not empty: other modules' bytecode
                pyc.parent.rmdir()
    return removed


def files_outside_records(venv: Path) -> list[str]:
    """Files of the venv that no installed distribution's RECORD lists, nor ``venv`` made,
    nor are the bytecode of a listed source (compiled by the buildpack)."""
    owned = _owned(venv)
    strays = []
    for relative, entry in layer_manifest.shallow(venv).items():
        if entry.kind == "d" or relative in owned or VENV_SKELETON.fullmatch(relative):
            continue
        compiled = _BYTECODE.fullmatch(relative)
        if compiled and f"{compiled.group(1) or ''}{compiled.group(2)}.py" in owned:
            continue
        strays.append(relative)
    return sorted(strays)


def _stray_reasons(strays: list[str]) -> list[str]:
    shown = [f"{path} belongs to no installed package" for path in strays[:5]]
    more = len(strays) - len(shown)
    return shown + ([f"and {more} more files that belong to no installed package"] if more else [])
