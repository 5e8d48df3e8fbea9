"""Reading and writing TOML: stdlib tomllib (tomli before 3.11) and tomli-w, in one place."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on the 3.9/3.10 bootstrap interpreters
    import tomli as tomllib

TOMLDecodeError = tomllib.TOMLDecodeError


def loads(text: str) -> dict[str, Any]:
    """Parse TOML text (TOML 1.0)."""
    return tomllib.loads(text)


def read(path: Path) -> dict[str, Any]:
    """Parse the TOML file at ``path``."""
    with path.open("rb") as stream:
        return tomllib.load(stream)


def dumps(data: Mapping[str, Any]) -> str:
    """Serialise ``data`` as TOML."""
    import tomli_w  # a build that only reads TOML (a replay) never loads it

    return tomli_w.dumps(data)


def write(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as TOML to ``path`` atomically (a reader never sees half a file)."""
    write_text_atomically(path, dumps(data))


def write_text_atomically(path: Path, text: str, mode: int = 0o644) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    import tempfile  # not loaded by a build that only reads TOML

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
