"""Which package manager installs the app's dependencies, decided from its files.

| Files | Package manager | How dependencies are installed |
| requirements.txt | pip | the requirement set, resolved, synced exactly |
| requirements.in (no requirements.txt) | pip-tools | compiled, then synced exactly |
| Pipfile.lock | Pipenv | its pinned, hashed set, synced exactly |
| poetry.lock | Poetry | ``poetry sync --only main`` |
| uv.lock | uv | ``uv sync --locked`` without dev groups |
| pyproject.toml with [project], no lock | pyproject | the project (editable) and its dependencies |
| setup.py / setup.cfg | setuptools | the project (editable) and its dependencies |

requirements.txt, requirements.in, the Pipfile, poetry.lock and uv.lock are *primary*: more
than one of them is ambiguous and fails. A pyproject [project] or setup.py beside a primary
file is not installed as a project (the primary file wins, and the log says so); alone, it
is. A Pipfile or Poetry project without its lock fails: installs must be reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Optional

from python_cnb import output
from python_cnb.app.files import AppFiles
from python_cnb.app.project_files import (
    PIPFILE,
    PIPFILE_LOCK,
    POETRY_LOCK,
    PYPROJECT,
    UV_LOCK,
    poetry_table,
    project_table,
)
from python_cnb.buildpack_error import BuildpackError


class PackageManager(Enum):
    """How the app declares its dependencies."""

    PIP = "pip"
    PIP_TOOLS = "pip-tools"
    PIPENV = "pipenv"
    POETRY = "poetry"
    UV = "uv"
    PYPROJECT = "pyproject"
    SETUPTOOLS = "setuptools"
    NONE = "none"

    @property
    def label(self) -> str:
        """How users name it."""
        return {
            "pip": "pip (requirements.txt)",
            "pip-tools": "pip-tools (requirements.in)",
            "pipenv": "Pipenv (Pipfile.lock)",
            "poetry": "Poetry (poetry.lock)",
            "uv": "uv (uv.lock)",
            "pyproject": "pyproject.toml project",
            "setuptools": "setuptools project (setup.py/setup.cfg)",
            "none": "no dependencies",
        }[self.value]

    @property
    def requirements_file(self) -> Optional[str]:
        """The root requirements file pip reads for this manager, if it has one."""
        return {"pip": "requirements.txt", "pip-tools": "requirements.in"}.get(self.value)

    @property
    def requirements_style(self) -> bool:
        """Installed by resolving/syncing a requirement set (uv or pip engine)."""
        return self in (
            PackageManager.PIP,
            PackageManager.PIP_TOOLS,
            PackageManager.PIPENV,
            PackageManager.PYPROJECT,
            PackageManager.SETUPTOOLS,
        )


_ALIASES = {
    "pip": PackageManager.PIP,
    "requirements": PackageManager.PIP,
    "requirements.txt": PackageManager.PIP,
    "pip-tools": PackageManager.PIP_TOOLS,
    "piptools": PackageManager.PIP_TOOLS,
    "pip-compile": PackageManager.PIP_TOOLS,
    "pipenv": PackageManager.PIPENV,
    "poetry": PackageManager.POETRY,
    "uv": PackageManager.UV,
    "pyproject": PackageManager.PYPROJECT,
    "project": PackageManager.PYPROJECT,
    "pyproject.toml": PackageManager.PYPROJECT,
    "setuptools": PackageManager.SETUPTOOLS,
    "setup.py": PackageManager.SETUPTOOLS,
}


@dataclass(frozen=True)
class Candidate:
    """A package manager the app's files point to, and the file that says so."""

    manager: PackageManager
    evidence: str


@dataclass(frozen=True)
class Choice:
    """The package manager of this build, and why."""

    manager: PackageManager
    reason: str


@dataclass(eq=False)
class MultiplePackageManagers(BuildpackError):
    """More than one primary dependency file."""

    candidates: tuple[Candidate, ...]


@dataclass(eq=False)
class MissingLockFile(BuildpackError):
    """A Pipfile or Poetry project without its lock file."""

    manager: PackageManager
    found: str
    missing: str
    lock_command: str


@dataclass(eq=False)
class InvalidPackageManagerSetting(BuildpackError):
    """A package manager setting naming an unknown manager, or one whose files are missing."""

    setting: str
    value: str
    missing_file: Optional[str] = None


