"""Content manifests: what a launch layer held when it was made, checked before it is reused.

The lifecycle restores a launch+cache layer's contents from the cache, and its metadata from
the previous image. A cached layer can be damaged (a truncated file, a deleted one) or
changed behind the buildpack's back (a package's ``setup.py`` writing a ``.pth`` or a
``sitecustomize.py`` into it at build time). So when a layer is finished, every entry in it is
written to ``<layer>/.python-cnb-manifest.json``: path, type, permission bits, and for a file
its size and SHA-256, for a link its target. The SHA-256 of that file goes into the layer's
metadata, which comes from the image, not from the cache. Before reuse, the layer is scanned
again and must match entry for entry.

Sizes and mtimes alone would be cheap but are no check at all against a rewrite (and the
lifecycle gives every exported file the same mtime anyway): every file is hashed. Names,
types and sizes are compared first, so a missing or truncated file is found without reading
anything; the hashing runs in a few threads (``hashlib`` releases the GIL).

The check can start early (:func:`verify_in_background`, at the start of a build): the
hashing then overlaps the build's first steps, and :func:`verify` waits for its result. The
layer is not written to before its reuse is decided, and a layer discarded for another
reason stops being hashed (:func:`abandon`) before it is emptied.

Not part of a manifest: the manifest itself, and the layer's ``env``, ``env.build`` and
``env.launch`` directories, which :meth:`python_cnb.cnb.layer_env.LayerEnv.write` replaces
whole on every build.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import signal
import stat
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple, Optional

from python_cnb import output
from python_cnb.cnb import toml_file
from python_cnb.cnb.layers import Layer
from python_cnb.support.digests import file_sha256

MANIFEST_NAME = ".python-cnb-manifest.json"
FORMAT = 1
REWRITTEN_EVERY_BUILD = frozenset({MANIFEST_NAME, "env", "env.build", "env.launch"})
"""Top-level entries a manifest leaves out: itself, and the layer's env directories."""
HASH_THREADS = min(4, os.cpu_count() or 1)
FORK_AT = 2000
"""From this many files, they are hashed in forked processes rather than threads."""
SHOWN = 5
"""Reasons listed one by one before the rest is counted."""


class Entry(NamedTuple):
    """One entry of a layer, as a manifest records it (a tuple: a layer has thousands)."""

    path: str
    """Relative to the layer, ``/``-separated (as the OS names it: undecodable bytes kept)."""
    kind: str
    """``f`` file, ``d`` directory, ``l`` symbolic link, ``o`` anything else."""
    mode: int
    """The permission bits (``0o7777``)."""
    size: int
    content: str
    """A file's SHA-256 (hex), a link's target, else empty."""


@dataclass(frozen=True)
class Differences:
    """How a layer differs from its manifest."""

    missing: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    problem: Optional[str] = None
    """The manifest itself is missing, unreadable or not the one the metadata names."""

    def __bool__(self) -> bool:
        return bool(self.missing or self.added or self.changed or self.problem)

    def reasons(self) -> list[str]:
        """One sentence per difference (the first few of each kind), for the build log."""
        if self.problem is not None:
            return [self.problem]
        reasons: list[str] = []
        for paths, sentence in (
            (self.changed, "{} changed since the layer was made"),
            (self.missing, "{} is missing"),
            (self.added, "{} was not there when the layer was made"),
        ):
            reasons += [sentence.format(_shown(path)) for path in paths[:SHOWN]]
            if len(paths) > SHOWN:
                reasons.append(f"and {len(paths) - SHOWN} more ({sentence.format('…')})")
        return reasons


