"""Processes, labels and slices: ``<layers>/launch.toml``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from python_cnb.cnb import toml_file
from python_cnb.cnb.validate import validate_launch_toml


@dataclass(frozen=True)
class Process:
    """A process type of the app image.

    ``command`` is always run directly (no shell) by the launcher: its first element is looked
    up on PATH, and the rest is always passed. ``args`` are defaults the user can replace.
    """

    type: str
    command: tuple[str, ...]
    args: tuple[str, ...] = ()
    default: bool = False
    working_dir: Optional[str] = None

    def to_toml(self) -> dict[str, Any]:
        """The ``[[processes]]`` table."""
        data: dict[str, Any] = {"type": self.type, "command": list(self.command)}
        if self.args:
            data["args"] = list(self.args)
        data["default"] = self.default
        if self.working_dir is not None:
            data["working-dir"] = self.working_dir
        return data


@dataclass(frozen=True)
class Label:
    """An image label."""

    key: str
    value: str


@dataclass(frozen=True)
class Launch:
    """The contents of launch.toml."""

    processes: tuple[Process, ...] = ()
    labels: tuple[Label, ...] = ()
    slices: tuple[tuple[str, ...], ...] = ()

    def to_toml(self) -> dict[str, Any]:
        """launch.toml as TOML data."""
        data: dict[str, Any] = {}
        if self.processes:
            data["processes"] = [process.to_toml() for process in self.processes]
        if self.labels:
            data["labels"] = [{"key": label.key, "value": label.value} for label in self.labels]
        if self.slices:
            data["slices"] = [{"paths": list(paths)} for paths in self.slices]
        return data

    def write(self, layers_dir: Path) -> None:
        """Validate, then write ``<layers>/launch.toml`` (nothing to write: no file)."""
        data = self.to_toml()
        validate_launch_toml(data)
        path = layers_dir / "launch.toml"
        if data:
            toml_file.write(path, data)
        else:
            path.unlink(missing_ok=True)
