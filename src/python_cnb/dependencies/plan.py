"""What decides the app's installed packages, per package manager, and how to install them."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

from python_cnb.app.files import AppFiles, ToolConstraint
from python_cnb.app.package_manager import PackageManager
from python_cnb.app.pipfile_lock import convert
from python_cnb.app.project_files import PIPFILE_LOCK, POETRY_LOCK, PYPROJECT, UV_LOCK
from python_cnb.app.requirements_files import (
    RequirementSet,
    VcsSource,
    directory_listing_digest,
    fingerprint,
    metadata_digest,
    tree_digest,
)
from python_cnb.config.index import IndexSettings

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
FINGERPRINT_VERSION = "fp2"
"""Fingerprints are ``fp2;files=…;var.NAME=…;local.…=…;index=…;resolved=…``."""


@dataclass(frozen=True)
class DependencyPlan:
    """How this build installs the app's dependencies."""

    manager: PackageManager
    files: tuple[Path, ...]
    """Files whose contents decide the installed set (part of the venv's fingerprint)."""
    resolve_inputs: tuple[str, ...] = ()
    """Inputs to resolve into a pinned set first (empty: ``pinned`` or a locked project)."""
    requirements: Optional[RequirementSet] = None
    """requirements.txt / requirements.in as pip reads them: they are installed from their
    normalised text, with their own options, rather than from the files."""
    pinned_text: Optional[str] = None
    """A pinned set produced from a lock file (Pipfile.lock)."""
    hashed: bool = False
    editable_project: bool = False
    """Also install the app itself, editable (pyproject and setuptools projects)."""
    lock_insecure_hosts: tuple[str, ...] = ()
    """Hosts of lock sources marked ``verify_ssl = false`` (trusted without TLS checks)."""
    lock_sources: tuple[str, ...] = ()
    """Package indexes named by the lock file (Pipfile.lock ``_meta.sources``), in order,
    PyPI included: :func:`~python_cnb.config.index.with_lock_sources` decides what to use."""
    tool_constraints: tuple[ToolConstraint, ...] = ()
    """The app's constraints on uv's and Poetry's versions."""

    @property
    def resolves_every_build(self) -> bool:
        """Whether the set is resolved on every build and the venv's reuse decided on the
        result: a project's dependencies are whatever its build backend says (setup.py may
        read any file, ``dynamic`` metadata names files), which no file list can cover."""
        return self.editable_project

    @property
    def unpinned_vcs(self) -> tuple[VcsSource, ...]:
        """Requirements from a version control URL whose ref may move (no full commit hash):
        no file says whether they changed, so they are reinstalled on every build."""
        if self.requirements is None:
            return ()
        return tuple(s for _, s in self.requirements.vcs_lines() if s.commit is None)

    def fingerprint(
        self, app_dir: Path, index: Optional[IndexSettings] = None, resolved: str = ""
    ) -> str:
        """What the venv was built from, as named parts (see :meth:`explain`) so that a
        change can be explained; an empty plan has a fixed fingerprint."""
        if not self.files:
            return "no dependencies"
        extra = (self.pinned_text or "").encode()
        parts = {"files": _digest(fingerprint(self.files, app_dir).encode() + extra)}
        for name, value in self.requirements.variables if self.requirements else ():
            parts[f"var.{name}"] = _digest(repr(value).encode())
        for shown, digest in self._local_items(app_dir, index).items():
            parts[f"local.{_digest(shown.encode())[:12]}"] = digest[:32]
        if index is not None:
            parts["index"] = _digest(index.fingerprint().encode())
        if self.resolves_every_build:
            parts["resolved"] = _digest(resolved.encode())
        return ";".join([FINGERPRINT_VERSION, *(f"{k}={v}" for k, v in parts.items())])

    def _local_items(self, app_dir: Path, index: Optional[IndexSettings]) -> dict[str, str]:
        """Local sources by shown name: the packages requirement lines install from a path
        (their whole tree; an editable one's metadata files only), and every local
        find-links directory (the vendor directory included: its distribution files)."""
        editable = self.requirements.editable_paths if self.requirements is not None else ()
        items = {
            _shown(path, app_dir): metadata_digest(path) if path in editable else tree_digest(path)
            for path in self._local_paths()
        }
        for link in index.find_links if index is not None else ():
            if not _URL.match(link) and Path(link).is_dir():
                items[_shown(Path(link).resolve(), app_dir)] = directory_listing_digest(Path(link))
        return items

    def explain(
        self, previous: str, current: str, app_dir: Path, index: Optional[IndexSettings] = None
    ) -> list[str]:
        """Why a venv built for ``previous`` is not up to date for ``current``: one line per
        kind of change, naming what changed."""
        before, after = _parts(previous), _parts(current)
        fallback = [f"The dependency files changed ({self.describe(app_dir)})"]
        if not before or not after:
            return fallback
        changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
        local_names = {
            f"local.{_digest(shown.encode())[:12]}": shown
            for shown in self._local_items(app_dir, index)
        }
        reasons = []
        if "files" in changed:
            reasons.append(fallback[0])
        variables = sorted(key[4:] for key in changed if key.startswith("var."))
        if variables:
            reasons.append(
                f"The values of ${{VAR}} in the requirement files changed ({', '.join(variables)})"
            )
        local = sorted(
            local_names.get(key, "one no longer used")
            for key in changed
            if key.startswith("local.")
        )
        if local:
            reasons.append(
                f"The local packages or find-links directories changed ({', '.join(local)})"
            )
        if "index" in changed:
            reasons.append("The package index settings changed")
        if "resolved" in changed:
            reasons.append("The resolved requirement set changed")
        return reasons or fallback

    def _local_paths(self) -> tuple[Path, ...]:
        return self.requirements.local_paths if self.requirements is not None else ()

    def describe(self, app_dir: Path) -> str:
        """``requirements.txt, requirements/base.txt``."""
        return ", ".join(_shown(p, app_dir) for p in self.files)


