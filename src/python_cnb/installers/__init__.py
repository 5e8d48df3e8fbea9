"""How dependencies get into the app's virtualenv.

Requirement sets (pip, pip-tools, Pipenv, pyproject and setuptools apps) go through an
:class:`Engine`, uv by default or pip with pip-tools: ``resolve`` pins a set, ``sync`` makes
the virtualenv match it exactly (removing what left, keeping what is unchanged, installing
what is new), ``check`` verifies consistency. Locked projects (uv.lock, poetry.lock) are
synced by their own tool.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

from python_cnb.buildpack_error import BuildpackError


@dataclass(eq=False)
class DependencyConflict(BuildpackError):
    """Installed packages whose requirements are not met (pip check / uv pip check)."""

    checker: str
    output: str


@dataclass(eq=False)
class LockFileOutOfDate(BuildpackError):
    """A lock file that no longer matches pyproject.toml."""

    lock_file: str
    lock_command: str
    output: str


class Engine(Protocol):
    """Resolves and syncs requirement sets into one virtualenv."""

    @property
    def description(self) -> str:
        """``uv 0.13.9``, for logs and layer metadata."""

    def resolve(self, inputs: Sequence[str], output: Path) -> None:
        """Pin ``inputs`` (requirements files, pyproject.toml, setup.py) into ``output``."""

    def sync(self, requirements: Path, *, hashed: bool) -> None:
        """Make the virtualenv contain exactly ``requirements``."""

    def check(self) -> None:
        """Raise :class:`DependencyConflict` if installed requirements are not met."""

    def install(self, requirements: Sequence[str]) -> None:
        """Add ``requirements`` to the virtualenv (resolved against what it has)."""


class ProjectSync(Protocol):
    """Syncs a locked project (uv.lock, poetry.lock) into one virtualenv."""

    @property
    def description(self) -> str:
        """``Poetry 2.5.1``."""

    def sync(self) -> None:
        """Install exactly what the lock says, without development dependencies."""

    def check(self) -> None:
        """Raise :class:`DependencyConflict` if installed requirements are not met."""
