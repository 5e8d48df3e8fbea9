"""An app that declares no dependencies gets an empty venv: when its code imports packages
all the same, fail the build instead of shipping an image that crashes at its first import.

The imports are read by :mod:`python_cnb.programs.app_imports`, run by the app's own
interpreter (its grammar, its standard library). Files that look like a misspelled
dependency file, a conda environment or a ``requirements/`` directory are named, since
those are the usual reasons nothing was declared.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from python_cnb import notices, output
from python_cnb.app.project_files import PIPFILE, PIPFILE_LOCK, POETRY_LOCK, PYPROJECT, UV_LOCK
from python_cnb.buildpack_error import BuildpackError
from python_cnb.layers.python import InstalledPython
from python_cnb.programs import app_imports

DEPENDENCY_FILES = (
    "requirements.txt",
    "requirements.in",
    PIPFILE,
    PIPFILE_LOCK,
    PYPROJECT,
    POETRY_LOCK,
    UV_LOCK,
    "setup.py",
    "setup.cfg",
)
"""The files python-cnb reads the app's dependencies from (app/package_manager.py)."""
CONDA_FILES = ("environment.yml", "environment.yaml", "conda.yml", "conda.yaml")
SETTING = "BP_PYTHON_ALLOW_UNDECLARED_IMPORTS"


@dataclass(frozen=True)
class LookAlikes:
    """What in the app's root may be meant as a dependency file."""

    near_misses: tuple[tuple[str, str], ...] = ()
    """``(found, meant)``: names close to a dependency file's (``requirments.txt``,
    ``Requirements.txt``), with the name python-cnb reads."""
    conda: Optional[str] = None
    """A conda environment file (conda is not supported)."""
    requirements_dir: tuple[str, ...] = ()
    """``requirements/*.txt`` (split requirement files with no root file naming them)."""

    def __bool__(self) -> bool:
        return bool(self.names)

    @property
    def names(self) -> tuple[str, ...]:
        """Every look-alike's file name."""
        conda = (self.conda,) if self.conda else ()
        return (*(found for found, _ in self.near_misses), *conda, *self.requirements_dir)


@dataclass(eq=False)
class UndeclaredImports(BuildpackError):
    """The app imports packages but declares no dependencies."""

    imports: tuple[tuple[str, tuple[str, ...]], ...]
    """``(module, (where, ...))``, e.g. ``("flask", ("app.py:1",))``."""
    look_alikes: LookAlikes
    setting: str = SETTING


def look_alikes(app_dir: Path) -> LookAlikes:
    """See :class:`LookAlikes`."""
    try:
        names = sorted(entry.name for entry in app_dir.iterdir() if entry.is_file())
    except OSError:
        names = []
    lowered = {name.lower(): name for name in DEPENDENCY_FILES}
    near: list[tuple[str, str]] = []
    for name in names:
        if name in DEPENDENCY_FILES:
            continue
        close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.8)
        if close:
            near.append((name, lowered[close[0]]))
    conda = next((name for name in CONDA_FILES if name in names), None)
    directory = app_dir / "requirements"
    split = tuple(sorted(f"requirements/{p.name}" for p in directory.glob("*.txt")))
    return LookAlikes(tuple(near), conda, split if directory.is_dir() else ())


def read_imports(python: InstalledPython, app_dir: Path) -> dict[str, list[str]]:
    """The app's undeclared imports, read by the app's interpreter."""
    found: dict[str, list[str]] = python.run_program(Path(app_imports.__file__), app_dir)["imports"]
    return found


def check_undeclared_imports(python: InstalledPython, app_dir: Path, allowed: bool) -> None:
    """Raise :class:`UndeclaredImports` when the code imports what nothing installs; warn
    about files that look like a dependency file when nothing is imported."""
    imports = read_imports(python, app_dir)
    alikes = look_alikes(app_dir)
    if imports and not allowed:
        raise UndeclaredImports(
            tuple((name, tuple(places)) for name, places in imports.items()), alikes
        )
    if imports:
        output.warning(*notices.undeclared_imports_allowed(sorted(imports), SETTING))
    elif alikes:
        output.warning(*notices.dependency_look_alikes(alikes.names))
    else:
        output.info(notices.STDLIB_ONLY)
