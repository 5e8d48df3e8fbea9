"""Reading the app's project files: pyproject.toml, Pipfile, Pipfile.lock, uv.lock, poetry.lock.

TOML is read with tomllib (TOML 1.0), JSON with json. A file that exists but cannot be
parsed is an error that names it; a missing file is None. Every app file is read through
:func:`read_app_bytes`: one that resolves outside the app (a symlink to /etc/shadow) is
refused, and one the OS will not let the build read is an error that names it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

from python_cnb.buildpack_error import BuildpackError, file_system_fault
from python_cnb.cnb import toml_file

PYPROJECT = "pyproject.toml"
PIPFILE = "Pipfile"
PIPFILE_LOCK = "Pipfile.lock"
UV_LOCK = "uv.lock"
UV_TOML = "uv.toml"
POETRY_LOCK = "poetry.lock"


@dataclass(frozen=True)
class ParserMessage:
    """The TOML or JSON parser's own message (with the line and column)."""

    detail: str


@dataclass(frozen=True)
class NestedTooDeeply:
    """Arrays or tables nested thousands deep (the parser's recursion limit)."""


@dataclass(frozen=True)
class NotAJsonObject:
    """A JSON file whose top level is not an object."""


@dataclass(frozen=True)
class WrongType:
    """A key holding another type than the file's format requires."""

    where: str
    """The key path, such as ``_meta.requires`` or ``[project].dependencies``."""
    wanted: str
    actual: str
    shown: str
    """The value, shortened."""


ProjectFileProblem = Union[ParserMessage, NestedTooDeeply, NotAJsonObject, WrongType]
"""Why a project file cannot be used (errors.py words it)."""


@dataclass(eq=False)
class InvalidProjectFile(BuildpackError):
    """A project file that exists but cannot be parsed."""

    file: str
    problem: ProjectFileProblem


@dataclass(eq=False)
class OutsideApp(BuildpackError):
    """An app file that resolves to a path outside the app directory (a symlink out)."""

    file: str
    target: str


def inside_app(app_dir: Path, name: str | Path) -> Path:
    """``app_dir/name`` resolved, after checking that it stays inside the app directory.

    The build reads dependency, Procfile and version files and may print parts of them; one
    that is a symlink to /etc/shadow or /proc/self/environ must not be read at all (the
    error names the target, never its contents). Raise :class:`OutsideApp`."""
    root = app_dir.resolve()
    try:
        resolved = (app_dir / name).resolve()
    except (OSError, RuntimeError) as error:  # a symlink loop
        fault = file_system_fault(error, "read", str(name)) if isinstance(error, OSError) else None
        raise fault or OutsideApp(str(name), "a symlink loop") from None
    if resolved != root and root not in resolved.parents:
        raise OutsideApp(str(name), str(resolved))
    return resolved


def read_app_bytes(app_dir: Path, name: str | Path) -> Optional[bytes]:
    """The bytes of the app file ``app_dir/name`` (checked with :func:`inside_app`), or None
    when there is no such file; raise a FileSystemFault naming it when it cannot be read."""
    if not (app_dir / name).is_file():
        return None
    path = inside_app(app_dir, name)
    try:
        return path.read_bytes()
    except OSError as error:
        fault = file_system_fault(error, "read", str(name))
        if fault is None:
            raise
        raise fault from None


def read_app_text(app_dir: Path, name: str | Path) -> Optional[str]:
    """:func:`read_app_bytes` as UTF-8 text (undecodable bytes shown as U+FFFD)."""
    data = read_app_bytes(app_dir, name)
    return None if data is None else data.decode("utf-8", errors="replace")


def read_toml(app_dir: Path, name: str) -> Optional[dict[str, Any]]:
    """The parsed TOML file ``app_dir/name``, or None when it does not exist."""
    data = read_app_bytes(app_dir, name)
    if data is None:
        return None
    try:
        return toml_file.loads(data.decode("utf-8"))
    except (toml_file.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InvalidProjectFile(name, ParserMessage(str(error))) from None
    except RecursionError:  # arrays nested thousands deep
        raise InvalidProjectFile(name, NestedTooDeeply()) from None


def read_json(app_dir: Path, name: str) -> Optional[dict[str, Any]]:
    """The parsed JSON file ``app_dir/name``, or None when it does not exist."""
    raw = read_app_bytes(app_dir, name)
    if raw is None:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidProjectFile(name, ParserMessage(str(error))) from None
    except RecursionError:
        raise InvalidProjectFile(name, NestedTooDeeply()) from None
    if not isinstance(data, dict):
        raise InvalidProjectFile(name, NotAJsonObject())
    return data


def toml_kind(value: Any) -> str:
    """What a value is, in TOML's (and JSON's) words: ``a string``, ``an array``..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return "a date or time" if value is not None else "null"


_KIND_NAMES: dict[type[Any], str] = {dict: "a table", str: "a string", list: "an array"}


def typed(
    parent: Optional[dict[str, Any]],
    key: str,
    kind: type[Any],
    file: str,
    where: str,
) -> Any:
    """``parent[key]`` when it is a ``kind``, None when it is missing; a value of another
    type is an :class:`InvalidProjectFile` naming ``where`` (a key path such as
    ``_meta.requires``) and what it is instead, not something to ignore."""
    if parent is None or key not in parent:
        return None
    value = parent[key]
    if isinstance(value, kind) and not (kind is not bool and isinstance(value, bool)):
        return value
    wanted = _KIND_NAMES.get(kind, kind.__name__)
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "…"
    raise InvalidProjectFile(file, WrongType(where, wanted, toml_kind(value), shown))


def _table(parent: Optional[dict[str, Any]], key: str, where: str) -> Optional[dict[str, Any]]:
    table: Optional[dict[str, Any]] = typed(parent, key, dict, PYPROJECT, where)
    return table


def project_table(pyproject: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """pyproject's ``[project]`` table, if any (``project = "demo"`` is an error)."""
    return _table(pyproject, "project", "project")


def poetry_table(pyproject: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """pyproject's ``[tool.poetry]`` table, if any."""
    return _table(_table(pyproject, "tool", "tool"), "poetry", "tool.poetry")


def requires_python(pyproject: Optional[dict[str, Any]]) -> Optional[str]:
    """``[project] requires-python``, if set."""
    value = typed(project_table(pyproject), "requires-python", str, PYPROJECT, "requires-python")
    return value.strip() if isinstance(value, str) and value.strip() else None


def poetry_python(pyproject: Optional[dict[str, Any]]) -> Optional[str]:
    """Poetry's ``[tool.poetry.dependencies] python`` constraint, if set."""
    dependencies = _table(poetry_table(pyproject), "dependencies", "tool.poetry.dependencies")
    value = (dependencies or {}).get("python")
    return value.strip() if isinstance(value, str) and value.strip() else None


def key_line(text: str, table: Optional[str], key: str) -> Optional[int]:
    """The line number of ``key = ...`` in ``[table]`` (None: the top level) of TOML
    ``text``, for error messages; None when it is not written that plain way."""
    current: Optional[str] = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            current = stripped.strip("[]").strip().replace('"', "").replace(" ", "")
            continue
        name, equals, _ = stripped.partition("=")
        if equals and current == table and name.strip().strip('"') == key:
            return number
    return None
