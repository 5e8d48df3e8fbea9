"""The hashes the app's lock files record for each package, for the venv's SBOM.

uv.lock (``sdist.hash``, ``wheels[].hash``), poetry.lock (``files[].hash``), Pipfile.lock
(``default.*.hashes``) and a hashed requirements file (each pinned line's ``--hash``
options, as :mod:`~python_cnb.app.requirements_files` reads them). Only SHA-256 digests are
kept: the SBOM names one algorithm.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Optional

from python_cnb.app.files import AppFiles
from python_cnb.app.package_manager import PackageManager
from python_cnb.app.requirements_files import RequirementSet
from python_cnb.installed import normalize

LockHashes = dict[tuple[str, str], tuple[str, ...]]
"""``(normalized name, version) -> sha256 digests``."""

_SHA256 = re.compile(r"^sha256[:=]([0-9a-f]{64})$")


def _add(found: LockHashes, name: object, version: object, values: Iterable[object]) -> None:
    if not isinstance(name, str) or not isinstance(version, (str, int, float)):
        return
    digests = {m[1] for v in values if isinstance(v, str) for m in [_SHA256.match(v)] if m}
    key = (normalize(name), str(version).lstrip("="))
    found[key] = tuple(sorted({*found.get(key, ()), *digests}))


def _entries(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def from_uv_lock(lock: Optional[Mapping[str, Any]]) -> LockHashes:
    """uv.lock: the hash of each package's sdist and wheels."""
    found: LockHashes = {}
    for package in _entries((lock or {}).get("package")):
        sdist = package.get("sdist")
        files = [*([sdist] if isinstance(sdist, dict) else []), *_entries(package.get("wheels"))]
        _add(found, package.get("name"), package.get("version"), [f.get("hash") for f in files])
    return found


def from_poetry_lock(lock: Optional[Mapping[str, Any]]) -> LockHashes:
    """poetry.lock: the hash of each package's files."""
    found: LockHashes = {}
    for package in _entries((lock or {}).get("package")):
        files = _entries(package.get("files"))
        _add(found, package.get("name"), package.get("version"), [f.get("hash") for f in files])
    return found


def from_pipfile_lock(lock: Optional[Mapping[str, Any]]) -> LockHashes:
    """Pipfile.lock: the ``hashes`` of each ``default`` package pinned with ``==``."""
    found: LockHashes = {}
    default = (lock or {}).get("default")
    for name, entry in default.items() if isinstance(default, dict) else ():
        if isinstance(entry, dict) and isinstance(entry.get("version"), str):
            hashes = entry.get("hashes")
            _add(found, name, entry["version"], hashes if isinstance(hashes, list) else [])
    return found


def from_requirements(requirements: RequirementSet) -> LockHashes:
    """A requirement set's pinned lines with ``--hash`` options."""
    found: LockHashes = {}
    for line in requirements.lines:
        pin = line.pin
        if pin is not None and line.hashed:
            _add(found, *pin, line.hashes)
    return found


def recorded_hashes(files: AppFiles, manager: PackageManager) -> LockHashes:
    """The hashes that ``manager``'s lock file records (none for an unlocked install, nor
    for requirement files outside pip's hash-checking mode)."""
    if manager is PackageManager.UV:
        return from_uv_lock(files.uv_lock)
    if manager is PackageManager.POETRY:
        return from_poetry_lock(files.poetry_lock)
    if manager is PackageManager.PIPENV:
        return from_pipfile_lock(files.pipfile_lock)
    root = manager.requirements_file
    requirements = files.requirements(root) if root is not None else None
    if requirements is not None and requirements.hash_checking:
        return from_requirements(requirements)
    return {}
