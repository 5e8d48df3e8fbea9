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

_COMMENT = re.compile(r"(^|\s+)#.*$")
_INCLUDE = re.compile(r"^\s*(?:--requirement|--constraint|-r|-c)(?:\s*=\s*|\s*)(?P<path>\S.*)$")


@dataclass(eq=False)
class MissingRequirementsFile(BuildpackError):
    """A ``-r``/``-c`` reference to a file that does not exist."""

    including_file: str
    line_number: int
    line: str
    missing: str


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines joined at ``\\`` continuations, then stripped of comments, as pip reads them
    (``pip._internal.req.req_file``), each with the number of its first line."""
    result: list[tuple[int, str]] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        is_comment = bool(_COMMENT.match(raw))
        if raw.endswith("\\") and not is_comment:
            buffer += raw.strip("\\")
            continue
        # pip: a comment line ends a continuation, and stays a comment once joined
        line = " " + raw if buffer and is_comment else raw
        result.append((start, _COMMENT.sub("", buffer + line)))
        buffer = ""
    if buffer:
        result.append((start, _COMMENT.sub("", buffer)))
    return result


def _display_name(path: Path, app_dir: Path) -> str:
    """``path`` relative to the app, or in full when it is outside."""
    try:
        return str(path.relative_to(app_dir.resolve()))
    except ValueError:
        return str(path)


def _includes(path: Path, app_dir: Path) -> list[Path]:
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    found = []
    for number, line in _logical_lines(text):
        match = _INCLUDE.match(line)
        if not match:
            continue
        try:
            reference = shlex.split(match["path"])[0]
        except ValueError:
            continue  # unbalanced quotes: pip reports the line itself
        if "://" in reference or "${" in reference:
            continue  # a URL, or a path built from env vars: pip resolves it; we cannot
        target = (path.parent / reference).resolve()
        if not target.is_file():
            raise MissingRequirementsFile(
                _display_name(path, app_dir), number, line.strip(), reference
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
        name = _display_name(path, app_dir)
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def is_fully_hashed(files: tuple[Path, ...]) -> bool:
    """Whether every requirement in ``files`` carries ``--hash`` (a pinned, hashed lock)."""
    requirements = 0
    for path in files:
        for _, line in _logical_lines(path.read_text(encoding="utf-8", errors="replace")):
            stripped = line.strip()
            if stripped.startswith(("-e", "--editable")):
                return False  # hash-checking mode cannot install editable requirements
            if not stripped or stripped.startswith("-"):
                continue
            requirements += 1
            if "--hash" not in stripped:
                return False
    return requirements > 0
