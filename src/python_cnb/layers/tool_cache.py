"""Cache-only layers for the tools' caches: ``pip-cache``, ``uv-cache``, ``poetry-cache``.

uv's cache is not trusted blindly: before uv installs into the venv, every wheel unpacked in
it is checked against the wheel's own RECORD (:func:`verify_uv_cache`). A content check
rather than a cache keyed by interpreter: a damaged or tampered file would otherwise reach
every fresh venv on the same interpreter too (one rebuilt because it was damaged, say).
It costs a read of the unpacked wheels, and only on builds that install anything."""

from __future__ import annotations

import base64
import csv
import hashlib
import os
import posixpath
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from python_cnb import output
from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.layers import Layer, LayerTypes, cached_layer
from python_cnb.layers import log_decision
from python_cnb.layers import manifest as layer_manifest

TYPES = LayerTypes(cache=True)


@dataclass(frozen=True)
class ToolCacheMetadata:
    """Caches hold platform-specific wheels: a different target gets a fresh cache."""

    os: str = field(metadata={"label": "target OS"})
    arch: str = field(metadata={"label": "target architecture"})
    distro_name: str = field(metadata={"label": "target distribution"})
    distro_version: str = field(metadata={"label": "target distribution version"})


def prepare_tool_cache(ctx: BuildContext, name: str, what: str, *, keep_cache: bool = True) -> Path:
    """The directory of the cache-only layer ``name`` (e.g. ``uv-cache``), kept across builds."""
    metadata = ToolCacheMetadata(
        os=ctx.target.os,
        arch=ctx.target.arch,
        distro_name=ctx.target.distro_name,
        distro_version=ctx.target.distro_version,
    )
    decision = cached_layer(ctx.layers_dir, name, types=TYPES, metadata=metadata, keep=keep_cache)
    log_decision(decision, what)
    decision.layer.write(TYPES, metadata)
    return decision.layer.path


UV_CACHE = "uv-cache"
SHOWN = 5


def _record_digest(path: str, algorithm: str) -> str:
    """A file's digest as a RECORD writes it (urlsafe base64, unpadded)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        digest = hashlib.new(algorithm)
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            digest.update(chunk)
    finally:
        os.close(fd)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")


def _archive_problems(archive: Path, cache: Path) -> list[str]:
    """How one unpacked wheel of uv's cache differs from its RECORD (the wheel's own list of
    files with their hashes, which uv keeps as it was in the wheel)."""
    records = sorted(archive.glob("*.dist-info/RECORD"))
    if len(records) != 1:
        return [f"{archive.relative_to(cache)} has no RECORD"]
    listed: dict[str, str] = {}
    with records[0].open(encoding="utf-8", newline="", errors="surrogateescape") as stream:
        for row in csv.reader(stream):
            if row:
                listed[posixpath.normpath(row[0])] = row[1] if len(row) > 1 else ""
    problems = []
    shown = archive.relative_to(cache).as_posix()
    found = {path for path, entry in layer_manifest.shallow(archive).items() if entry.kind != "d"}
    for relative in sorted(found - set(listed)):
        problems.append(f"{shown}/{relative} is in no RECORD")
    for relative, hashed in sorted(listed.items()):
        if relative not in found:
            problems.append(f"{shown}/{relative} is missing")
            continue
        algorithm, _, expected = hashed.partition("=")
        if not expected or algorithm not in hashlib.algorithms_guaranteed:
            continue  # the RECORD itself, and bytecode, carry no hash
        if _record_digest(f"{archive}/{relative}", algorithm) != expected:
            problems.append(f"{shown}/{relative} changed")
    return problems


def uv_cache_problems(cache: Path) -> list[str]:
    """Every file of the wheels unpacked in uv's cache that is missing, changed or not listed
    in the wheel's RECORD: uv links those files into a venv as they are, unchecked."""
    problems: list[str] = []
    for archive in sorted(cache.glob("archive-v*/*")):
        if archive.is_dir() and not archive.is_symlink():
            problems += _archive_problems(archive, cache)
    return problems


def verify_uv_cache(ctx: BuildContext) -> None:
    """Before uv installs into the venv: empty the restored uv cache if one of its unpacked
    wheels is not what its RECORD says (damaged, or written to by a package's build)."""
    layer = Layer(ctx.layers_dir, UV_CACHE)
    if not layer.path.is_dir():
        return
    problems = uv_cache_problems(layer.path)
    if not problems:
        return
    output.info("Discarding cached uv cache since:")
    for line in problems[:SHOWN]:
        output.detail(f"- {line}")
    if len(problems) > SHOWN:
        output.detail(f"- and {len(problems) - SHOWN} more")
    shutil.rmtree(layer.path)
    layer.path.mkdir()