def candidates(
    app_dir: Path, pyproject: Optional[dict[str, Any]]
) -> tuple[list[Candidate], list[Candidate]]:
    """``(primary, fallback)`` candidates found in ``app_dir``."""
    primary: list[Candidate] = []
    if (app_dir / "requirements.txt").is_file():
        primary.append(Candidate(PackageManager.PIP, "requirements.txt"))
    elif (app_dir / "requirements.in").is_file():
        primary.append(Candidate(PackageManager.PIP_TOOLS, "requirements.in"))
    if (app_dir / PIPFILE_LOCK).is_file():
        primary.append(Candidate(PackageManager.PIPENV, PIPFILE_LOCK))
    elif (app_dir / PIPFILE).is_file():
        primary.append(Candidate(PackageManager.PIPENV, PIPFILE))
    if (app_dir / POETRY_LOCK).is_file():
        primary.append(Candidate(PackageManager.POETRY, POETRY_LOCK))
    if (app_dir / UV_LOCK).is_file():
        primary.append(Candidate(PackageManager.UV, UV_LOCK))
    if poetry_table(pyproject) is not None and not any(
        c.manager in (PackageManager.POETRY, PackageManager.UV) for c in primary
    ):
        primary.append(Candidate(PackageManager.POETRY, "pyproject.toml [tool.poetry]"))
    fallback: list[Candidate] = []
    if project_table(pyproject) is not None:
        fallback.append(Candidate(PackageManager.PYPROJECT, "pyproject.toml [project]"))
    for name in ("setup.py", "setup.cfg"):
        if (app_dir / name).is_file():
            fallback.append(Candidate(PackageManager.SETUPTOOLS, name))
            break
    return primary, fallback


def _require_lock(candidate: Candidate, app_dir: Path) -> None:
    if candidate.manager is PackageManager.PIPENV and not (app_dir / PIPFILE_LOCK).is_file():
        raise MissingLockFile(candidate.manager, PIPFILE, PIPFILE_LOCK, "pipenv lock")
    if candidate.manager is PackageManager.POETRY and not (app_dir / POETRY_LOCK).is_file():
        raise MissingLockFile(candidate.manager, PYPROJECT, POETRY_LOCK, "poetry lock")


def _required_file(
    manager: PackageManager, app_dir: Path, pyproject: Optional[dict[str, Any]]
) -> Optional[str]:
    """The file an explicitly chosen manager needs, when it is missing."""
    required = {
        PackageManager.PIP: ("requirements.txt",),
        PackageManager.PIP_TOOLS: ("requirements.in",),
        PackageManager.PIPENV: (PIPFILE_LOCK,),
        PackageManager.POETRY: (POETRY_LOCK,),
        PackageManager.UV: (UV_LOCK,),
        PackageManager.SETUPTOOLS: ("setup.py", "setup.cfg"),
    }.get(manager)
    if manager is PackageManager.PYPROJECT:
        return (
            None
            if project_table(pyproject) is not None
            else "pyproject.toml with a [project] table"
        )
    if required is None or any((app_dir / name).is_file() for name in required):
        return None
    return " or ".join(required)


def determine_package_manager(files: AppFiles, setting: Optional[tuple[str, str]]) -> Choice:
    """The package manager for this build: the setting (``(name, value)``, from
    ``Settings.package_manager``) if given, else the app's files."""
    app_dir, pyproject = files.app_dir, files.pyproject
    if setting is not None:
        name, value = setting
        manager = _ALIASES.get(value.lower())
        if manager is None:
            raise InvalidPackageManagerSetting(name, value)
        missing = _required_file(manager, app_dir, pyproject)
        if missing is not None:
            raise InvalidPackageManagerSetting(name, value, missing)
        return Choice(manager, f"{name}={value}")
    primary, fallback = candidates(app_dir, pyproject)
    if len(primary) > 1:
        raise MultiplePackageManagers(tuple(primary))
    if primary:
        _require_lock(primary[0], app_dir)
        owns_pyproject = primary[0].manager in (PackageManager.POETRY, PackageManager.UV)
        for skipped in [] if owns_pyproject else fallback:
            output.info(
                f"Not installing the {skipped.evidence} project: {primary[0].evidence} lists "
                f"the dependencies (set BP_PYTHON_PACKAGE_MANAGER={skipped.manager.value} to "
                "install the project instead)"
            )
        return Choice(primary[0].manager, f"found {primary[0].evidence}")
    if fallback:
        return Choice(fallback[0].manager, f"found {fallback[0].evidence} and no lock file")
    return Choice(PackageManager.NONE, "found no dependency file")
