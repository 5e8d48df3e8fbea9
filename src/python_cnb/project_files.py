"""Reading the app's project files: pyproject.toml, Pipfile, Pipfile.lock, uv.lock, poetry.lock.

TOML is read with tomllib (TOML 1.0), JSON with json. A file that exists but cannot be
parsed is an error that names it; a missing file is None.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from python_cnb.buildpack_error import BuildpackError
from python_cnb.cnb import toml_file

PYPROJECT = "pyproject.toml"
PIPFILE = "Pipfile"
PIPFILE_LOCK = "Pipfile.lock"
UV_LOCK = "uv.lock"
POETRY_LOCK = "poetry.lock"


@dataclass(eq=False)
class InvalidProjectFile(BuildpackError):
    """A project file that exists but cannot be parsed."""

    file: str
    reason: str


def read_toml(app_dir: Path, name: str) -> Optional[dict[str, Any]]:
    """The parsed TOML file ``app_dir/name``, or None when it does not exist."""
    path = app_dir / name
    if not path.is_file():
        return None
    try:
        return toml_file.read(path)
    except (toml_file.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InvalidProjectFile(name, str(error)) from None


def read_json(app_dir: Path, name: str) -> Optional[dict[str, Any]]:
    """The parsed JSON file ``app_dir/name``, or None when it does not exist."""
    path = app_dir / name
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidProjectFile(name, str(error)) from None
    if not isinstance(data, dict):
        raise InvalidProjectFile(name, "it is not a JSON object")
    return data


def _table(parent: Optional[dict[str, Any]], key: str) -> Optional[dict[str, Any]]:
    """``parent[key]`` when it is a table (a key of another type is no table)."""
    table = (parent or {}).get(key)
    return table if isinstance(table, dict) else None


def project_table(pyproject: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """pyproject's ``[project]`` table, if any."""
    return _table(pyproject, "project")


def poetry_table(pyproject: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """pyproject's ``[tool.poetry]`` table, if any."""
    return _table(_table(pyproject, "tool"), "poetry")


def requires_python(pyproject: Optional[dict[str, Any]]) -> Optional[str]:
    """``[project] requires-python``, if set."""
    value = (project_table(pyproject) or {}).get("requires-python")
    return value.strip() if isinstance(value, str) and value.strip() else None


def poetry_python(pyproject: Optional[dict[str, Any]]) -> Optional[str]:
    """Poetry's ``[tool.poetry.dependencies] python`` constraint, if set."""
    value = (_table(poetry_table(pyproject), "dependencies") or {}).get("python")
    return value.strip() if isinstance(value, str) and value.strip() else None


def project_name(pyproject: Optional[dict[str, Any]]) -> Optional[str]:
    """The project's name (``[project]`` or ``[tool.poetry]``)."""
    for table in (project_table(pyproject), poetry_table(pyproject)):
        name = (table or {}).get("name")
        if isinstance(name, str) and name:
            return name
    return None
