"""Compile ``.py`` files to unchecked hash-based bytecode that is the same on every build.

Run by the interpreter whose bytecode is wanted (standard library only, Python 3.8 or newer)::

    python -s -B compile_pyc.py [--exclude REGEX] [--strip DIR] [--jobs N] [--list FILE]
                                [--file FILE] PATH...

It does what ``compileall -f -q --invalidation-mode unchecked-hash`` does, and makes the
bytes independent of what else the process compiled before (with a process pool, of which
worker got which file). ``marshal`` writes an object once and refers back to it only if the
object's reference count is above 1, and two things make that count depend on history:

* CPython's compiler shares equal constant frozensets (``x in {"a", "b"}``) between the
  functions of a module, or makes one per function, depending on which of their strings
  modules compiled earlier in the same process had interned (werkzeug's ``headers.py`` after
  the stdlib's ``cgi.py``, say). So each module's frozenset constants are rebuilt here: one
  object per distinct value, its elements in a fixed order.
* Up to 3.10, an interned string (a name) is referred back to only when something else in
  the process holds it too (a module that compiling loaded, a codec). So there, every string
  of the module is held while it is marshalled: each is referred back to, as from 3.11 on.

``PYTHONHASHSEED`` must still be fixed, as 3.9 and 3.10 marshal a frozenset in hash order.

A directory is searched recursively, without following symbolic links to directories and
skipping ``__pycache__``; ``--exclude`` is searched for in each file path and, with a
trailing ``/``, in each directory path (a directory it matches is not entered). ``--strip``
makes the source paths recorded in the bytecode relative to DIR. ``--list`` names a file of
paths, one per line. ``--file`` names a file to compile whatever its name
(``wsgi/application``: its bytecode goes where a ``SourceFileLoader`` looks). With ``--jobs``
other than 1, a process pool (0: one per CPU). A file that does not compile is reported on
stdout; the others are still compiled, and the exit code is 1. A file that compiles but whose
bytecode cannot be written (a read-only directory) is reported too; if that is the only kind
of failure, the exit code is 2.
"""

from __future__ import annotations

import os
import sys

if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]  # this file's directory holds the buildpack's modules, not the stdlib

import argparse  # the imports after sys.path is fixed
import contextlib
import importlib.util
import marshal
import re
import traceback
import types
from typing import Dict, FrozenSet, Iterator, List, Optional, Pattern, Sequence, Tuple

UNCHECKED_HASH = 0b01
"""PEP 552 flags: hash-based, source not checked."""

HOLD_STRINGS = sys.version_info < (3, 11)
"""From 3.11 on, ``marshal`` refers back to every interned string, however many hold it."""

Canonical = Dict[Tuple[Tuple[str, str], ...], FrozenSet[object]]
"""One frozenset per distinct value, by its elements' types and reprs in order."""


def _sort_key(value: object) -> Tuple[str, str]:
    return (type(value).__name__, repr(value))


def _canonical_const(value: object, frozensets: Canonical) -> object:
    if isinstance(value, types.CodeType):
        return canonical(value, frozensets)
    if type(value) is tuple:
        items = tuple(_canonical_const(item, frozensets) for item in value)
        return value if all(a is b for a, b in zip(items, value)) else items
    if type(value) is frozenset:
        ordered = sorted(value, key=_sort_key)
        key = tuple(_sort_key(item) for item in ordered)
        if key not in frozensets:
            frozensets[key] = frozenset(ordered)
        return frozensets[key]
    return value


def canonical(code: types.CodeType, frozensets: Optional[Canonical] = None) -> types.CodeType:
    """``code`` with each distinct frozenset constant one object, built in a fixed order."""
    if frozensets is None:
        frozensets = {}
    consts = tuple(_canonical_const(const, frozensets) for const in code.co_consts)
    if all(a is b for a, b in zip(consts, code.co_consts)):
        return code
    return code.replace(co_consts=consts)


def strings(code: types.CodeType) -> List[str]:
    """Every string object that marshalling ``code`` writes (names, constants, paths)."""
    found: List[str] = []
    pending: List[object] = [code]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, (tuple, frozenset)):
            pending.extend(value)
        elif isinstance(value, types.CodeType):
            pending.extend(value.co_consts)
            pending.extend(value.co_names)
            pending.extend(value.co_varnames)
            pending.extend(value.co_freevars)
            pending.extend(value.co_cellvars)
            pending.extend((value.co_filename, value.co_name, getattr(value, "co_qualname", "")))
    return found