def _shown(path: str) -> str:
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _walk(root: Path, exclude: frozenset[str]) -> Iterator[tuple[str, os.stat_result]]:
    """Every entry under ``root`` but the excluded top-level ones, without following links."""
    pending = [("", str(root))]
    while pending:
        prefix, directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if not prefix and entry.name in exclude:
                    continue
                relative = prefix + entry.name
                info = entry.stat(follow_symlinks=False)
                yield relative, info
                if stat.S_ISDIR(info.st_mode):
                    pending.append((relative + "/", entry.path))


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "f"
    if stat.S_ISDIR(mode):
        return "d"
    if stat.S_ISLNK(mode):
        return "l"
    return "o"


def _sha256(path: str) -> str:
    return file_sha256(path, follow_symlinks=False)


def _hash_all(root: str, paths: list[str]) -> list[tuple[str, str]]:
    return [(path, _sha256(f"{root}/{path}")) for path in paths]


def shallow(root: Path, exclude: frozenset[str] = REWRITTEN_EVERY_BUILD) -> dict[str, Entry]:
    """Every entry with its kind, mode and size; a link with its target; no file hashed.
    ``exclude``: top-level names left out (by default, those of a layer's manifest)."""
    entries = {}
    for relative, info in _walk(root, exclude):
        kind = _kind(info.st_mode)
        target = str((root / relative).readlink()) if kind == "l" else ""
        size = info.st_size if kind == "f" else 0
        entries[relative] = Entry(relative, kind, stat.S_IMODE(info.st_mode), size, target)
    return entries


def _hash_files(root: Path, entries: dict[str, Entry]) -> dict[str, Entry]:
    files = sorted((e for e in entries.values() if e.kind == "f"), key=lambda e: -e.size)
    # One batch per thread, dealt out largest first so the batches weigh about the same
    # (a future per file would cost more than hashing most of them).
    batches = [[e.path for e in files[i::HASH_THREADS]] for i in range(HASH_THREADS)]
    if HASH_THREADS == 1:
        digests = dict(_hash_all(str(root), batches[0]))
    elif len(files) >= FORK_AT and _forkable():
        digests = _hash_in_processes(str(root), batches)
    else:
        with ThreadPoolExecutor(max_workers=HASH_THREADS) as pool:
            digests = dict(
                pair
                for batch in pool.map(_hash_all, [str(root)] * len(batches), batches)
                for pair in batch
            )
    return {
        path: e._replace(content=digests[path]) if e.kind == "f" else e
        for path, e in entries.items()
    }


