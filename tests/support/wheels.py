"""Tiny valid wheels (and the core metadata they carry), for package index tests."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path
from typing import Sequence


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def core_metadata(
    name: str, version: str, requires_python: str = ">=3.9", requires: Sequence[str] = ()
) -> bytes:
    """A METADATA / PKG-INFO file."""
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        f"Summary: {name} for tests",
        f"Requires-Python: {requires_python}",
        *(f"Requires-Dist: {r}" for r in requires),
    ]
    return ("\n".join(lines) + "\n\n").encode()


def make_wheel(
    directory: Path,
    name: str,
    version: str,
    *,
    payload: bytes = b"",
    requires_python: str = ">=3.9",
    requires: Sequence[str] = (),
) -> Path:
    """``<name>-<version>-py3-none-any.whl`` in ``directory``: one module,
    ``<name>/__init__.py``, holding ``payload`` (so that two wheels of the same name can
    differ), METADATA, WHEEL, RECORD."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f"VERSION = {version!r}\n".encode() + payload,
        f"{dist_info}/METADATA": core_metadata(name, version, requires_python, requires),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n"
        ),
    }
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files.items())
    record += f"{dist_info}/RECORD,,\n"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in files.items():
            archive.writestr(member, data)
        archive.writestr(f"{dist_info}/RECORD", record)
    return path


def sha256_of(path: Path) -> str:
    """The file's SHA-256, hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
