"""The ``staticfiles`` layer: what Django's collectstatic wrote into the app (cache only).

The app directory is exported, never cached, so a rebuild starts from the app's source
again. This layer keeps what the last run of collectstatic changed in the app directory
(``STATIC_ROOT``, and anything else the run wrote): each file as a blob named by its
SHA-256, with the path, kind and mode of every entry written and the paths removed. When
nothing the run depends on changed (:class:`StaticFilesMetadata`), the result is written
back into the app directory entry for entry, so the app ends up with the paths, bytes and
modes the run would have written; a blob that no longer matches its name discards the layer.

The layer is cache-only (never launched, never a build layer): the image gets the files
through the app directory, as it does when collectstatic runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Sequence

from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.layers import Layer, LayerTypes, cached_layer
from python_cnb.layers import log_decision
from python_cnb.support.digests import file_sha256

LAYER_NAME = "staticfiles"
TYPES = LayerTypes(cache=True)
LAYOUT = "1"
RESULT = "result.json"
"""What the run wrote and removed (paths relative to the app directory)."""
SOURCES = "sources.json"
"""The app directory before that run, to say which files changed since."""
BLOBS = "blobs"

Entry = tuple[str, int, str]
"""``(kind, mode, digest)``: kind ``f`` (file: digest is its SHA-256), ``d`` (directory),
``l`` (symbolic link: digest is its target) or ``o`` (anything else); mode is the
permission bits."""


@dataclass(frozen=True)
class StaticFilesMetadata:
    """What collectstatic's result depends on: a cached result is restored only if all match.

    The digests are of contents, never of timestamps (the lifecycle normalizes those).
    ``environment`` is one digest of the whole build environment: values are never kept,
    as any of them may be a secret; ``environment_names`` only names the variables.
    """

    layout: str = field(metadata={"label": "python-cnb static files layout"})
    buildpack_version: str = field(metadata={"label": "python-cnb version"})
    python_version: str = field(metadata={"label": "Python version"})
    python_checksum: str = field(metadata={"label": "CPython archive checksum"})
    os: str = field(metadata={"label": "target OS"})
    arch: str = field(metadata={"label": "target architecture"})
    distro_name: str = field(metadata={"label": "target distribution"})
    distro_version: str = field(metadata={"label": "target distribution version"})
    django_version: str = field(metadata={"label": "Django version"})
    manage_py: str = field(metadata={"label": "location of manage.py"})
    # compared by this module, which can say what changed (see _content_reasons)
    sources: str = field(metadata={"label": "app's files (digest)", "invalidates": False})
    packages: str = field(metadata={"label": "installed packages (digest)", "invalidates": False})
    distributions: tuple[str, ...] = field(
        metadata={"label": "installed distributions", "invalidates": False}
    )
    environment: str = field(metadata={"label": "build environment (digest)", "invalidates": False})
    environment_names: tuple[str, ...] = field(
        metadata={"label": "build environment's variables", "invalidates": False}
    )


# --- trees --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tree:
    """Every entry under a directory, by path relative to it (``a/b.css``)."""

    entries: Mapping[str, Entry]
    stats: Mapping[str, tuple[int, int, int]] = field(default_factory=dict, compare=False)
    """``(size, mtime_ns, inode)`` of each file when it was hashed, to hash again only what
    a run touched (within one build: timestamps mean nothing across builds)."""

    def digest(self) -> str:
        """One SHA-256 over every path, kind, mode and digest, in path order."""
        result = hashlib.sha256()
        for path in sorted(self.entries):
            kind, mode, digest = self.entries[path]
            result.update(os.fsencode(path) + f"\0{kind}\0{mode:o}\0".encode())
            result.update(os.fsencode(digest) + b"\n")
        return result.hexdigest()


def snapshot_tree(root: Path, previous: Optional[Tree] = None) -> Tree:
    """Hash every entry under ``root`` (symbolic links are not followed). A file whose size,
    timestamp and inode are those ``previous`` recorded keeps its digest from there."""
    entries: dict[str, Entry] = {}
    stats: dict[str, tuple[int, int, int]] = {}
    known = previous.stats if previous is not None else {}
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        base = os.path.relpath(directory, root)
        prefix = "" if base == "." else base + "/"
        for name in dirs + sorted(files):
            relative = prefix + name
            path = Path(directory, name)
            status = path.lstat()
            mode = stat.S_IMODE(status.st_mode)
            if stat.S_ISLNK(status.st_mode):
                entries[relative] = ("l", mode, str(path.readlink()))
            elif stat.S_ISDIR(status.st_mode):
                entries[relative] = ("d", mode, "")
            elif stat.S_ISREG(status.st_mode):
                signature = (status.st_size, status.st_mtime_ns, status.st_ino)
                if previous is not None and known.get(relative) == signature:
                    digest = previous.entries[relative][2]
                else:
                    try:
                        digest = file_sha256(path)
                    except OSError:  # nor can collectstatic read it (the same user runs it)
                        digest = f"unreadable:{status.st_size}"
                entries[relative] = ("f", mode, digest)
                stats[relative] = signature
            else:
                entries[relative] = ("o", mode, "")
    return Tree(entries, stats)


@dataclass(frozen=True)
class StaticResult:
    """What a run changed in the app directory."""

    written: Mapping[str, Entry]
    """New entries, and entries whose kind, mode or contents changed."""
    removed: tuple[str, ...]

    @classmethod
    def between(cls, before: Tree, after: Tree) -> StaticResult:
        written = {
            path: entry
            for path, entry in sorted(after.entries.items())
            if before.entries.get(path) != entry
        }
        removed = tuple(sorted(path for path in before.entries if path not in after.entries))
        return cls(written, removed)

    def files(self) -> list[tuple[str, str]]:
        """``(path, digest)`` of every file written."""
        return [(path, digest) for path, (kind, _, digest) in self.written.items() if kind == "f"]

    def to_json(self) -> str:
        return json.dumps(
            {
                "written": [[path, *entry] for path, entry in self.written.items()],
                "removed": list(self.removed),
            },
            indent=0,
        )

    @classmethod
    def from_json(cls, text: str) -> StaticResult:
        data = json.loads(text)
        written = {
            str(path): (str(kind), int(mode), str(digest))
            for path, kind, mode, digest in data["written"]
        }
        return cls(written, tuple(str(path) for path in data["removed"]))


def _unsafe(relative: str) -> bool:
    """A path that would leave the app directory (the layer's record is data, not code)."""
    return relative.startswith("/") or ".." in relative.split("/") or relative in ("", ".")


# --- the layer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CachedStaticFiles:
    """The layer at the start of the step, with the result it holds when that is reusable."""

    layer: Layer
    metadata: StaticFilesMetadata
    result: Optional[StaticResult]


def prepare_static_files(
    ctx: BuildContext, metadata: StaticFilesMetadata, sources: Tree, *, keep_cache: bool
) -> CachedStaticFiles:
    """Keep the restored result if nothing it depends on changed, else log every reason.

    ``sources`` is the app directory as it is now, before anything runs."""
    decision = cached_layer(
        ctx.layers_dir,
        LAYER_NAME,
        types=TYPES,
        metadata=metadata,
        keep=keep_cache,
        extra_reasons=lambda previous, layer: _content_reasons(previous, metadata, sources, layer),
    )
    if decision.reused:
        result = StaticResult.from_json((decision.layer.path / RESULT).read_text("utf-8"))
        return CachedStaticFiles(decision.layer, metadata, result)
    log_decision(decision, "static files")
    return CachedStaticFiles(decision.layer, metadata, None)


def restore_static_files(cached: CachedStaticFiles, app_dir: Path) -> None:
    """Write the cached result into the app directory, as the run did."""
    assert cached.result is not None
    blobs = cached.layer.path / BLOBS
    for relative in reversed(cached.result.removed):
        _remove(app_dir / relative)
    directories = []
    for relative, (kind, mode, digest) in sorted(cached.result.written.items()):  # parents first
        path = app_dir / relative
        if kind == "d":
            if path.is_symlink() or not path.is_dir():
                _remove(path)
                path.mkdir()
            directories.append((path, mode))  # its mode once its entries are written
            continue
        _remove(path)
        if kind == "l":
            path.symlink_to(digest)
        else:
            shutil.copyfile(blobs / digest, path)
            path.chmod(mode)
    for path, mode in reversed(directories):
        path.chmod(mode)


def save_static_files(
    cached: CachedStaticFiles, app_dir: Path, sources: Tree, result: StaticResult
) -> None:
    """Keep ``result`` (what the run wrote into ``app_dir``) for the next build."""
    layer = cached.layer
    blobs = layer.path / BLOBS
    blobs.mkdir(parents=True, exist_ok=True)
    for relative, digest in result.files():
        blob = blobs / digest
        if not blob.exists():  # the same bytes under two names are kept once
            shutil.copyfile(app_dir / relative, blob)
    (layer.path / RESULT).write_text(result.to_json(), encoding="utf-8")
    recorded = {path: list(entry) for path, entry in sources.entries.items()}
    (layer.path / SOURCES).write_text(json.dumps(recorded, separators=(",", ":")), "utf-8")
    layer.write(TYPES, cached.metadata)


def discard_static_files(cached: CachedStaticFiles) -> None:
    """Nothing to keep: the next build runs collectstatic again."""
    cached.layer.remove()


def cacheable(result: StaticResult) -> bool:
    """Whether every entry written can be written back (files, directories, links)."""
    return bool(result.written) and all(kind in "fdl" for kind, _, _ in result.written.values())


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


# --- why a cached result is not reused ----------------------------------------------------------


def _content_reasons(
    previous: StaticFilesMetadata, current: StaticFilesMetadata, sources: Tree, layer: Layer
) -> list[str]:
    """Reasons for the fields this module compares itself, then whether the result is whole."""
    reasons = []
    if previous.sources != current.sources:
        reasons.append(_sources_reason(layer, sources))
    if (previous.packages, previous.distributions) != (current.packages, current.distributions):
        reasons.append(_packages_reason(previous.distributions, current.distributions))
    if (previous.environment, previous.environment_names) != (
        current.environment,
        current.environment_names,
    ):
        reasons.append(_environment_reason(previous.environment_names, current.environment_names))
    return reasons or _damage(layer)


def _listing(items: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _sources_reason(layer: Layer, sources: Tree) -> str:
    """Which of the app's files changed since the run (as far as the layer recorded them)."""
    try:
        raw = json.loads((layer.path / SOURCES).read_text("utf-8"))
        before = {str(path): tuple(entry) for path, entry in raw.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return "The app's files changed"
    now = sources.entries

    def change(path: str) -> str:
        return "added" if path not in before else "removed" if path not in now else "changed"

    changed = [
        f"{path} ({change(path)})"
        for path in sorted(set(before) | set(now))
        if before.get(path) != now.get(path)
    ]
    return f"The app's files changed: {_listing(changed)}" if changed else "The app's files changed"


def _packages_reason(before: Sequence[str], after: Sequence[str]) -> str:
    """Which installed distributions were added, removed or changed version."""
    old = dict(item.partition("==")[::2] for item in before)
    new = dict(item.partition("==")[::2] for item in after)
    changes = [
        f"{name} {new[name]} added"
        if name not in old
        else f"{name} {old[name]} removed"
        if name not in new
        else f"{name} {old[name]} -> {new[name]}"
        for name in sorted(set(old) | set(new))
        if old.get(name) != new.get(name)
    ]
    if not changes:
        return "The files of an installed package changed (same versions, new contents)"
    return f"The installed packages changed: {_listing(changes)}"


def _environment_reason(before: Sequence[str], after: Sequence[str]) -> str:
    """The variables added or removed; for a new value only that one changed (the values,
    which may be secrets, are not kept)."""
    added = [f"{name} set" for name in after if name not in before]
    removed = [f"{name} unset" for name in before if name not in after]
    if added or removed:
        return f"The build's environment changed: {_listing(added + removed)}"
    return (
        "A variable of the build's environment has a new value (the settings may read any;"
        " python-cnb keeps a digest, not the values)"
    )


def _damage(layer: Layer) -> list[str]:
    """A record that cannot be read or a blob that is not what it was: not reusable."""
    try:
        result = StaticResult.from_json((layer.path / RESULT).read_text("utf-8"))
    except (OSError, ValueError, TypeError, KeyError) as error:
        return [f"Its record of the static files could not be read ({error})"]
    for relative in [*result.written, *result.removed]:
        if _unsafe(relative):
            return [f"Its record of the static files names a path outside the app: {relative!r}"]
    checked: set[str] = set()
    for relative, digest in result.files():
        if digest in checked:
            continue
        blob = layer.path / BLOBS / digest
        if not blob.is_file():
            return [f"The cached copy of {relative} is missing"]
        if file_sha256(blob) != digest:
            return [f"The cached copy of {relative} is damaged (its contents changed)"]
        checked.add(digest)
    return []
