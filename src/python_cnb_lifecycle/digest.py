"""Content digests of layer directories: what the lifecycle compares image and cache by."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from python_cnb.cnb import NORMALIZED_MTIME


def digest(directory: Path) -> str:
    """``sha256:<hex>`` over every entry's path, type, mode and content, in sorted order."""
    result = hashlib.sha256()
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(dirs + files):
            path = Path(root, name)
            relative = path.relative_to(directory).as_posix()
            stat = path.lstat()
            # fsencode: a name need not be UTF-8 (surrogate escapes give back its bytes)
            result.update(os.fsencode(relative) + f"\0{stat.st_mode:o}\0".encode())
            if path.is_symlink():
                result.update(os.fsencode(path.readlink()))
            elif path.is_file():
                with path.open("rb") as stream:
                    for chunk in iter(lambda: stream.read(1 << 20), b""):
                        result.update(chunk)
            result.update(b"\0")
    return "sha256:" + result.hexdigest()


def normalize_mtimes(directory: Path) -> None:
    """Give every entry the lifecycle's normalized timestamp, as an exported layer has."""
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            os.utime(Path(root, name), (NORMALIZED_MTIME, NORMALIZED_MTIME), follow_symlinks=False)
    os.utime(directory, (NORMALIZED_MTIME, NORMALIZED_MTIME))


def tree_fingerprint(directory: Path) -> str:
    """A cheap fingerprint (names, sizes, mtimes) to detect writes to a read-only directory.

    Top-level dot-directories (``.git``, ``.venv``, ``.cache`` of a development checkout)
    are not part of a buildpack and are skipped.
    """
    result = hashlib.sha256()
    for root, dirs, files in os.walk(directory):
        if Path(root) == directory:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
        dirs.sort()
        for name in sorted(dirs + files):
            stat = Path(root, name).lstat()
            entry = os.fsencode(Path(root, name))
            result.update(entry + f"\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return result.hexdigest()