def _fork_report(work: Callable[[], dict[str, Any]]) -> tuple[int, int]:
    """Run ``work`` in a forked process that writes its result, as JSON, to a pipe (or
    ``failure``: its traceback); the process's pid and the pipe's read end."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: nothing but the work, then out without cleanup
        code = 0
        try:
            os.close(read_end)
            message = json.dumps(work()).encode("utf-8", "surrogateescape")
        except BaseException:  # reported by _read_report as an internal failure
            message = json.dumps({"failure": traceback.format_exc()}).encode()
            code = 1
        try:
            with os.fdopen(write_end, "wb") as stream:
                stream.write(message)
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end


def _read_report(pid: int, pipe: int, what: str) -> dict[str, Any]:
    """What the process of :func:`_fork_report` found (``what`` names it in a failure)."""
    with os.fdopen(pipe, "rb") as stream:
        data = stream.read()
    os.waitpid(pid, 0)
    try:
        report: dict[str, Any] = json.loads(data.decode("utf-8", "surrogateescape"))
    except ValueError:
        raise RuntimeError(f"{what} wrote {data[:200]!r}") from None
    if "failure" in report:
        raise RuntimeError(f"{what} failed:\n{report['failure']}")
    return report


def _hash_batch(root: str, batch: list[str]) -> dict[str, Any]:
    try:
        return {"digests": _hash_all(root, batch)}
    except OSError as error:  # raised again in the parent, as a read error of the layer
        return {"oserror": [error.errno, error.strerror, error.filename]}


def _hash_in_processes(root: str, batches: list[list[str]]) -> dict[str, str]:
    """Hash the batches in forked processes, the last one in this one: hashing thousands
    of small files is Python's work, one file at a time under the GIL, which threads do
    not share out."""
    children = [_fork_report(functools.partial(_hash_batch, root, batch)) for batch in batches[:-1]]
    try:
        digests = dict(_hash_all(root, batches[-1]))
    finally:
        reports = [_read_report(pid, pipe, "a hashing process") for pid, pipe in children]
    for report in reports:
        if "oserror" in report:
            raise OSError(*report["oserror"])
        digests.update((path, digest) for path, digest in report["digests"])
    return digests


def scan(root: Path, exclude: frozenset[str] = REWRITTEN_EVERY_BUILD) -> dict[str, Entry]:
    """Every entry of the tree at ``root`` (a layer, unless ``exclude`` says otherwise),
    files hashed."""
    return _hash_files(root, shallow(root, exclude))


def encode(entries: dict[str, Entry]) -> bytes:
    """The manifest of ``entries``: one line per entry, in path order."""
    listed = [list(entries[path]) for path in sorted(entries)]
    text = json.dumps({"format": FORMAT, "entries": listed}, separators=(",", ":"))
    return (text.replace('],["', '],\n["') + "\n").encode("ascii")


def tree_digest(root: Path, exclude: frozenset[str] = frozenset()) -> str:
    """The SHA-256 of the manifest of the whole tree at ``root`` (every path, kind,
    permission bits, size and content), but the top-level names in ``exclude``: two trees
    with the same digest hold the same entries. A tree that does not exist has none."""
    if not root.is_dir():
        return hashlib.sha256(b"absent").hexdigest()
    return hashlib.sha256(encode(scan(root, exclude))).hexdigest()


def write_manifest(root: Path) -> str:
    """Write the manifest of the layer at ``root``; its SHA-256, for the layer's metadata."""
    data = encode(scan(root))
    (root / MANIFEST_NAME).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def _read(root: Path, expected: str) -> tuple[Optional[dict[str, Entry]], Optional[str]]:
    path = root / MANIFEST_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, "Its content manifest is missing"
    except OSError as error:
        return None, f"Its content manifest could not be read ({error.strerror})"
    if not expected or hashlib.sha256(data).hexdigest() != expected:
        return None, "Its content manifest is not the one recorded when the layer was made"
    try:
        raw = json.loads(data)
        assert raw["format"] == FORMAT
        entries = [Entry(p, k, m, s, c) for p, k, m, s, c in raw["entries"]]
    except (ValueError, KeyError, TypeError, AssertionError):
        return None, "Its content manifest is not one this buildpack version writes"
    return {entry.path: entry for entry in entries}, None


def _same_shape(a: Entry, b: Entry) -> bool:
    if a.kind == "f":
        return (a.kind, a.mode, a.size) == (b.kind, b.mode, b.size)
    return a == b


def same_shape(root: Path, expected: str) -> bool:
    """Whether the layer still has exactly the entries, types, modes and sizes of its
    manifest (whose SHA-256 must be ``expected``), without hashing: for a layer verified in
    full earlier in the same build, to tell whether the buildpack changed it since."""
    recorded, _ = _read(root, expected)
    if recorded is None:
        return False
    found = shallow(root)
    return found.keys() == recorded.keys() and all(
        _same_shape(recorded[path], found[path]) for path in found
    )


@dataclass
class _Background:
    """A check begun by :func:`verify_in_background`: a forked process that writes the
    :class:`Differences` it found, as JSON, to a pipe."""

    pid: int
    pipe: int
    started: float


_background: dict[tuple[Path, str], _Background] = {}


def _forkable() -> bool:
    """Whether this process may fork a check: not with other threads (a fork copies none
    of them, but every lock they hold)."""
    return threading.active_count() == 1


