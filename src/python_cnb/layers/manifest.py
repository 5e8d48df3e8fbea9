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
lifecycle gives every exported file the same mtime anyway): every file is hashed. The tree is
read once, each file opened once (its type, mode and size from ``fstat`` on the open file, no
separate ``lstat``), and the manifest it makes is compared with the recorded one byte for
byte; only when they differ is the recorded one parsed, to say what differs. A large tree
is read by one process per CPU (hashing thousands of small files is Python's work, one file
at a time under the GIL, which threads do not share out): this process lists the tree's top
until it has :data:`FORK_AT` entries, and the processes then take the subtrees left, one at
a time, from a shared pipe as they become free.

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
import hashlib
import json
import os
import stat
import sys
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator, NamedTuple, Optional

from python_cnb import output
from python_cnb.support.digests import entry_sha256

if TYPE_CHECKING:
    from pathlib import Path

    from python_cnb.cnb.layers import Layer

MANIFEST_NAME = ".python-cnb-manifest.json"
FORMAT = 1
REWRITTEN_EVERY_BUILD = frozenset({MANIFEST_NAME, "env", "env.build", "env.launch"})
"""Top-level entries a manifest leaves out: itself, and the layer's env directories."""
PROCESSES = min(4, os.cpu_count() or 1)
"""The processes that read a large tree, this one included."""
FORK_AT = 2000
"""Entries this process lists before the rest of a tree is shared out among
:data:`PROCESSES` processes (a smaller tree is read by this one alone)."""
MAX_TASKS = 1024
"""Subtrees are shared out in at most this many tasks, so that the task pipe holds them all
(four bytes each, written at once: within ``PIPE_BUF``)."""
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


class Differences(NamedTuple):
    """How a layer differs from its manifest (a named tuple, as :class:`_Background`: an
    unchanged rebuild checks its layers with this module before anything else is loaded,
    and ``dataclasses`` loads ``inspect``)."""

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


def walk(root: Path, exclude: frozenset[str]) -> Iterator[tuple[str, os.stat_result]]:
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


_file_entry = entry_sha256
"""How a file is read (tests stall or break it, in the forked processes too)."""


def _list_dir(
    prefix: str,
    directory: str,
    exclude: frozenset[str],
    out: list[list[Any]],
    pending: list[tuple[str, str]],
    files: Optional[list[tuple[str, str]]] = None,
) -> None:
    """Every entry directly in ``directory`` (``prefix``: its path in the tree, ``""`` at
    the top, where ``exclude`` applies) into ``out`` as a manifest line, a file hashed; each
    subdirectory onto ``pending``. With ``files``, a regular file is put there (its path in
    the tree and its path) instead, to be hashed later by :func:`_list_file`."""
    with os.scandir(directory) as entries:  # per entry, a few calls: a layer has thousands
        for entry in entries:
            name = entry.name
            if not prefix and name in exclude:
                continue
            relative = prefix + name
            if entry.is_file(follow_symlinks=False):  # the listing's type: no lstat
                if files is not None:
                    files.append((relative, entry.path))
                    continue
                info, digest = _file_entry(entry.path)
            else:
                info, digest = entry.stat(follow_symlinks=False), None
                if stat.S_ISREG(info.st_mode):  # a file since it was listed
                    info, digest = _file_entry(entry.path)
            _append_line(relative, entry.path, info, digest, out, pending)


def _list_file(
    relative: str, path: str, out: list[list[Any]], pending: list[tuple[str, str]]
) -> None:
    """The manifest line of the entry ``path`` that a listing said is a regular file (it may
    be something else by now), hashed."""
    info, digest = _file_entry(path)
    _append_line(relative, path, info, digest, out, pending)


def _append_line(
    relative: str,
    path: str,
    info: os.stat_result,
    digest: Optional[str],
    out: list[list[Any]],
    pending: list[tuple[str, str]],
) -> None:
    mode = info.st_mode
    if digest is not None:  # a regular file when it was opened
        out.append([relative, "f", stat.S_IMODE(mode), info.st_size, digest])
    elif stat.S_ISDIR(mode):
        out.append([relative, "d", stat.S_IMODE(mode), 0, ""])
        pending.append((relative + "/", path))
    elif stat.S_ISLNK(mode):
        target = os.readlink(path)  # noqa: PTH115 - a str path: no Path per entry
        out.append([relative, "l", stat.S_IMODE(mode), 0, target])
    else:
        out.append([relative, "o", stat.S_IMODE(mode), 0, ""])


Task = tuple[bool, str, str]
"""Work for a reading process: a subtree (``True``, its prefix and directory) or a file
(``False``, its path in the tree and its path)."""


