"""Layer environment files: ``env/``, ``env.build/``, ``env.launch/`` and ``env.launch/<type>/``.

The file name is the variable name plus an action suffix; the file content is the value,
verbatim (no trailing newline: it would become part of the value). Prepend and append get an
explicit ``.delim`` file, because without one the lifecycle uses no separator at all.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Optional

from python_cnb.cnb import toml_file
from python_cnb.cnb.validate import SpecViolation, check_env_dir_name, check_env_file


class Scope(Enum):
    """When a modification applies."""

    ALL = "env"
    """At build (for later buildpacks) and at launch."""
    BUILD = "env.build"
    """At build only, for later buildpacks."""
    LAUNCH = "env.launch"
    """At launch only (optionally for one process type)."""


class Action(Enum):
    """How a value is applied."""

    OVERRIDE = "override"
    DEFAULT = "default"
    PREPEND = "prepend"
    APPEND = "append"


@dataclass(frozen=True)
class EnvModification:
    """One variable modification; becomes one env file (two with a delimiter)."""

    scope: Scope
    name: str
    action: Action
    value: str
    delimiter: Optional[str] = None
    process: Optional[str] = None

    @property
    def directory(self) -> str:
        """The env directory, relative to the layer."""
        if self.process is not None:
            if self.scope is not Scope.LAUNCH:
                raise ValueError("process-specific env applies at launch only")
            return f"{self.scope.value}/{self.process}"
        return self.scope.value

    def files(self) -> dict[str, str]:
        """File name to content, for this modification."""
        files = {f"{self.name}.{self.action.value}": self.value}
        if self.delimiter is not None:
            files[f"{self.name}.delim"] = self.delimiter
        return files


class LayerEnv:
    """The environment modifications of one layer, written as the spec's env files."""

    def __init__(self) -> None:
        self._modifications: list[EnvModification] = []

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._modifications)

    def add(self, modification: EnvModification) -> LayerEnv:
        """Add a modification; a later one for the same file replaces an earlier one."""
        self._modifications = [
            m
            for m in self._modifications
            if not (
                m.directory == modification.directory
                and m.name == modification.name
                and m.action == modification.action
            )
        ]
        self._modifications.append(modification)
        return self

    def override(
        self, name: str, value: str, scope: Scope = Scope.ALL, process: Optional[str] = None
    ) -> LayerEnv:
        """Set ``name`` to ``value``, whatever it was."""
        return self.add(EnvModification(scope, name, Action.OVERRIDE, value, None, process))

    def default(
        self, name: str, value: str, scope: Scope = Scope.ALL, process: Optional[str] = None
    ) -> LayerEnv:
        """Set ``name`` to ``value`` unless it is already set (users and platforms win)."""
        return self.add(EnvModification(scope, name, Action.DEFAULT, value, None, process))

    def prepend(
        self,
        name: str,
        value: str,
        delimiter: str,
        scope: Scope = Scope.ALL,
        process: Optional[str] = None,
    ) -> LayerEnv:
        """Put ``value`` before the current value, separated by ``delimiter``."""
        return self.add(EnvModification(scope, name, Action.PREPEND, value, delimiter, process))

    def append(
        self,
        name: str,
        value: str,
        delimiter: str,
        scope: Scope = Scope.ALL,
        process: Optional[str] = None,
    ) -> LayerEnv:
        """Put ``value`` after the current value, separated by ``delimiter``."""
        return self.add(EnvModification(scope, name, Action.APPEND, value, delimiter, process))

    def files(self) -> dict[str, str]:
        """Relative path (``env.launch/PORT.default``) to content, validated."""
        files: dict[str, str] = {}
        problems: list[str] = []
        for modification in self._modifications:
            problems += check_env_dir_name(modification.directory)
            for name, value in modification.files().items():
                problems += check_env_file(name, value)
                path = f"{modification.directory}/{name}"
                if path in files and files[path] != value:
                    problems.append(f"{path} is given two different values")
                files[path] = value
        if problems:
            raise SpecViolation("layer env", tuple(problems))
        return files

    def write(self, layer_dir: Path) -> None:
        """Replace the layer's env directories with exactly these modifications."""
        files = self.files()
        for scope in Scope:
            shutil.rmtree(layer_dir / scope.value, ignore_errors=True)
        for relative, value in sorted(files.items()):
            toml_file.write_text_atomically(layer_dir / relative, value)
