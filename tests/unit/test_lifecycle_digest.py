"""Layer digests: every entry's path, type, mode and content; any file name the OS allows."""

from __future__ import annotations

import os
from pathlib import Path

from python_cnb_lifecycle.digest import digest, normalize_mtimes, tree_fingerprint

NOT_UTF8 = os.fsdecode(b"caf\xe9.py")  # a Latin-1 name: a surrogate escape in Python


def _tree(root: Path, name: str = "app.py") -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / name).write_text("print('hi')")
    (root / "link").symlink_to(f"pkg/{name}")
    return root


def test_digest_depends_on_names_content_and_modes(tmp_path: Path) -> None:
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert digest(a) == digest(b)
    assert digest(a).startswith("sha256:") and len(digest(a)) == 7 + 64
    (b / "pkg" / "app.py").write_text("print('ho')")
    assert digest(a) != digest(b)
    (b / "pkg" / "app.py").write_text("print('hi')")
    (b / "pkg" / "app.py").chmod(0o600)
    assert digest(a) != digest(b)


def test_non_utf8_file_names(tmp_path: Path) -> None:
    """R-1: an app may hold names that are not UTF-8 (they came from a Latin-1 archive)."""
    latin = _tree(tmp_path / "latin", NOT_UTF8)
    (latin / os.fsdecode(b"d\xe9r")).mkdir()
    plain = _tree(tmp_path / "plain")
    assert digest(latin) != digest(plain)
    assert digest(latin) == digest(latin)
    normalize_mtimes(latin)
    assert tree_fingerprint(latin) != tree_fingerprint(plain)
