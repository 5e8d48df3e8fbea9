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

Not part of a manifest: the manifest itself, and the layer's ``env``, ``env.build`` and
``env.launch`` directories, which :meth:`python_cnb.cnb.layer_env.LayerEnv.write` replaces
whole on every build.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, NamedTuple, Optional

MANIFEST_NAME = ".python-cnb-manifest.json"
FORMAT = 1
REWRITTEN_EVERY_BUILD = frozenset({MANIFEST_NAME, "env", "env.build", "env.launch"})
"""Top-level entries a manifest leaves out: itself, and the layer's env directories."""
HASH_THREADS = min(4, os.cpu_count() or 1)
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


def _walk(root: Path) -> Iterator[tuple[str, os.stat_result]]:
    """Every entry under ``root`` but the excluded top-level ones, without following links."""
    pending = [("", str(root))]
    while pending:
        prefix, directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if not prefix and entry.name in REWRITTEN_EVERY_BUILD:
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
    # os.open/os.read on a string path: pathlib and buffered files would cost more than
    # hashing the small files most layers are made of.
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        digest = hashlib.sha256()
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return digest.hexdigest()
            digest.update(chunk)
    finally:
        os.close(fd)


def _hash_all(root: str, paths: list[str]) -> list[tuple[str, str]]:
    return [(path, _sha256(f"{root}/{path}")) for path in paths]


def shallow(root: Path) -> dict[str, Entry]:
    """Every entry with its kind, mode and size; a link with its target; no file hashed."""
    entries = {}
    for relative, info in _walk(root):
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


def scan(root: Path) -> dict[str, Entry]:
    """Every entry of the layer at ``root``, files hashed."""
    return _hash_files(root, shallow(root))


def _encode(entries: dict[str, Entry]) -> bytes:
    listed = [list(entries[path]) for path in sorted(entries)]
    text = json.dumps({"format": FORMAT, "entries": listed}, separators=(",", ":"))
    return (text.replace('],["', '],\n["') + "\n").encode("ascii")


def write_manifest(root: Path) -> str:
    """Write the manifest of the layer at ``root``; its SHA-256, for the layer's metadata."""
    data = _encode(scan(root))
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


def verify(root: Path, expected: str) -> Differences:
    """Compare the layer at ``root`` with its manifest, whose SHA-256 must be ``expected``.

    This is what the benchmark times: a cheap pass over names, types, modes and sizes,
    then, if those all match, every file hashed."""
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
