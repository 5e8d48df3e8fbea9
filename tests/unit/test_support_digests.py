"""The one file hasher: blocks, links followed or refused."""

from __future__ import annotations

import errno
import hashlib
from pathlib import Path

import pytest

from python_cnb.support.digests import CHUNK, file_sha256


def test_a_file_of_several_blocks(tmp_path: Path) -> None:
    data = bytes(range(256)) * (CHUNK // 256 * 2 + 3)
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
