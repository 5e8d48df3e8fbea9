"""Reproducible tar files: the same tree gives the same bytes, on any machine.

Entries are sorted by name; every entry has the one given mtime, owner 0:0 without names, and
mode 0755 (directories, executables) or 0644 (symlinks: 0777); a gzip header has no file name
and time 0. Used for the CPython mirror's archives, the buildpack's packages and its image
layers.
"""

from __future__ import annotations

import gzip
import os
import stat
import tarfile
from io import BytesIO
from pathlib import Path
from typing import IO, Mapping, Optional


def _normalised_mode(mode: int) -> int:
    return 0o755 if stat.S_ISDIR(mode) or mode & 0o111 else 0o644


def _entries(root: Path, *, directories: bool) -> dict[str, Path]:
    """Everything under ``root`` by its name relative to it; real directories only if
    ``directories`` (extracting makes the parents anyway), symlinks to directories always."""
    entries = {}
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        kept = [d for d in dirnames if directories or (base / d).is_symlink()]
        for name in [*filenames, *kept]:
            path = base / name
            entries[path.relative_to(root).as_posix()] = path
    return entries


def _info(name: str, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes, *, mtime: int) -> None:
    """A regular file ``name`` (mode 0644) holding ``data``."""
    info = _info(name, mtime)
    info.mode, info.size = 0o644, len(data)
    tar.addfile(info, BytesIO(data))


def add_directory(tar: tarfile.TarFile, name: str, *, mtime: int) -> None:
    info = _info(name, mtime)
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    tar.addfile(info)


def add_tree(
    tar: tarfile.TarFile,
    root: Path,
    *,
    mtime: int,
    directories: bool = True,
    extra: Optional[Mapping[str, bytes]] = None,
    prefix: str = "",
) -> None:
    """Add ``root``'s contents, and the ``extra`` files (name -> contents, replacing a file
    of that name), sorted by name; each name is relative to ``root``, under ``prefix/`` if
    given."""
    extra = dict(extra or {})
    paths = _entries(root, directories=directories)
    for name in sorted({*paths, *extra}):
        arcname = f"{prefix}/{name}" if prefix else name
        if name in extra:
            add_bytes(tar, arcname, extra[name], mtime=mtime)
            continue
        path = paths[name]
        st = path.lstat()
        if stat.S_ISDIR(st.st_mode):
            add_directory(tar, arcname, mtime=mtime)
            continue
        info = _info(arcname, mtime)
        if stat.S_ISLNK(st.st_mode):
            info.type, info.linkname, info.mode = tarfile.SYMTYPE, str(path.readlink()), 0o777
            tar.addfile(info)
        else:
            info.type, info.mode, info.size = (
                tarfile.REGTYPE,
                _normalised_mode(st.st_mode),
                st.st_size,
            )
            with path.open("rb") as file:
                tar.addfile(info, file)


def write_tarball(
    root: Path,
    fileobj: IO[bytes],
    *,
    mtime: int,
    directories: bool = True,
    extra: Optional[Mapping[str, bytes]] = None,
    compresslevel: int = 9,
) -> None:
    """``root``'s contents and the ``extra`` files (see :func:`add_tree`) as a reproducible
    ``.tar.gz`` written to ``fileobj``."""
    with (
        gzip.GzipFile(
            filename="", mode="wb", fileobj=fileobj, mtime=0, compresslevel=compresslevel
        ) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        add_tree(tar, root, mtime=mtime, directories=directories, extra=extra)
