"""The build tools the buildpack installs, as pinned in buildpack.toml ``[metadata.tools]``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

DATA = Path(__file__).resolve().parent.parent / "data" / "tools"


@dataclass(frozen=True)
class ToolSpec:
    """One tool: its version, and either wheel hashes (uv) or a hashed requirement set."""

    name: str
    version: str
    hashes: tuple[str, ...] = ()
    """SHA-256 of the acceptable wheels for the target architecture (uv)."""
    requirements: Optional[Path] = None
    """A hashed, universal requirement set pinning the tool and its dependencies."""
    overridden: bool = False
    """True when the platform pinned another version (then nothing is hash-checked)."""

    @property
    def fingerprint(self) -> str:
        """What identifies this exact tool set (for layer metadata)."""
        if self.requirements is not None and not self.overridden:
            digest = hashlib.sha256(self.requirements.read_bytes()).hexdigest()[:16]
            return f"{self.name} {self.version} ({digest})"
        return f"{self.name} {self.version}" + (" (unpinned)" if self.overridden else "")

    def requirement_lines(self) -> list[str]:
        """What to install: the hashed set, or ``name==version`` for an override."""
        if self.overridden or self.requirements is None:
            return [f"{self.name}=={self.version}"]
        return self.requirements.read_text(encoding="utf-8").splitlines()


def tool_spec(
    metadata: Mapping[str, Any], name: str, arch: str, override: Optional[str] = None
) -> ToolSpec:
    """The spec of ``name`` for ``arch``; ``override`` replaces the pinned version (an
    override naming the pinned version itself keeps the hashes)."""
    table = metadata.get("tools", {}).get(name, {})
    if override and override != str(table.get("version")):
        return ToolSpec(name, override, overridden=True)
    version = str(table["version"])
    hashes = tuple(w["sha256"] for w in table.get("wheels", []) if w.get("arch") == arch)
    requirements = DATA / f"{name}.txt"
    return ToolSpec(name, version, hashes, requirements if requirements.is_file() else None)
