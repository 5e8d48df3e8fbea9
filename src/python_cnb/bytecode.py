"""Compiling ``.py`` files to bytecode at build time.

Every ``.pyc`` is hash-based and unchecked (PEP 552): the exported image gives every file
the same timestamp and may be read-only, so timestamp-based files would be stale or
rewritten at every start, and hash-based ones make rebuilds produce the same bytes.
``-f`` replaces any ``.pyc`` a tool wrote on its own.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Optional, Sequence

from python_cnb.subprocess_runner import run_quiet

SOURCE_DATE_EPOCH = "315532801"
"""1980-01-01T00:00:01Z: the timestamp the lifecycle gives every exported file."""

APP_EXCLUDE = r"(^|/)(\.[^/]+|node_modules|venv|env|site-packages)/"
"""Directories of an app that are not its Python code (VCS dirs, JS deps, stray venvs)."""


def interpreter_command(executable: Path, *args: str) -> list[str]:
    """``<executable> -I -B <args>``: isolated, and writing no bytecode on import (only
    compileall writes ``.pyc`` files into a layer, and only hash-based ones)."""
    return [str(executable), "-I", "-B", *args]


def _compileall(python: Path, arguments: Sequence[str], cwd: Path, display: str) -> str:
    return run_quiet(
        interpreter_command(
            python,
            "-m",
            "compileall",
            "-f",
            "-q",
            "-j0",
            "--invalidation-mode",
            "unchecked-hash",
            *arguments,
        ),
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH},
        display=display,
    )


def compile_bytecode(
    python: Path,
    paths: Sequence[Path],
    *,
    cwd: Path,
    exclude: Optional[str] = None,
    display: str = "python -m compileall",
) -> None:
    """Compile every ``.py`` under ``paths``, except those matching ``exclude``."""
    _compileall(python, [*(["-x", exclude] if exclude else []), *map(str, paths)], cwd, display)


def compile_files(python: Path, files: Sequence[Path], *, cwd: Path) -> None:
    """Compile exactly ``files`` (the sources of the distributions a sync installed)."""
    if not files:
        return
    with tempfile.TemporaryDirectory(prefix="python-cnb-compile-") as tmp:
        listing = Path(tmp) / "files.txt"
        listing.write_text("\n".join(str(f) for f in files) + "\n", encoding="utf-8")
        _compileall(python, ["-i", str(listing)], cwd, "python -m compileall (changed packages)")