def _shown(path: Path, app_dir: Path) -> str:
    root = app_dir.resolve()
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def _parts(value: str) -> dict[str, str]:
    """The named parts of a fingerprint (empty for one written by an older python-cnb)."""
    items = value.split(";")
    if items[0] != FINGERPRINT_VERSION:
        return {}
    return dict(item.partition("=")[::2] for item in items[1:])


def _existing(app_dir: Path, *names: str) -> tuple[Path, ...]:
    return tuple((app_dir / name).resolve() for name in names if (app_dir / name).is_file())


def plan_dependencies(files: AppFiles, manager: PackageManager) -> DependencyPlan:
    """The plan for ``manager``, from the app's files (read, and validated, once)."""
    return replace(_plan(files, manager), tool_constraints=files.tool_constraints)


def _plan(files: AppFiles, manager: PackageManager) -> DependencyPlan:  # noqa: PLR0911
    app_dir = files.app_dir
    root = manager.requirements_file
    if root is not None:
        requirements = files.requirements(root)
        return DependencyPlan(
            manager,
            requirements.files,
            resolve_inputs=(root,),
            requirements=requirements,
            hashed=requirements.hash_checking,
        )
    if manager is PackageManager.PIPENV:
        locked = convert(files.pipfile_lock or {})
        return DependencyPlan(
            manager,
            _existing(app_dir, PIPFILE_LOCK),
            pinned_text=locked.text(),
            hashed=locked.hashed,
            lock_sources=locked.sources,
            lock_insecure_hosts=locked.insecure_hosts,
        )
    if manager is PackageManager.PYPROJECT:
        return DependencyPlan(
            manager,
            _existing(app_dir, PYPROJECT),
            resolve_inputs=(PYPROJECT,),
            editable_project=True,
        )
    if manager is PackageManager.SETUPTOOLS:
        found = _existing(app_dir, "setup.py", "setup.cfg", PYPROJECT)
        entry = "setup.py" if (app_dir / "setup.py").is_file() else "setup.cfg"
        return DependencyPlan(manager, found, resolve_inputs=(entry,), editable_project=True)
    if manager is PackageManager.UV:
        return DependencyPlan(manager, _existing(app_dir, UV_LOCK, PYPROJECT, "uv.toml"))
    if manager is PackageManager.POETRY:
        return DependencyPlan(manager, _existing(app_dir, POETRY_LOCK, PYPROJECT))
    return DependencyPlan(manager, ())
