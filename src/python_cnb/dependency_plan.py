"""What decides the app's installed packages, per package manager, and how to install them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from python_cnb.package_manager import PackageManager
from python_cnb.pipfile_lock import convert
from python_cnb.project_files import (
    PIPFILE_LOCK,
    POETRY_LOCK,
    PYPROJECT,
    UV_LOCK,
    read_json,
    read_toml,
)
from python_cnb.requirements_files import collect, fingerprint, is_fully_hashed
from python_cnb.sbom import locked_hashes


@dataclass(frozen=True)
class DependencyPlan:
    """How this build installs the app's dependencies."""

    manager: PackageManager
    files: tuple[Path, ...]
    """Files whose contents decide the installed set (the venv's fingerprint)."""
    resolve_inputs: tuple[str, ...] = ()
    """Inputs to resolve into a pinned set first (empty: ``pinned`` or a locked project)."""
    pinned_file: Optional[str] = None
    """A requirements file that is already a hashed lock, synced as it is."""
    pinned_text: Optional[str] = None
    """A pinned set produced from a lock file (Pipfile.lock)."""
    hashed: bool = False
    editable_project: bool = False
    """Also install the app itself, editable (pyproject and setuptools projects)."""
    lock_insecure_hosts: tuple[str, ...] = ()
    """Hosts of lock sources marked ``verify_ssl = false`` (trusted without TLS checks)."""
    lock_sources: tuple[str, ...] = ()
    """Package indexes named by the lock file (Pipfile.lock ``_meta.sources``), in order,
    PyPI included: :func:`~python_cnb.package_index.with_lock_sources` decides what to use."""

    def fingerprint(self, app_dir: Path) -> str:
        """What the venv was built from; an empty plan has a fixed fingerprint."""
        if not self.files:
            return "no dependencies"
        extra = (self.pinned_text or "").encode()
        return hashlib.sha256(fingerprint(self.files, app_dir).encode() + extra).hexdigest()

    def describe(self, app_dir: Path) -> str:
        """``requirements.txt, requirements/base.txt``."""
        root = app_dir.resolve()
        return ", ".join(
            str(p.relative_to(root)) if p.is_relative_to(root) else str(p) for p in self.files
        )


def _existing(app_dir: Path, *names: str) -> tuple[Path, ...]:
    return tuple((app_dir / name).resolve() for name in names if (app_dir / name).is_file())


def plan_dependencies(app_dir: Path, manager: PackageManager) -> DependencyPlan:  # noqa: PLR0911 - one case per manager
    """The plan for ``manager``; reads (and validates) the files it needs."""
    if manager is PackageManager.PIP:
        files = collect(app_dir / "requirements.txt", app_dir)
        if is_fully_hashed(files):
            return DependencyPlan(manager, files, pinned_file="requirements.txt", hashed=True)
        return DependencyPlan(manager, files, resolve_inputs=("requirements.txt",))
    if manager is PackageManager.PIP_TOOLS:
        return DependencyPlan(
            manager,
            collect(app_dir / "requirements.in", app_dir),
            resolve_inputs=("requirements.in",),
        )
    if manager is PackageManager.PIPENV:
        locked = convert(read_json(app_dir, PIPFILE_LOCK) or {})
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
        files = _existing(app_dir, "setup.py", "setup.cfg", PYPROJECT)
        entry = "setup.py" if (app_dir / "setup.py").is_file() else "setup.cfg"
        return DependencyPlan(manager, files, resolve_inputs=(entry,), editable_project=True)
    if manager is PackageManager.UV:
        return DependencyPlan(manager, _existing(app_dir, UV_LOCK, PYPROJECT, "uv.toml"))
    if manager is PackageManager.POETRY:
        return DependencyPlan(manager, _existing(app_dir, POETRY_LOCK, PYPROJECT))
    return DependencyPlan(manager, ())


def plan_hashes(plan: DependencyPlan, app_dir: Path) -> dict[tuple[str, str], tuple[str, ...]]:
    """The hashes the plan's lock file records for each (name, version), for the SBOM."""
    if plan.manager is PackageManager.UV:
        return locked_hashes(uv_lock=read_toml(app_dir, UV_LOCK))
    if plan.manager is PackageManager.POETRY:
        return locked_hashes(poetry_lock=read_toml(app_dir, POETRY_LOCK))
    if plan.manager is PackageManager.PIPENV:
        return locked_hashes(pipfile_lock=read_json(app_dir, PIPFILE_LOCK))
    if plan.hashed and plan.pinned_file is not None:
        lines = [
            line for path in plan.files for line in path.read_text(encoding="utf-8").splitlines()
        ]
        return locked_hashes(requirement_lines=_joined(lines))
    return {}


def _joined(lines: list[str]) -> list[str]:
    """Requirement lines with ``\\`` continuations joined (hashes follow on new lines)."""
    joined: list[str] = []
    buffer = ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            buffer += line.rstrip()[:-1] + " "
            continue
        joined.append(buffer + line)
        buffer = ""
    return joined
