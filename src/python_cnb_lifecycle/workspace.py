"""The runner's workspace: the image, the cache and the platform of one app."""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from python_cnb.cnb import toml_file
from python_cnb.cnb.buildpack_toml import BuildpackDescriptor, escape_id


@dataclass(frozen=True)
class Workspace:
    """Paths of a workspace (see the package docstring)."""

    root: Path

    @property
    def app(self) -> Path:
        return self.root / "app"

    @property
    def layers(self) -> Path:
        return self.root / "layers"

    @property
    def previous_layers(self) -> Path:
        """The previous image's layers while a rebuild runs."""
        return self.root / ".previous-layers"

    @property
    def platform(self) -> Path:
        return self.root / "platform"

    @property
    def build_config(self) -> Path:
        return self.root / "build-config"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def image_metadata(self) -> Path:
        return self.root / "image.json"

    @property
    def cache_metadata(self) -> Path:
        return self.cache / "cache.json"

    def bp_layers(self, buildpack_id: str) -> Path:
        """``<layers>/<escaped id>``."""
        return self.layers / escape_id(buildpack_id)


@dataclass(frozen=True)
class Buildpack:
    """A buildpack of the group: its directory and descriptor."""

    path: Path
    descriptor: BuildpackDescriptor
    raw: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> Buildpack:
        raw = toml_file.read(path / "buildpack.toml")
        return cls(path.resolve(), BuildpackDescriptor.from_toml(raw), raw)

    @property
    def id(self) -> str:
        return self.descriptor.id

    @property
    def clear_env(self) -> bool:
        return bool(self.raw["buildpack"].get("clear-env", False))

    def supports(self, target: Target) -> bool:
        """Whether one of the buildpack's ``[[targets]]`` matches (none listed: any linux)."""
        targets = self.raw.get("targets", [])
        if not targets:
            return target.os == "linux"
        for entry in targets:
            if (
                entry.get("os", target.os) != target.os
                or entry.get("arch", target.arch) != target.arch
            ):
                continue
            distros = entry.get("distros", [])
            if not distros or any(
                d.get("name", target.distro_name) == target.distro_name
                and d.get("version", target.distro_version) == target.distro_version
                for d in distros
            ):
                return True
        return False


@dataclass(frozen=True)
class Target:
    """The build's target, as the lifecycle reads it from the run image."""

    os: str
    arch: str
    distro_name: str = ""
    distro_version: str = ""

    @classmethod
    def host(cls) -> Target:
        """This machine: ``uname -m`` and /etc/os-release."""
        machine = platform.machine().lower()
        arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
        release = _os_release()
        return cls("linux", arch, release.get("ID", ""), release.get("VERSION_ID", ""))

    def env(self) -> dict[str, str]:
        """The ``CNB_TARGET_*`` variables (distro only when known)."""
        env = {"CNB_TARGET_OS": self.os, "CNB_TARGET_ARCH": self.arch}
        if self.distro_name:
            env["CNB_TARGET_DISTRO_NAME"] = self.distro_name
        if self.distro_version:
            env["CNB_TARGET_DISTRO_VERSION"] = self.distro_version
        return env


def _os_release(path: Path = Path("/etc/os-release")) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip()] = value.strip().strip('"')
    return values


def read_json(path: Path) -> Optional[dict[str, Any]]:
    """A JSON object from a file, or None when there is none or it cannot be decoded (the
    lifecycle ignores a cache metadata file or an image label it cannot decode)."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):  # missing, unreadable, not UTF-8, not JSON
        return None
    return data if isinstance(data, dict) else None


def read_layers_metadata(path: Path) -> Optional[dict[str, Any]]:
    """The image's or the cache's metadata as written by the exporter, or None when it is
    missing or malformed: Go's ``json.Unmarshal`` into typed structs fails as a whole on a
    mistyped field, and the lifecycle then carries on with empty metadata."""
    data = read_json(path)
    return data if data is not None and _valid_layers_metadata(data) else None


def _valid_layers_metadata(data: dict[str, Any]) -> bool:
    buildpacks = data.get("buildpacks", [])
    if not isinstance(buildpacks, list):
        return False
    for bp in buildpacks:
        if not isinstance(bp, dict) or not isinstance(bp.get("id"), str):
            return False
        layers = bp.get("layers", {})
        if not isinstance(layers, dict) or not isinstance(bp.get("store", {}), dict):
            return False
        for layer in layers.values():
            if not (
                isinstance(layer, dict)
                and isinstance(layer.get("sha"), str)
                and isinstance(layer.get("types"), dict)
                and all(isinstance(flag, bool) for flag in layer["types"].values())
                and isinstance(layer.get("metadata", {}), dict)
            ):
                return False
    return True


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically."""
    toml_file.write_text_atomically(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
