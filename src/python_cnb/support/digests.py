"""The SHA-256 of a file: one reader for the layers' manifests, the static-files layer and
the carried uv (downloads hash as they stream, in :mod:`python_cnb.support.download`)."""

from __future__ import annotations

import hashlib
import os
import stat
from typing import TYPE_CHECKING, Optional, Union

if TYPE_CHECKING:
    from pathlib import Path

CHUNK = 1 << 20
ENTRY_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def file_sha256(path: Union[str, Path], *, follow_symlinks: bool = True) -> str:
    """The hex SHA-256 of the file at ``path``, read in 1 MiB blocks. With
    ``follow_symlinks=False`` a symbolic link is refused (``OSError``, ``ELOOP``): a
    manifest hashes what a layer holds, never what a link points to.

    ``os.open``/``os.read`` on the path: pathlib and buffered files would cost more than
    hashing the small files most layers are made of."""
    flags = os.O_RDONLY | (0 if follow_symlinks else os.O_NOFOLLOW)
    fd = os.open(path, flags)
    try:
        digest = hashlib.sha256()
        while chunk := os.read(fd, CHUNK):
            digest.update(chunk)
        return digest.hexdigest()
    finally:
        os.close(fd)


def entry_sha256(path: str) -> tuple[os.stat_result, Optional[str]]:
    """What a manifest needs of the entry at ``path`` that a directory listing says is a
    regular file: its ``lstat`` and hex SHA-256, from one open (``fstat`` on the descriptor
    instead of a separate ``lstat``). A link is refused (``ELOOP``); anything that is no
    regular file by the time it is opened (a FIFO, say: non-blocking, so never waited on)
    comes back with no digest.

    A read of a regular file returns less than it asks for only at the file's end: the
    first read asks for one byte more than ``fstat`` says the file holds (at most a block),
    so a small file is one read, with no block-sized buffer made for it."""
    fd = os.open(path, ENTRY_FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return info, None
        wanted = min(info.st_size + 1, CHUNK)
        chunk = os.read(fd, wanted)
        digest = hashlib.sha256(chunk)
        while len(chunk) == wanted:  # the file is larger (or grew since fstat)
            wanted = CHUNK
            chunk = os.read(fd, wanted)
            digest.update(chunk)
        return info, digest.hexdigest()
    finally:
        os.close(fd)
