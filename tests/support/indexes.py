"""Two package indexes on 127.0.0.1 that serve a same-named package with different contents.

The "public" one stands for PyPI or a company mirror: it has everything the test index has
(the build tools included) plus ``tinypkg`` whose module says ``ORIGIN = 'public'``. The
"private" one has only the packages a test puts there (``ORIGIN = 'private'``). Which index a
build installed from is then read back from the built venv.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from tests.support.lifecycle import Lifecycle
from tests.support.wheels import make_wheel
from tools import local_index


def origin_wheel(directory: Path, origin: str, version: str = "1.0", name: str = "tinypkg") -> Path:
    """A ``name`` wheel whose module records where it came from."""
    return make_wheel(directory, name, version, payload=f"ORIGIN = {origin!r}\n".encode())


@dataclass
class TwoIndexes:
    public: local_index.IndexServer
    private: local_index.IndexServer
    private_files: Path
    public_files: Path


@contextlib.contextmanager
def two_indexes(root: Path, test_index: Path, private_port: int) -> Iterator[TwoIndexes]:
    """``public`` = the test index + ``tinypkg 1.0`` (public); ``private`` (on
    ``private_port``) = ``tinypkg 1.0`` and ``privonly 1.0`` (private)."""
    public_files = root / "public" / "files"
    public_files.mkdir(parents=True)
    for path in (test_index / "files").iterdir():
        if not path.name.startswith("."):
            os.symlink(path, public_files / path.name)
    origin_wheel(public_files, "public")
    private_files = root / "private" / "files"
    origin_wheel(private_files, "private")
    origin_wheel(private_files, "private", name="privonly")
    with (
        local_index.serve(root / "public") as public,
        local_index.serve(root / "private", port=private_port) as private,
    ):
        yield TwoIndexes(public, private, private_files, public_files)


def installed_origin(lifecycle: Lifecycle, module: str = "tinypkg") -> str:
    """``<ORIGIN> <VERSION>`` of ``module`` as the launched image imports it."""
    result = lifecycle.exec(
        ["python", "-c", f"import {module}; print({module}.ORIGIN, {module}.VERSION)"]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()
