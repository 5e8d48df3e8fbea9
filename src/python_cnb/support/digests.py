"""The SHA-256 of a file: one reader for the layers' manifests, the static-files layer and
the carried uv (downloads hash as they stream, in :mod:`python_cnb.support.download`)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Union

CHUNK = 1 << 20


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