def verify_in_background(root: Path, expected: str) -> None:
    """Begin :func:`verify` of ``root`` against ``expected`` in a process of its own (a
    fork: hashing in a thread would hold up the build's own steps, which need the GIL); the
    :func:`verify` call with the same arguments takes its result. Nothing starts when the
    layer has no manifest (the call to :func:`verify` says why)."""
    key = (root, expected)
    if not expected or key in _background or not (root / MANIFEST_NAME).is_file():
        return
    if not _forkable():
        return
    started = time.monotonic()
    pid, pipe = _fork_report(lambda: _check_report(root, expected))
    _background[key] = _Background(pid, pipe, started)


def _check_report(root: Path, expected: str) -> dict[str, Any]:
    found = _compare(root, expected)
    return {
        "differences": [list(found.missing), list(found.added), list(found.changed)],
        "problem": found.problem,
        "finished": time.monotonic(),  # CLOCK_MONOTONIC: the parent's clock too
    }


def verify_restored_in_background(layer: Layer) -> None:
    """:func:`verify_in_background` of a restored layer whose metadata names its manifest's
    SHA-256 ``contents`` (the python and venv layers); nothing when it names none."""
    try:
        raw = layer.read_toml()
    except (toml_file.TOMLDecodeError, OSError):
        return  # the layer's own decision reports it
    metadata = (raw or {}).get("metadata")
    contents = metadata.get("contents") if isinstance(metadata, dict) else None
    if isinstance(contents, str):
        verify_in_background(layer.path, contents)


def abandon(root: Path) -> None:
    """Stop any background check of ``root`` (before the layer is emptied)."""
    for key in [key for key in _background if key[0] == root]:
        check = _background.pop(key)
        with contextlib.suppress(ProcessLookupError):
            os.kill(check.pid, signal.SIGKILL)
        os.close(check.pipe)
        os.waitpid(check.pid, 0)


def _result(check: _Background) -> tuple[Differences, float]:
    """What the background check found, and when it finished."""
    report = _read_report(check.pid, check.pipe, "the background check")
    missing, added, changed = (tuple(paths) for paths in report["differences"])
    return Differences(missing, added, changed, report["problem"]), float(report["finished"])


def verify(root: Path, expected: str) -> Differences:
    """Compare the layer at ``root`` with its manifest, whose SHA-256 must be ``expected``.

    This is what the benchmark times: a cheap pass over names, types, modes and sizes,
    then, if those all match, every file hashed. The debug line gives the milliseconds the
    check took, and when it ran in the background, how long the build waited for it."""
    check = _background.pop((root, expected), None)
    waited = time.monotonic()  # the bench reads the line below (bench/README.md)
    if check is None:
        found = _compare(root, expected)
        output.debug(f"'verify the {root.name} layer' took {_ms(waited)} ms")
        return found
    found, finished = _result(check)
    output.debug(
        f"'verify the {root.name} layer' took {_ms(check.started, finished)} ms"
        f" (begun in the background at the start of the build; waited {_ms(waited)} ms)"
    )
    return found


def _ms(start: float, end: Optional[float] = None) -> str:
    return f"{((end if end is not None else time.monotonic()) - start) * 1000:.0f}"


def _compare(root: Path, expected: str) -> Differences:
    recorded, problem = _read(root, expected)
    if recorded is None:
        return Differences(problem=problem)
    try:
        found = shallow(root)
    except OSError as error:
        return Differences(problem=f"Its contents could not be read ({error.strerror})")
    missing = tuple(sorted(set(recorded) - set(found)))
    added = tuple(sorted(set(found) - set(recorded)))
    common = sorted(set(recorded) & set(found))
    changed = [path for path in common if not _same_shape(recorded[path], found[path])]
    if missing or added or changed:
        return Differences(missing, added, tuple(changed))
    try:
        hashed = _hash_files(root, found)
    except OSError as error:
        return Differences(problem=f"Its contents could not be read ({error.strerror})")
    changed = [path for path in common if hashed[path] != recorded[path]]
    return Differences(changed=tuple(changed))
