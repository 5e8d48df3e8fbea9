"""What a virtualenv has installed, read from ``*.dist-info`` directories, and what changed.

Used to log exactly what an incremental sync did (added, removed, upgraded, reinstalled,
unchanged) and to compile bytecode only for the distributions that changed.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path


def normalize(name: str) -> str:
    """PEP 503 name normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Distribution:
    """One installed distribution."""

    name: str
    version: str
    dist_info: Path
    identity: tuple[int, int]
    """``(inode, mtime_ns)`` of the dist-info directory: changes when reinstalled."""

    def files(self) -> list[Path]:
        """The files its RECORD lists, resolved against site-packages."""
        record = self.dist_info / "RECORD"
        if not record.is_file():
            return []
        site_packages = self.dist_info.parent
        with record.open(encoding="utf-8", newline="") as stream:
            return [(site_packages / row[0]).resolve() for row in csv.reader(stream) if row]


def snapshot(site_packages: Path) -> dict[str, Distribution]:
    """Every distribution installed in ``site_packages``, by normalised name."""
    found: dict[str, Distribution] = {}
    if not site_packages.is_dir():
        return found
    for dist_info in sorted(site_packages.glob("*.dist-info")):
        metadata = dist_info / "METADATA"
        if not metadata.is_file():
            continue
        headers = HeaderParser().parsestr(metadata.read_text(encoding="utf-8", errors="replace"))
        name, version = headers.get("Name"), headers.get("Version")
        if not name or not version:
            continue
        stat = dist_info.stat()
        found[normalize(name)] = Distribution(
            name, version, dist_info, (stat.st_ino, stat.st_mtime_ns)
        )
    return found


@dataclass(frozen=True)
class Changes:
    """The difference between two snapshots."""

    added: tuple[Distribution, ...]
    removed: tuple[Distribution, ...]
    upgraded: tuple[tuple[Distribution, Distribution], ...]
    """``(before, after)`` pairs whose version changed."""
    reinstalled: tuple[Distribution, ...]
    """Same version, but installed anew (editable projects, changed local sources)."""
    unchanged: tuple[Distribution, ...]

    @property
    def touched(self) -> tuple[Distribution, ...]:
        """Distributions whose files are new: added, upgraded and reinstalled ones."""
        return (*self.added, *(after for _, after in self.upgraded), *self.reinstalled)

    def summary(self) -> list[str]:
        """Log lines: one per kind of change, with the names."""
        lines = []
        if self.added:
            lines.append("Added: " + ", ".join(f"{d.name} {d.version}" for d in self.added))
        if self.removed:
            lines.append("Removed: " + ", ".join(f"{d.name} {d.version}" for d in self.removed))
        if self.upgraded:
            lines.append(
                "Changed: "
                + ", ".join(f"{a.name} {a.version} -> {b.version}" for a, b in self.upgraded)
            )
        if self.reinstalled:
            lines.append(
                "Reinstalled: " + ", ".join(f"{d.name} {d.version}" for d in self.reinstalled)
            )
        count = len(self.unchanged)
        lines.append(f"Unchanged (not reinstalled): {count} package{'' if count == 1 else 's'}")
        return lines


def compare(before: dict[str, Distribution], after: dict[str, Distribution]) -> Changes:
    """What happened between ``before`` and ``after``."""
    added = tuple(after[n] for n in sorted(set(after) - set(before)))
    removed = tuple(before[n] for n in sorted(set(before) - set(after)))
    upgraded, reinstalled, unchanged = [], [], []
    for name in sorted(set(before) & set(after)):
        old, new = before[name], after[name]
        if old.version != new.version:
            upgraded.append((old, new))
        elif old.identity != new.identity:
            reinstalled.append(new)
        else:
            unchanged.append(new)
    return Changes(added, removed, tuple(upgraded), tuple(reinstalled), tuple(unchanged))
