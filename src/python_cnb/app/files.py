"""The app's files, each read and parsed at most once per build, handed to every step.

pyproject.toml, uv.toml, uv.lock, poetry.lock, the Pipfile, Pipfile.lock, the requirement files
and the Python version files are read on first use (a file no step needs is never read; one that
cannot be parsed fails where it is used, with the error it always had) and kept: package
manager detection, the requested Python version and its lock veto, the dependency plan, the
project's scripts and the SBOM's hashes all see the same parsed values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping, Optional

from python_cnb.app.project_files import (
    PIPFILE,
    PIPFILE_LOCK,
    POETRY_LOCK,
    PYPROJECT,
    UV_LOCK,
    UV_TOML,
    key_line,
    poetry_table,
    project_table,
    read_app_bytes,
    read_json,
    read_toml,
    typed,
)
from python_cnb.app.requirements_files import RequirementSet, read_requirements


@dataclass(frozen=True)
class ToolConstraint:
    """The app's constraint on a build tool's version (``[tool.uv] required-version``,
    ``[tool.poetry] requires-poetry``), as written."""

    tool: str
    """``uv`` or ``poetry``."""
    specifier: str
    file: str
    """``pyproject.toml`` or ``uv.toml``."""
    key: str
    """``required-version``, ``requires-poetry``."""
    line: Optional[int] = None

    @property
    def where(self) -> str:
        """``pyproject.toml line 7``."""
        return f"{self.file} line {self.line}" if self.line else self.file


@dataclass(frozen=True, eq=False)
class AppFiles:
    """The files of the app in ``app_dir``; ``env`` is the build's environment (``${VAR}``
    in requirement files)."""

    app_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    _read: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    """Per-name values of :meth:`raw` and :meth:`requirements`."""

    def exists(self, name: str) -> bool:
        return (self.app_dir / name).is_file()

    @cached_property
    def pyproject(self) -> Optional[dict[str, Any]]:
        return read_toml(self.app_dir, PYPROJECT)

    @cached_property
    def uv_toml(self) -> Optional[dict[str, Any]]:
        return read_toml(self.app_dir, UV_TOML)

    @cached_property
    def pipfile(self) -> Optional[dict[str, Any]]:
        return read_toml(self.app_dir, PIPFILE)

    @cached_property
    def pipfile_lock(self) -> Optional[dict[str, Any]]:
        return read_json(self.app_dir, PIPFILE_LOCK)

    @cached_property
    def uv_lock(self) -> Optional[dict[str, Any]]:
        return read_toml(self.app_dir, UV_LOCK)

    @cached_property
    def poetry_lock(self) -> Optional[dict[str, Any]]:
        return read_toml(self.app_dir, POETRY_LOCK)

    def raw(self, name: str) -> Optional[bytes]:
        """The bytes of a small app file (``.python-version``, ``runtime.txt``), or None."""
        key = f"raw:{name}"
        if key not in self._read:
            self._read[key] = read_app_bytes(self.app_dir, name)
        data: Optional[bytes] = self._read[key]
        return data

    def requirements(self, root: str) -> RequirementSet:
        """``root`` (``requirements.txt``) and the files it includes, as pip reads them."""
        key = f"requirements:{root}"
        if key not in self._read:
            self._read[key] = read_requirements(self.app_dir / root, self.app_dir, self.env)
        found: RequirementSet = self._read[key]
        return found

    @property
    def project_scripts(self) -> list[str]:
        """Names of the project's console scripts (``[project.scripts]``, Poetry scripts)."""
        names: list[str] = []
        for table in (
            (project_table(self.pyproject) or {}).get("scripts"),
            (poetry_table(self.pyproject) or {}).get("scripts"),
        ):
            if isinstance(table, dict):
                names += [name for name in table if name not in names]
        return names

    @property
    def uv_lock_python(self) -> Optional[str]:
        """uv.lock's ``requires-python``, if it is a string."""
        value = (self.uv_lock or {}).get("requires-python")
        return value if isinstance(value, str) else None

    @property
    def poetry_lock_python(self) -> Optional[str]:
        """poetry.lock's ``[metadata] python-versions``, if it is a string."""
        metadata = (self.poetry_lock or {}).get("metadata")
        value = metadata.get("python-versions") if isinstance(metadata, dict) else None
        return value if isinstance(value, str) else None

    @property
    def tool_constraints(self) -> tuple[ToolConstraint, ...]:
        """The app's constraints on uv's and Poetry's versions. uv reads uv.toml instead of
        ``[tool.uv]`` when both exist (as uv does)."""
        found: list[ToolConstraint] = []
        if self.exists(UV_TOML):
            found += self._constraint("uv", UV_TOML, self.uv_toml, None, "required-version")
        else:
            tool = typed(self.pyproject, "tool", dict, PYPROJECT, "tool")
            uv = typed(tool, "uv", dict, PYPROJECT, "tool.uv")
            found += self._constraint("uv", PYPROJECT, uv, "tool.uv", "required-version")
        poetry = poetry_table(self.pyproject)
        found += self._constraint("poetry", PYPROJECT, poetry, "tool.poetry", "requires-poetry")
        return tuple(found)

    def _constraint(
        self,
        tool: str,
        file: str,
        table: Optional[dict[str, Any]],
        name: Optional[str],
        key: str,
    ) -> list[ToolConstraint]:
        where = f"{name}.{key}" if name else key
        value = typed(table, key, str, file, where)
        if value is None:
            return []
        raw = self.raw(file) or b""
        line = key_line(raw.decode("utf-8", "replace"), name, key)
        return [ToolConstraint(tool, value, file, key, line)]