def bytecode(source: bytes, dfile: str) -> bytes:
    """The ``.pyc`` contents for ``source``: header, then the marshalled module code."""
    code = canonical(compile(source, dfile, "exec", dont_inherit=True))
    held = strings(code) if HOLD_STRINGS else []  # every string referred back to
    data = marshal.dumps(code)
    del held
    header = importlib.util.MAGIC_NUMBER + UNCHECKED_HASH.to_bytes(4, "little")
    return header + importlib.util.source_hash(source) + data


def _write_atomic(path: str, data: bytes, mode: int) -> None:
    temporary = f"{path}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_EXCL | os.O_CREAT | os.O_WRONLY, mode & 0o666)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


NOT_COMPILED, NOT_WRITTEN = "not compiled", "not written"
"""The two kinds of failure: the source does not compile, or its bytecode cannot be saved."""
EXIT_NOT_WRITTEN = 2


def compile_file(path: str, strip: Optional[str]) -> Optional[Tuple[str, str]]:
    """Write ``path``'s bytecode where the import system looks; the kind of failure and an
    error message, or None."""
    dfile = os.path.relpath(path, strip) if strip and _is_within(path, strip) else path
    try:
        with open(path, "rb") as stream:
            source = stream.read()
        data = bytecode(source, dfile)
    except Exception as error:  # as py_compile: any failure is this file's alone
        detail = "".join(traceback.format_exception_only(type(error), error))
        return NOT_COMPILED, f"*** Error compiling {path!r}...\n{detail}"
    target = importlib.util.cache_from_source(path)
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        _write_atomic(target, data, os.stat(path).st_mode | 0o200)
    except OSError as error:
        detail = "".join(traceback.format_exception_only(type(error), error))
        return NOT_WRITTEN, f"*** Could not write the bytecode of {path!r}...\n{detail}"
    return None


def _is_within(path: str, directory: str) -> bool:
    return os.path.commonpath([os.path.abspath(path), os.path.abspath(directory)]) == (
        os.path.abspath(directory)
    )


def sources(paths: Sequence[str], exclude: Optional[Pattern[str]]) -> Iterator[str]:
    """The ``.py`` files to compile under ``paths``, in a stable order."""
    for path in paths:
        if os.path.isdir(path):
            yield from _walk(path, exclude)
        elif (
            path.endswith(".py")
            and os.path.isfile(path)
            and (exclude is None or not exclude.search(path))
        ):
            yield path


def _walk(directory: str, exclude: Optional[Pattern[str]]) -> Iterator[str]:
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return
    for name in names:
        full = os.path.join(directory, name)
        if os.path.isdir(full):
            if name == "__pycache__" or os.path.islink(full):
                continue
            if exclude is None or not exclude.search(full + "/"):
                yield from _walk(full, exclude)
        elif (
            name.endswith(".py")
            and os.path.isfile(full)
            and (exclude is None or not exclude.search(full))
        ):
            yield full


def _compile_chunk(chunk: List[str], strip: Optional[str]) -> List[Tuple[str, str]]:
    return [error for error in (compile_file(path, strip) for path in chunk) if error]


def compile_all(files: List[str], strip: Optional[str], jobs: int) -> List[Tuple[str, str]]:
    """Compile ``files``, in a process pool unless ``jobs`` is 1; the failures (their kind
    and message)."""
    workers = (os.cpu_count() or 1) if jobs <= 0 else jobs
    if workers == 1 or len(files) < 2:
        return _compile_chunk(files, strip)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    size = max(1, min(64, len(files) // (workers * 4) or 1))
    chunks = [files[i : i + size] for i in range(0, len(files), size)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as executor:
        results = executor.map(_compile_chunk, chunks, [strip] * len(chunks))
        return [error for errors in results for error in errors]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--exclude", help="a regular expression of paths not to compile")
    parser.add_argument("--strip", help="record source paths relative to this directory")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (0: one per CPU)")
    parser.add_argument("--list", help="a file of paths to compile, one per line")
    parser.add_argument(
        "--file", action="append", default=[], help="a file to compile, whatever its name"
    )
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args(argv)
    paths = list(args.paths)
    if args.list:
        with open(args.list, encoding="utf-8") as stream:
            paths += [line.rstrip("\n") for line in stream if line.strip()]
    exclude = re.compile(args.exclude) if args.exclude else None
    files = list(sources(paths, exclude)) + list(args.file)
    errors = compile_all(files, args.strip, args.jobs)
    for _kind, message in errors:
        sys.stdout.write(message)
    if any(kind == NOT_COMPILED for kind, _ in errors):
        return 1
    return EXIT_NOT_WRITTEN if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
