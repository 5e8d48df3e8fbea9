"""The buildpack's descriptor, ``buildpack.toml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from python_cnb.cnb import toml_file
from python_cnb.cnb.validate import validate_buildpack_toml


@dataclass(frozen=True)
class BuildpackDescriptor:
    """The fields of buildpack.toml the buildpack uses at run time."""

    api: str
    id: str
    version: str
    name: str = ""
    sbom_formats: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_toml(cls, data: Mapping[str, Any]) -> BuildpackDescriptor:
        """Validate and read a parsed buildpack.toml."""
        validate_buildpack_toml(data)
        buildpack = data["buildpack"]
        return cls(
            api=data["api"],
            id=buildpack["id"],
            version=buildpack["version"],
            name=buildpack.get("name", ""),
            sbom_formats=tuple(buildpack.get("sbom-formats", ())),
            metadata=data.get("metadata", {}),
        )


def read_descriptor(buildpack_dir: Path) -> BuildpackDescriptor:
    """Read ``<buildpack_dir>/buildpack.toml``."""
    return BuildpackDescriptor.from_toml(toml_file.read(buildpack_dir / "buildpack.toml"))


def escape_id(buildpack_id: str) -> str:
    """The directory name of a buildpack's layers: its id with ``/`` replaced by ``_``."""
    return buildpack_id.replace("/", "_")