def _list(root: Path, exclude: frozenset[str]) -> list[list[Any]]:
    """The manifest lines of every entry under ``root`` but the excluded top-level ones
    (unsorted), without following links.

    The first :data:`FORK_AT` entries are listed breadth first by this process, which
    leaves their files to be hashed with the rest: a venv's largest files (``numpy.libs``,
    ``scipy.libs``: 25 MB each) sit a few levels down, and hashing them before sharing the
    work out left this process with most of it (0.19 s of CPU against its helper's 0.07 s
    for a scientific stack's 300 MB)."""
    out: list[list[Any]] = []
    pending = [("", str(root))]
    files: list[tuple[str, str]] = []
    parallel = PROCESSES > 1 and _forkable()
    done = 0  # breadth first: the subtrees left to share out are many and small
    while done < len(pending):
        if parallel and len(out) + len(files) >= FORK_AT:
            tasks = [(False, *file) for file in files] + [(True, *t) for t in pending[done:]]
            return out + _list_in_processes(tasks)
        prefix, directory = pending[done]
        done += 1
        _list_dir(prefix, directory, exclude, out, pending, files)
    _list_subtrees([(False, *file) for file in files], out)  # a small tree: hashed here
    return out


def _list_subtrees(tasks: list[Task], out: list[list[Any]]) -> None:
    pending: list[tuple[str, str]] = []
    for is_tree, relative, path in tasks:
        if is_tree:
            pending.append((relative, path))
        else:
            _list_file(relative, path, out, pending)
    while pending:
        prefix, directory = pending.pop()
        _list_dir(prefix, directory, frozenset(), out, pending)


def _list_in_processes(subtrees: list[Task]) -> list[list[Any]]:
    """The lines of the ``subtrees`` and files (each subtree whole), read by
    :data:`PROCESSES` processes: this one and forked ones, each taking the next task from a
    pipe when it is done with the last, so that a large subtree holds up no other."""
    count = min(len(subtrees), MAX_TASKS)
    tasks = [subtrees[index::count] for index in range(count)]
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"".join(i.to_bytes(4, "little") for i in range(count)))
        os.close(write_end)

        def work() -> dict[str, Any]:
            out: list[list[Any]] = []
            try:
                while len(task := os.read(read_end, 4)) == 4:
                    _list_subtrees(tasks[int.from_bytes(task, "little")], out)
            except OSError as error:  # raised again in this process, as a read error
                return {"oserror": [error.errno, error.strerror, error.filename]}
            return {"entries": out}

        children = [_fork_report(work) for _ in range(PROCESSES - 1)]
        try:
            reports = [work()]
        finally:
            reports += [_read_report(pid, pipe, "a hashing process") for pid, pipe in children]
    finally:
        os.close(read_end)
    listed: list[list[Any]] = []
    for report in reports:
        if "oserror" in report:
            raise OSError(*report["oserror"])
        listed += report["entries"]
    return listed


def shallow(root: Path, exclude: frozenset[str] = REWRITTEN_EVERY_BUILD) -> dict[str, Entry]:
    """Every entry with its kind, mode and size; a link with its target; no file hashed.
    ``exclude``: top-level names left out (by default, those of a layer's manifest)."""
    entries = {}
    for relative, info in walk(root, exclude):
        kind = _kind(info.st_mode)
        target = str((root / relative).readlink()) if kind == "l" else ""
        size = info.st_size if kind == "f" else 0
        entries[relative] = Entry(relative, kind, stat.S_IMODE(info.st_mode), size, target)
    return entries


