"""The build plan a buildpack writes at detect, and the buildpack plan it reads at build."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from python_cnb.cnb import toml_file
from python_cnb.cnb.validate import validate_plan


@dataclass(frozen=True)
class Require:
    """A ``[[requires]]`` entry; versions belong in ``metadata``."""

    name: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildPlan:
    """What a buildpack provides and requires; ``alternatives`` become ``[[or]]`` tables."""

    provides: tuple[str, ...] = ()
    requires: tuple[Require, ...] = ()
    alternatives: tuple[BuildPlan, ...] = ()

    def _entries(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.provides:
            data["provides"] = [{"name": name} for name in self.provides]
        if self.requires:
            data["requires"] = [
                {"name": r.name, **({"metadata": dict(r.metadata)} if r.metadata else {})}
                for r in self.requires
            ]
        return data

    def to_toml(self) -> dict[str, Any]:
        """The plan as TOML data."""
        data = self._entries()
        if self.alternatives:
            data["or"] = [alternative._entries() for alternative in self.alternatives]
        return data

    def write(self, path: Path) -> None:
        """Validate, then write the plan into ``$CNB_BUILD_PLAN_PATH``.

        The lifecycle creates that file; it is written in place, since its directory need
        not be writable by the buildpack.
        """
        data = self.to_toml()
        validate_plan(data)
        path.write_text(toml_file.dumps(data), encoding="utf-8")


@dataclass(frozen=True)
class PlanEntry:
    """An entry of the buildpack plan: a requirement resolved to this buildpack."""

    name: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildpackPlan:
    """The entries of ``$CNB_BP_PLAN_PATH``."""

    entries: tuple[PlanEntry, ...] = ()

    @classmethod
    def read(cls, path: Path) -> BuildpackPlan:
        """Read the buildpack plan; a missing or empty file is an empty plan."""
        data = toml_file.read(path) if path.is_file() else {}
        return cls(
            tuple(
                PlanEntry(entry["name"], entry.get("metadata", {}))
                for entry in data.get("entries", [])
            )
        )

    def names(self) -> tuple[str, ...]:
        """The names of all entries."""
        return tuple(entry.name for entry in self.entries)
