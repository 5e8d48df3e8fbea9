"""Service bindings (the CNB bindings extension of the Kubernetes service binding spec).

A binding is a directory ``<platform>/bindings/<name>/`` (or under ``$SERVICE_BINDING_ROOT``)
holding a ``type`` file, an optional ``provider`` file and one file per entry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, NamedTuple, Optional


class Binding(NamedTuple):
    """One service binding; entry values stay on disk (they are often secrets). A named
    tuple, not a dataclass: an unchanged rebuild reads the bindings' root before anything
    else is loaded (:mod:`python_cnb.replay`), and ``dataclasses`` loads ``inspect``."""

    name: str
    type: str
    provider: Optional[str]
    path: Path
    entries: tuple[str, ...]

    def entry_path(self, entry: str) -> Path:
        """The file holding ``entry``."""
        return self.path / entry

    def read(self, entry: str) -> str:
        """An entry's value, stripped of surrounding whitespace."""
        return (self.path / entry).read_text(encoding="utf-8").strip()


def bindings_root(platform_dir: Path, env: Mapping[str, str]) -> Path:
    """``$SERVICE_BINDING_ROOT`` if set, else ``<platform>/bindings``."""
    root = env.get("SERVICE_BINDING_ROOT")
    return Path(root) if root else platform_dir / "bindings"


def read_bindings(platform_dir: Path, env: Mapping[str, str]) -> tuple[Binding, ...]:
    """All well-formed bindings, sorted by name; directories without a type are skipped.

    Entries are the binding's files; Kubernetes' own ``..data`` and ``..<timestamp>``
    entries are not (``.netrc`` is).
    """
    root = bindings_root(platform_dir, env)
    if not root.is_dir():
        return ()
    bindings = []
    for path in sorted(root.iterdir()):
        type_file = path / "type"
        if not path.is_dir() or not type_file.is_file():
            continue
        provider_file = path / "provider"
        bindings.append(
            Binding(
                name=path.name,
                type=type_file.read_text(encoding="utf-8").strip().lower(),
                provider=(
                    provider_file.read_text(encoding="utf-8").strip()
                    if provider_file.is_file()
                    else None
                ),
                path=path,
                entries=tuple(
                    sorted(
                        entry.name
                        for entry in path.iterdir()
                        if entry.is_file()
                        and entry.name not in ("type", "provider")
                        and not entry.name.startswith("..")
                    )
                ),
            )
        )
    return tuple(bindings)


def bindings_of_type(bindings: tuple[Binding, ...], binding_type: str) -> tuple[Binding, ...]:
    """The bindings whose type is ``binding_type`` (case-insensitive)."""
    return tuple(b for b in bindings if b.type == binding_type.lower())
