"""The one file hasher: blocks, links followed or refused, a manifest entry's stat and digest."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

import pytest

from python_cnb.support.digests import BLOCK, entry_sha256, file_sha256


def test_a_file_of_several_blocks(tmp_path: Path) -> None:
    data = bytes(range(256)) * (BLOCK // 256 * 2 + 3)
    path = tmp_path / "uv"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    assert file_sha256(str(path)) == file_sha256(path)
    (tmp_path / "empty").write_bytes(b"")
    assert file_sha256(tmp_path / "empty") == hashlib.sha256(b"").hexdigest()


def test_a_link_is_followed_unless_refused(tmp_path: Path) -> None:
    (tmp_path / "target").write_bytes(b"x")
    (tmp_path / "link").symlink_to("target")
    assert file_sha256(tmp_path / "link") == hashlib.sha256(b"x").hexdigest()
    with pytest.raises(OSError) as caught:
        file_sha256(tmp_path / "link", follow_symlinks=False)
    assert caught.value.errno == errno.ELOOP


@pytest.mark.parametrize("size", [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 17])
def test_an_entry_of_any_size_around_the_block(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "lib.so"
    path.write_bytes(data)
    path.chmod(0o755)
    info, digest = entry_sha256(str(path))
    assert digest == hashlib.sha256(data).hexdigest()
    assert (info.st_size, stat.S_IMODE(info.st_mode)) == (size, 0o755)


def test_an_entry_that_is_no_regular_file_has_no_digest(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")  # opened without blocking, never read
    info, digest = entry_sha256(str(tmp_path / "fifo"))
    assert stat.S_ISFIFO(info.st_mode)
    assert digest is None
    (tmp_path / "link").symlink_to("fifo")
    with pytest.raises(OSError) as caught:
        entry_sha256(str(tmp_path / "link"))
    assert caught.value.errno == errno.ELOOP
