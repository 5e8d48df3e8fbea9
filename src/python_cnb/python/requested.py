"""Where the requested Python version comes from, strongest source first.

1. the platform's setting: ``BP_PYTHON_VERSION``, Paketo's ``BP_CPYTHON_VERSION``, Kato's
   ``BUILD_RUNTIMES``;
2. ``.python-version``;
3. ``runtime.txt`` (``python-3.12.7``, the Heroku/Kato format);
4. ``Pipfile.lock``'s ``_meta.requires`` (``python_full_version``, ``python_version``),
   then the Pipfile's ``[requires]``;
5. pyproject.toml: ``[project] requires-python``, then Poetry's ``python`` dependency
   (ranges: the newest version inside them);
6. the default: the newest version available.

The strongest source decides and must be valid; weaker sources that disagree (or that
cannot be read) are logged, never silently dropped. Once a version is selected, it must
satisfy what the lock files and the project allow (:func:`check_locked_python`).
"""

from __future__ import annotations

from functools import partial
from typing import Callable, Optional, Sequence

from python_cnb import output
from python_cnb.app.files import AppFiles
from python_cnb.app.project_files import (
    PIPFILE,
    PIPFILE_LOCK,
    POETRY_LOCK,
    UV_LOCK,
    InvalidProjectFile,
    poetry_python,
    requires_python,
    typed,
)
from python_cnb.python.version import (
    InvalidPythonVersion,
    LockedPythonMismatch,
    PythonVersion,
    RequestedPythonVersion,
    constraint_matches,
    default_request,
    request,
)
from python_cnb.python.version_files import PYTHON_VERSION_FILE, RUNTIME_TXT, read_version_file

Source = Callable[[], Optional[RequestedPythonVersion]]


def _pyproject(files: AppFiles, key: str) -> Optional[RequestedPythonVersion]:
    pyproject = files.pyproject
    if key == "requires-python":
        value = requires_python(pyproject)
        return request(value, "pyproject.toml (requires-python)") if value else None
    value = poetry_python(pyproject)
    return request(value, "pyproject.toml (tool.poetry.dependencies.python)") if value else None


def _pipfile_requires(files: AppFiles, name: str) -> list[tuple[str, str]]:
    """``(key, version)`` of the Pipfile's ``[requires]`` or Pipfile.lock's
    ``_meta.requires``: ``python_full_version`` first, then ``python_version``. A value of
    the wrong type (``python_version = 3.12``, a number) is an error, not "no version"."""
    if name == PIPFILE_LOCK:
        meta = typed(files.pipfile_lock, "_meta", dict, name, "_meta")
        requires = typed(meta, "requires", dict, name, "_meta.requires") or {}
        prefix = "_meta.requires."
    else:
        requires = typed(files.pipfile, "requires", dict, name, "requires") or {}
        prefix = "requires."
    found = []
    for key in ("python_full_version", "python_version"):
        value = typed(requires, key, str, name, prefix + key)
        if value is not None and value.strip():
            found.append((key, value.strip()))
    return found


def _pipfile(files: AppFiles, name: str) -> Optional[RequestedPythonVersion]:
    found = _pipfile_requires(files, name)
    if not found:
        return None
    key, value = found[0]
    return request(value, f"{name} ({key})")


def version_sources(files: AppFiles, settings: Sequence[tuple[str, str]]) -> list[Source]:
    """The sources in precedence order; each returns None when it says nothing."""
    sources: list[Source] = [partial(request, value, name) for name, value in settings]
    sources += [
        partial(read_version_file, files, name) for name in (PYTHON_VERSION_FILE, RUNTIME_TXT)
    ]
    sources += [partial(_pipfile, files, PIPFILE_LOCK), partial(_pipfile, files, PIPFILE)]
    sources += [
        partial(_pyproject, files, "requires-python"),
        partial(_pyproject, files, "poetry"),
    ]
    return sources


def first_request(
    sources: Sequence[Source], files: Optional[AppFiles] = None
) -> RequestedPythonVersion:
    """The first source that says something; the rest are only compared and logged (but
    a Pipfile that cannot be parsed next to the app's Pipfile.lock is an error: pipenv
    itself reads it, and refuses it)."""
    chosen: Optional[RequestedPythonVersion] = None
    for source in sources:
        if chosen is None:
            chosen = source()
            continue
        try:
            other = source()
        except InvalidPythonVersion as error:
            output.info(f"Ignoring {error.origin}, which is not valid: {chosen.origin} decides")
            continue
        except InvalidProjectFile as error:
            if error.file == PIPFILE and files is not None and files.exists(PIPFILE_LOCK):
                raise
            output.info(f"Ignoring {error.file}, which cannot be parsed: {chosen.origin} decides")
            continue
        # A range (requires-python) is checked against the selected version later.
        if other is not None and other.specifier != chosen.specifier and not other.is_range:
            output.info(f"Ignoring {other.origin} ({other.text}): {chosen.origin} takes precedence")
    return chosen or default_request()


def read_requested_python_version(
    files: AppFiles, settings: Sequence[tuple[str, str]]
) -> RequestedPythonVersion:
    """The requested Python version of the app."""
    return first_request(version_sources(files, settings), files)


def locked_constraints(files: AppFiles) -> list[tuple[str, str]]:
    """``(file, constraint)`` for every lock or project file that restricts Python."""
    constraints: list[tuple[str, str]] = []
    if files.uv_lock_python is not None:
        constraints.append((UV_LOCK, files.uv_lock_python))
    if files.poetry_lock_python is not None:
        constraints.append((POETRY_LOCK, files.poetry_lock_python))
    patterns = {"python_full_version": "=={}", "python_version": "=={}.*"}
    for key, value in _pipfile_requires(files, PIPFILE_LOCK)[:1]:  # the most precise one
        constraints.append((f"{PIPFILE_LOCK} ({key})", patterns[key].format(value)))
    pyproject_requires = requires_python(files.pyproject)
    if pyproject_requires:
        constraints.append(("pyproject.toml (requires-python)", pyproject_requires))
    return constraints


def check_locked_python(
    app_files: AppFiles,
    version: PythonVersion,
    requested: RequestedPythonVersion,
    files: Optional[Sequence[str]] = None,
) -> None:
    """Fail when the selected version contradicts a lock or project file that will be
    installed from (``files``: the names to check; default all of them)."""
    for file, constraint in locked_constraints(app_files):
        if files is not None and file.split(" (")[0] not in files:
            continue
        if not constraint_matches(constraint, version, origin=file):
            raise LockedPythonMismatch(version, requested.origin, file, constraint)
