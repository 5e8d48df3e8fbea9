"""Compiling ``.py`` files to bytecode at build time.

Every ``.pyc`` is hash-based and unchecked (PEP 552): the exported image gives every file
the same timestamp and may be read-only, so timestamp-based files would be stale or
rewritten at every start, and hash-based ones make rebuilds produce the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from python_cnb.subprocess_runner import run_quiet

SOURCE_DATE_EPOCH = "315532801"
"""1980-01-01T00:00:01Z: the timestamp the lifecycle gives every exported file."""


def interpreter_command(executable: Path, *args: str) -> list[str]:
    """``<executable> -I -B <args>``: isolated, and writing no bytecode on import (only
    compileall writes ``.pyc`` files into a layer, and only hash-based ones)."""
    return [str(executable), "-I", "-B", *args]


def compile_bytecode(
    python: Path,
    paths: Sequence[Path],
    *,
    cwd: Path,
    exclude: Optional[str] = None,
    display: str = "python -m compileall",
) -> None:
    """Compile every ``.py`` under ``paths`` (``-f``: replacing any existing ``.pyc``)."""
    options = ["-f", "-q", "-j0", "--invalidation-mode", "unchecked-hash"]
    if exclude:
        options += ["-x", exclude]
    run_quiet(
        interpreter_command(python, "-m", "compileall", *options, *map(str, paths)),
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH},
        display=display,
    )
