"""How dependencies get into the app's virtualenv.

Requirement sets (pip, pip-tools, Pipenv, pyproject and setuptools apps) go through an
:class:`Engine`, uv by default or pip with pip-tools: ``resolve`` pins a set, ``sync`` makes
the virtualenv match it exactly (removing what left, keeping what is unchanged, installing
what is new), ``check`` verifies consistency. Locked projects (uv.lock, poetry.lock) are
synced by their own tool.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Protocol, Sequence

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


@dataclass(eq=False)
class RequirementsWithoutHashes(BuildpackError):
    """Hash-checking mode (some line has ``--hash``) with requirements that have none."""

    lines: tuple[str, ...]
    """``requirements.txt line 2: gunicorn==27.0.1``."""
    hashed_example: str


@dataclass(eq=False)
class HashMismatch(BuildpackError):
    """A downloaded distribution whose digest is not the one the requirements file pins."""

    package: str
    expected: str
    actual: str
    installer: str


_UV_MISMATCH = re.compile(
    r"Hash mismatch for `(?P<package>[^`]+)`\s+Expected:\s+(?P<expected>\S+)"
    r"(?:\s+\S+)*?\s+Computed:\s+(?P<actual>\S+)"
)
_PIP_MISMATCH = re.compile(
    r"^\s*(?P<package>\S+) from \S+.*:\s*\n\s*Expected (?P<algorithm>\w+) (?P<expected>\S+)"
    r"(?:\s*\n\s*or (?:\w+ )?\S+)*\s*\n\s*Got\s+(?P<actual>\S+)",
    re.MULTILINE,
)


def hash_mismatch(output: str, installer: str) -> Optional[HashMismatch]:
    """The first digest mismatch uv or pip reported in ``output``, if any."""
    match = _UV_MISMATCH.search(output)
    if match is not None:
        return HashMismatch(match["package"], match["expected"], match["actual"], installer)
    match = _PIP_MISMATCH.search(output)
    if match is not None:
        algorithm = match["algorithm"]
        return HashMismatch(
            match["package"],
            f"{algorithm}:{match['expected']}",
            f"{algorithm}:{match['actual']}",
            installer,
        )
    return None


class Engine(Protocol):
    """Resolves and syncs requirement sets into one virtualenv."""

    @property
    def description(self) -> str:
        """``uv 0.13.9``, for logs and layer metadata."""

    def resolve(
        self, inputs: Sequence[str], output: Path, *, display: str = "", refresh: bool = False
    ) -> None:
        """Pin ``inputs`` (requirements files, pyproject.toml, setup.py) into ``output``
        (``display``: how to name the inputs in the log; ``refresh``: no cached metadata)."""

    def sync(self, requirements: Path, *, hashed: bool, reinstall: Sequence[str] = ()) -> None:
        """Make the virtualenv contain exactly ``requirements`` (``reinstall``: these
        distributions anew even if their version is already there)."""

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
