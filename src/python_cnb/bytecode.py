"""Compiling ``.py`` files to bytecode at build time.

Every ``.pyc`` is hash-based and unchecked (PEP 552): the exported image gives every file
the same timestamp and may be read-only, so timestamp-based files would be stale or
rewritten at every start, and hash-based ones make rebuilds produce the same bytes.
Every ``.pyc`` is rewritten, replacing any a tool wrote on its own. The compiling is done by
:mod:`python_cnb.programs.compile_pyc`, run by the interpreter in question: it is ``compileall``
made reproducible (see there). A source file whose name does not end in ``.py``
(``wsgi/application``, loaded by a ``SourceFileLoader``) is compiled on its own, to where
the import system looks for its bytecode.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Iterable, Optional, Sequence

from python_cnb.cnb import NORMALIZED_MTIME
from python_cnb.support.commands import CommandFailed, run_quiet

SOURCE_DATE_EPOCH = str(NORMALIZED_MTIME)
"""The timestamp the lifecycle gives every exported file."""

APP_EXCLUDE = r"(^|/)(\.[^/]+|node_modules|venv|env|site-packages)/"
"""Directories of an app that are not its Python code (VCS dirs, JS deps, stray venvs)."""

PACKAGE_TESTS = r"/site-packages/(.+/)?tests/"
"""Test suites that distributions ship inside their packages (pandas/tests, scipy/*/tests:
half the files of a scientific stack). Apps do not import them, so they get no bytecode:
that halves the compile time and the bytecode in the image. Should one be imported, Python
compiles it in memory, as for any file without bytecode."""


PARALLEL_FROM = 150
"""Files from which compiling in a process pool beats one process: starting the pool
costs about 0.1 s, a file about 1 ms."""

COMPILER = Path(__file__).parent / "programs" / "compile_pyc.py"
"""The compiler script (:mod:`python_cnb.programs.compile_pyc`), run by the target interpreter."""

EXIT_NOT_WRITTEN = 2
"""The compiler's exit code when every file compiled but some bytecode could not be saved
(``compile_pyc.EXIT_NOT_WRITTEN``: that script imports nothing of the buildpack)."""


def only_not_written(error: CommandFailed) -> bool:
    """Whether a failed compile compiled everything, and only saving bytecode failed (a
    read-only directory): the code is fine, it just gets compiled in memory when imported."""
    return error.exit_code == EXIT_NOT_WRITTEN


def _jobs(count: int) -> str:
    return "0" if count >= PARALLEL_FROM else "1"


def _count_sources(paths: Sequence[Path], limit: int = PARALLEL_FROM) -> int:
    """``.py`` files under ``paths``, counted up to ``limit`` (enough to choose the jobs)."""
    count = 0
    for path in paths:
        if path.is_file():
            count += path.suffix == ".py"
            continue
        for _root, _dirs, files in os.walk(path):
            count += sum(name.endswith(".py") for name in files)
            if count >= limit:
                return count
    return count


def compiler_command(python: Path) -> list[str]:
    """How to run :mod:`python_cnb.programs.compile_pyc` with ``python`` so that the bytecode is
    reproducible.

    Constants such as ``x in {"a", "b"}`` become frozensets, marshalled in an order that
    depends on string hashing on 3.9 and 3.10: the hash seed must be fixed
    (``PYTHONHASHSEED=0``, see :func:`_compile`), which ``-I`` would ignore. So the script
    runs with ``-s -B`` and an environment of our making instead: it drops its own directory
    from ``sys.path``, no ``PYTHON*`` setting of the build reaches it, and the app directory
    is never on ``sys.path``."""
    return [str(python), "-s", "-B", str(COMPILER)]


def _compile(python: Path, arguments: Sequence[str], cwd: Path, display: str, count: int) -> str:
    return run_quiet(
        [*compiler_command(python), "--jobs", _jobs(count), *arguments],
        cwd=cwd,
        env={
            "PATH": "/usr/bin:/bin",
            "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH,
            "PYTHONHASHSEED": "0",
        },
        display=display,
    )


def compile_bytecode(
    python: Path,
    paths: Sequence[Path],
    *,
    cwd: Path,
    exclude: Optional[str] = None,
    display: str = "compile bytecode",
    strip: Optional[Path] = None,
) -> None:
    """Compile every ``.py`` under ``paths``, except those matching ``exclude``. With
    ``strip``, the source paths recorded in the bytecode are relative to it (the same bytes
    wherever the tree is built; the import system records the real path when it loads them)."""
    arguments = [
        *(["--exclude", exclude] if exclude else []),
        *(["--strip", str(strip)] if strip is not None else []),
        *map(str, paths),
    ]
    _compile(python, arguments, cwd, display, _count_sources(paths))


def compile_site_packages(python: Path, site_packages: Path, *, cwd: Path) -> None:
    """Compile every ``.py`` of the installed distributions but their test suites."""
    compile_bytecode(python, [site_packages], cwd=cwd, exclude=PACKAGE_TESTS)


def package_sources(files: Iterable[Path]) -> list[Path]:
    """The ``.py`` files among an installed distribution's ``files`` that get bytecode."""
    tests = re.compile(PACKAGE_TESTS)
    return [f for f in files if f.suffix == ".py" and not tests.search(f.as_posix())]


def compile_files(python: Path, files: Sequence[Path], *, cwd: Path) -> None:
    """Compile exactly ``files`` (the sources of the distributions a sync installed)."""
    if not files:
        return
    with tempfile.TemporaryDirectory(prefix="python-cnb-compile-") as tmp:
        listing = Path(tmp) / "files.txt"
        listing.write_text("\n".join(str(f) for f in files) + "\n", encoding="utf-8")
        display = "compile bytecode (changed packages)"
        _compile(python, ["--list", str(listing)], cwd, display, len(files))


def compile_source_file(python: Path, source: Path, *, cwd: Path) -> None:
    """Compile one source file, whatever its name, to unchecked hash-based bytecode where
    a ``SourceFileLoader`` for it will look (``wsgi/__pycache__/applicationcpython-312.pyc``
    for ``wsgi/application``; a directory walk takes only ``.py`` files)."""
    _compile(python, ["--file", str(source)], cwd, f"compile bytecode ({source.name})", 1)
