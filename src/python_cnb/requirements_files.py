"""requirements.txt and the files it pulls in with ``-r``/``-c``.

The venv cache key covers the text of every file reached through ``-r``/``--requirement``
and ``-c``/``--constraint`` (recursively, relative to the including file, as pip resolves
them), so a change in a nested file is never missed.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from python_cnb.buildpack_error import BuildpackError

_INCLUDE = re.compile(r"^\s*(?:--requirement|--constraint|-r|-c)(?:\s*=\s*|\s*)(?P<path>\S.*)$")


@dataclass(eq=False)
class MissingRequirementsFile(BuildpackError):
    """A ``-r``/``-c`` reference to a file that does not exist."""

    including_file: str
    line_number: int
    line: str
    missing: str


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with ``\\`` continuations joined and comments removed, with line numbers."""
    result: list[tuple[int, str]] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw)
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        result.append((start, buffer + line))
        buffer = ""
    if buffer:
        result.append((start, buffer))
    return result


def _includes(path: Path, app_dir: Path) -> list[Path]:
    text = path.read_text(encoding="utf-8", errors="replace")
    found = []
    for number, line in _logical_lines(text):
        match = _INCLUDE.match(line)
        if not match:
            continue
        reference = shlex.split(match["path"])[0]
        if "://" in reference or "${" in reference:
            continue  # a URL, or a path built from env vars: pip resolves it; we cannot
        target = (path.parent / reference).resolve()
        if not target.is_file():
            raise MissingRequirementsFile(
                str(path.relative_to(app_dir)), number, line.strip(), reference
            )
        found.append(target)
    return found


def collect(root: Path, app_dir: Path) -> tuple[Path, ...]:
    """``root`` and every file it includes, in a stable order, each once."""
    ordered: list[Path] = []
    pending = [root.resolve()]
    while pending:
        path = pending.pop(0)
        if path in ordered:
            continue
        ordered.append(path)
        pending.extend(_includes(path, app_dir))
    return tuple(ordered)


def fingerprint(files: tuple[Path, ...], app_dir: Path) -> str:
    """SHA-256 over the names and contents of ``files``."""
    digest = hashlib.sha256()
    for path in files:
        try:
            name = str(path.relative_to(app_dir.resolve()))
        except ValueError:
            name = str(path)
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