def _fork_report(work: Callable[[], dict[str, Any]], *, group: bool = False) -> tuple[int, int]:
    """Run ``work`` in a forked process that writes its result, as JSON, to a pipe (or
    ``failure``: its traceback); the process's pid and the pipe's read end. With ``group``,
    the process leads a process group of its own (with the processes it forks in turn),
    which :func:`abandon` stops whole."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: nothing but the work, then out without cleanup
        code = 0
        try:
            if group:
                os.setpgid(0, 0)
            os.close(read_end)
            message = json.dumps(work()).encode("utf-8", "surrogateescape")
        except BaseException:  # reported by _read_report as an internal failure
            import traceback

            message = json.dumps({"failure": traceback.format_exc()}).encode()
            code = 1
        try:
            with os.fdopen(write_end, "wb") as stream:
                stream.write(message)
        finally:
            os._exit(code)
    os.close(write_end)
    if group:  # in both processes: the group is there whichever runs first
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)
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


def scan(root: Path, exclude: frozenset[str] = REWRITTEN_EVERY_BUILD) -> dict[str, Entry]:
    """Every entry of the tree at ``root`` (a layer, unless ``exclude`` says otherwise),
    files hashed."""
    return {listed[0]: Entry(*listed) for listed in _list(root, exclude)}


def encode(entries: dict[str, Entry]) -> bytes:
    """The manifest of ``entries``: one line per entry, in path order."""
    return _encode([list(entry) for entry in entries.values()])


def _encode(listed: list[list[Any]]) -> bytes:
    listed = sorted(listed)  # by path: no two lines have the same
    text = json.dumps({"format": FORMAT, "entries": listed}, separators=(",", ":"))
    return (text.replace('],["', '],\n["') + "\n").encode("ascii")


def tree_digest(root: Path, exclude: frozenset[str] = frozenset()) -> str:
    """The SHA-256 of the manifest of the whole tree at ``root`` (every path, kind,
    permission bits, size and content), but the top-level names in ``exclude``: two trees
    with the same digest hold the same entries. A tree that does not exist has none."""
    if not root.is_dir():
        return hashlib.sha256(b"absent").hexdigest()
    return hashlib.sha256(_encode(_list(root, exclude))).hexdigest()


def write_manifest(root: Path) -> str:
    """Write the manifest of the layer at ``root``; its SHA-256, for the layer's metadata."""
    data = _encode(_list(root, REWRITTEN_EVERY_BUILD))
    (root / MANIFEST_NAME).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def _read(root: Path, expected: str) -> tuple[Optional[bytes], Optional[str]]:
    """The layer's manifest, if it is the one whose SHA-256 is ``expected``; else why not."""
    path = root / MANIFEST_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, "Its content manifest is missing"
    except OSError as error:
        return None, f"Its content manifest could not be read ({error.strerror})"
    if not expected or hashlib.sha256(data).hexdigest() != expected:
        return None, "Its content manifest is not the one recorded when the layer was made"
    return data, None


def _parse(data: bytes) -> tuple[Optional[dict[str, Entry]], Optional[str]]:
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
    data, _ = _read(root, expected)
    recorded = None if data is None else _parse(data)[0]
    if recorded is None:
        return False
    found = shallow(root)
    return found.keys() == recorded.keys() and all(
        _same_shape(recorded[path], found[path]) for path in found
    )


class _Background(NamedTuple):
    """A check begun by :func:`verify_in_background`: a forked process that writes the
    :class:`Differences` it found, as JSON, to a pipe."""

    pid: int
    pipe: int
    started: float


_background: dict[tuple[Path, str], _Background] = {}


def _forkable() -> bool:
    """Whether this process may fork a check: not with other threads (a fork copies none
    of them, but every lock they hold). Without ``threading`` loaded, no thread was made."""
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


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
    pid, pipe = _fork_report(lambda: _check_report(root, expected), group=True)
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
    from python_cnb.cnb import toml_file  # loaded by the full build this runs in

    try:
        raw = layer.read_toml()
    except (toml_file.TOMLDecodeError, OSError):
        return  # the layer's own decision reports it
    metadata = (raw or {}).get("metadata")
    contents = metadata.get("contents") if isinstance(metadata, dict) else None
    if isinstance(contents, str):
        verify_in_background(layer.path, contents)


def abandon(root: Path) -> None:
    """Stop any background check of ``root`` (before the layer is emptied), with the
    processes it forked to share out the hashing."""
    import signal

    for key in [key for key in _background if key[0] == root]:
        check = _background.pop(key)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(check.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.kill(check.pid, signal.SIGKILL)  # in case its group was never made
        os.close(check.pipe)
        os.waitpid(check.pid, 0)


def _result(check: _Background) -> tuple[Differences, float]:
    """What the background check found, and when it finished."""
    report = _read_report(check.pid, check.pipe, "the background check")
    missing, added, changed = (tuple(paths) for paths in report["differences"])
    return Differences(missing, added, changed, report["problem"]), float(report["finished"])


def verify(root: Path, expected: str) -> Differences:
    """Compare the layer at ``root`` with its manifest, whose SHA-256 must be ``expected``.

    This is what the benchmark times: the whole tree read, every file hashed. The debug
    line gives the milliseconds the check took, and when it ran in the background, how
    long the build waited for it."""
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
    data, problem = _read(root, expected)
    if data is None:
        return Differences(problem=problem)
    try:
        listed = _list(root, REWRITTEN_EVERY_BUILD)
    except OSError as error:
        return Differences(problem=f"Its contents could not be read ({error.strerror})")
    if _encode(listed) == data:
        return Differences()
    recorded, problem = _parse(data)
    if recorded is None:
        return Differences(problem=problem)
    found = {line[0]: Entry(*line) for line in listed}
    common = set(recorded) & set(found)
    return Differences(
        missing=tuple(sorted(set(recorded) - common)),
        added=tuple(sorted(set(found) - common)),
        changed=tuple(sorted(path for path in common if recorded[path] != found[path])),
    )
