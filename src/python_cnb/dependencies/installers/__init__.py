"""How dependencies get into the app's virtualenv: one :class:`Installer` per build.

Requirement sets (pip, pip-tools, Pipenv, pyproject and setuptools apps) are installed by
:class:`~python_cnb.dependencies.installers.requirement_set.RequirementSetInstaller` through
an :class:`Engine`, uv by default or pip with pip-tools: ``resolve`` pins a set, ``sync``
makes the virtualenv match it exactly (removing what left, keeping what is unchanged,
installing what is new), ``check`` verifies consistency. Locked projects (uv.lock,
poetry.lock) are synced by their own tool. Every command goes through an injected
:class:`Run` (the real one by default), so command lines can be tested without the tools.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional, Protocol, Sequence

from python_cnb.buildpack_error import BuildpackError
from python_cnb.config.index import IndexSettings
from python_cnb.dependencies.plan import DependencyPlan
from python_cnb.layers.venv import VenvState


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


class Run(Protocol):
    """How installers run commands: :func:`python_cnb.support.commands.run_streamed`'s
    signature (``echo=False`` for a quiet run)."""

    def __call__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        display: Optional[str] = None,
        echo: bool = True,
    ) -> str: ...


@dataclass(frozen=True)
class Inputs:
    """What an installer prepared before the reuse decision, in a temporary directory."""

    workdir: Path
    """The temporary directory, for what :meth:`Installer.install` writes too."""
    requirements: Optional[Path] = None
    """The app's requirement files as one normalised file (options on the command line)."""
    resolved: Optional[Path] = None
    """Resolved before the reuse decision (projects) or a pinned set (Pipfile.lock)."""

    def resolved_text(self) -> str:
        """The resolved set the venv's fingerprint includes (empty if none)."""
        return self.resolved.read_text(encoding="utf-8") if self.resolved else ""


class Installer(Protocol):
    """Installs the app's dependencies into the venv, adds to it, and checks it."""

    @property
    def description(self) -> str:
        """``uv 0.13.9``, ``Poetry 2.5.1``, ``none``: for logs and the venv's metadata."""

    def prepare(self, plan: DependencyPlan, workdir: Path) -> Inputs:
        """Before the venv's reuse decision: write what :meth:`install` needs into
        ``workdir``, resolving now when the reuse depends on the result."""

    def install(self, plan: DependencyPlan, inputs: Inputs, venv: VenvState) -> None:
        """Make the venv hold exactly the plan's dependencies."""

    def add(self, requirements: Sequence[str]) -> None:
        """Add ``requirements`` (the web server) to the venv, resolved against what it has."""

    def check(self) -> None:
        """Raise :class:`DependencyConflict` if installed requirements are not met."""


class Engine(Protocol):
    """Resolves and syncs requirement sets into one virtualenv (uv, or pip with pip-tools)."""

    @property
    def description(self) -> str:
        """``uv 0.13.9``, for logs and layer metadata."""

    @property
    def index(self) -> IndexSettings:
        """What the app's requirements install from."""

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


class NoInstaller:
    """An app without dependencies: nothing to install or check; a server is added by the
    engine ``adder`` makes (its tool is installed only then)."""

    description = "none"

    def __init__(self, adder: Callable[[], Engine]) -> None:
        self.adder = adder

    def prepare(self, plan: DependencyPlan, workdir: Path) -> Inputs:
        return Inputs(workdir)

    def install(self, plan: DependencyPlan, inputs: Inputs, venv: VenvState) -> None:
        pass

    def add(self, requirements: Sequence[str]) -> None:
        self.adder().install(requirements)

    def check(self) -> None:
        pass
