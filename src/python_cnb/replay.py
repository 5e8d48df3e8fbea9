"""Replaying an unchanged build: when nothing a build reads has changed since the previous
one, its result is put back instead of computed again.

A build is a function of what it reads: the app's files, the environment, the platform
directory (its ``env/`` and bindings), the buildpack plan, the buildpack itself, the build
image (architecture, C library, ``/etc/os-release``, user) and the day (the end-of-life
policy), plus the layers the previous build left. When a build ends, :class:`Recorder`
writes, to the cache-only ``replay`` layer, the digest of each of those inputs and a copy of
everything the build wrote that the lifecycle does not keep by itself: every layer's TOML and
SBOM files, ``launch.toml``, the uncached layers' contents, the cached layers' ``env``
directories and the files the build added to or changed in the app directory.

The next build (:func:`replay_unchanged`, before anything else is loaded) computes the same
digests. When each one is equal, every cached layer was restored with the metadata that build
gave it, and each checks out (the ``python`` and ``venv`` layers against their content
manifests, every file hashed, as a full build checks them; any other cached build or launch
layer against the digest recorded for it), the copy is checked against its digest and
written back. The result is the previous build's, byte for byte, which is what a full build
makes from the same inputs and layers (that the two are the same is tested). Otherwise the
full build runs, and the log says which input changed.

The record's own SHA-256 is kept in the metadata of the launch-only ``runtime`` layer, which
the lifecycle restores from the previous image, not from the cache: a changed record is not
replayed. No record is written when the build met a secret (an index password, a netrc, a
binding other than ``ca-certificates``, a variable named like a secret), so that no digest of
one is kept; nor when the result depends on more than these inputs (a CPython manifest given
by URL, dependencies synced on every build, ``BUILD_NO_CACHE``): those builds always run in
full.
"""

from __future__ import annotations

import datetime
import errno
import hashlib
import json
import os
import re
import stat
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, AbstractSet, Any, Mapping, NamedTuple, Optional, Sequence

from python_cnb import notices, output
from python_cnb.cnb import toml_file
from python_cnb.cnb.bindings import bindings_root, read_bindings
from python_cnb.layers import manifest

if TYPE_CHECKING:
    from python_cnb.cnb.context import BuildContext

LAYER_NAME = "replay"
RECORD_NAME = "record.json"
STATUS_NAME = "buildpack-status.json"
"""Beside the record, not in it: :func:`buildpack_status` depends on the machine and the
moment (inodes, ctimes), and the record's digest goes into the image's metadata, which two
full builds of the same inputs must make alike."""
STORE = "store"
FORMAT = 2
ANCHOR_LAYER = "runtime"
"""The launch-only layer whose metadata (restored from the previous image) holds the
record's SHA-256 (:mod:`python_cnb.layers.runtime`, written by every build)."""
ANCHOR_KEY = "replay-record"
IGNORED_ENV = frozenset({"HOSTNAME", "CNB_BP_PLAN_PATH"})
"""Variables with a value of their own in every build, that no build step depends on: the
container's host name, and the plan's path (a new temporary directory every build, as the
lifecycle makes it; the plan's content is an input of its own)."""
SECRET_NAME = re.compile(
    r"SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_KEY|AUTH", re.IGNORECASE
)
BUILDPACK_CODE = ("buildpack.toml", "bin", "libexec", "src/python_cnb", "vendor", "tools/uv")
"""The buildpack's own files (tools/package.py ships them) whose digest is an input."""
RACY_SECONDS = 2.0
"""A buildpack file changed this close to when its status was taken may change again with
no new timestamp (a file system's clock ticks coarsely): its status proves nothing."""
PUBLIC_BINDINGS = frozenset({"ca-certificates"})
LAYER_ENV_DIRS = ("env", "env.build", "env.launch")
NOTHING = frozenset[str]()


class Paths(NamedTuple):
    """Where a build reads and writes (the CNB variables, and the app as the working dir).

    This and :class:`LayerRecord` are named tuples, not dataclasses: a replay loads only
    what it needs before it runs (``dataclasses`` loads ``inspect``, ``shutil`` loads the
    compression modules), which ``tests/unit/test_replay.py`` checks."""

    app: Path
    layers: Path
    platform: Path
    plan: Path
    buildpack: Path
    bindings: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Optional[Paths]:
        """The paths, or None when a CNB variable is missing (the full build says so)."""
        try:
            platform = Path(env["CNB_PLATFORM_DIR"])
            return cls(
                app=Path.cwd(),
                layers=Path(env["CNB_LAYERS_DIR"]),
                platform=platform,
                plan=Path(env["CNB_BP_PLAN_PATH"]),
                buildpack=Path(env["CNB_BUILDPACK_DIR"]),
                bindings=bindings_root(platform, env),
            )
        except KeyError:
            return None

    @classmethod
    def of(cls, ctx: BuildContext) -> Paths:
        """The paths of a build's context."""
        return cls(
            app=ctx.app_dir,
            layers=ctx.layers_dir,
            platform=ctx.platform_dir,
            plan=Path(ctx.env["CNB_BP_PLAN_PATH"]),
            buildpack=ctx.buildpack_dir,
            bindings=bindings_root(ctx.platform_dir, ctx.env),
        )

    @property
    def layer(self) -> Path:
        return self.layers / LAYER_NAME


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_digest(path: Path) -> str:
    try:
        return _sha256(path.read_bytes())
    except FileNotFoundError:
        return _sha256(b"absent")


def _system() -> bytes:
    """What the build image tells a build: machine, C library, distribution, user."""
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        libc = ""
    described = [
        os.uname().machine,
        libc,
        _file_digest(Path("/etc/os-release")),
        os.getuid(),
        os.getgid(),
        sys.version,
    ]
    return json.dumps(described).encode()


def inputs(
    paths: Paths, env: Mapping[str, str], app_digest: str, buildpack_digest: str
) -> dict[str, str]:
    """The digest of each input of a build (``app_digest``: of the app's files;
    ``buildpack_digest``: :func:`buildpack_digest`)."""
    environment = sorted((k, v) for k, v in env.items() if k not in IGNORED_ENV)
    inside = paths.bindings.is_relative_to(paths.platform)
    return {
        "the app's files": app_digest,
        "the environment": _sha256(json.dumps(environment).encode()),
        "the platform directory": manifest.tree_digest(paths.platform),
        "the service bindings": "" if inside else manifest.tree_digest(paths.bindings),
        "the buildpack plan": _file_digest(paths.plan),
        "the buildpack": buildpack_digest,
        "the build image": _sha256(_system()),
        "the CPython manifest": _cpython_manifest(env),
        "the date": datetime.date.today().isoformat(),
    }


def buildpack_digest(root: Path) -> str:
    """What of the buildpack's directory makes its behaviour: its code and the tools it
    carries (not the bootstrap interpreter that runs the code, named by the build image's
    digest; nor a source checkout's other files)."""
    parts = [
        [name, _file_digest(root / name) if "." in name else manifest.tree_digest(root / name)]
        for name in BUILDPACK_CODE
    ]
    return _sha256(json.dumps(parts).encode())


def buildpack_status(root: Path) -> str:
    """The status of every file of :data:`BUILDPACK_CODE` (path, type, mode, size, mtime,
    ctime, inode), as one digest: while it stays the same, so do the files, and their
    content need not be hashed again (as git's index tells an unchanged work tree). Any
    write to a file, and any file put in its place (a new builder image, say), gives it a
    new ctime, which no program can set back. Empty when a file changed too recently for
    its status to prove anything (:data:`RACY_SECONDS`); the device is left out, as a
    container's overlay file system gets a new one at every mount."""
    taken = time.time_ns() - int(RACY_SECONDS * 1e9)
    described: list[list[object]] = []
    for name in BUILDPACK_CODE:
        try:
            info = os.lstat(root / name)
        except FileNotFoundError:
            described.append([name])
            continue
        entries = [(name, info)]
        if stat.S_ISDIR(info.st_mode):
            walked = manifest.walk(root / name, NOTHING)
            entries += [(f"{name}/{path}", found) for path, found in walked]
        for relative, found in entries:
            if max(found.st_mtime_ns, found.st_ctime_ns) >= taken:
                return ""
            described.append(
                [
                    relative,
                    found.st_mode,
                    found.st_size,
                    found.st_mtime_ns,
                    found.st_ctime_ns,
                    found.st_ino,
                ]
            )
    described.sort(key=lambda line: str(line[0]))  # by path: the walk goes in no order
    return _sha256(json.dumps(described).encode("utf-8", "surrogateescape"))


def _cpython_manifest(env: Mapping[str, str]) -> str:
    """``BP_CPYTHON_MANIFEST`` (:class:`python_cnb.config.settings.Settings`) as a file: its
    digest (a URL's content is not an input: such a build is not recorded)."""
    location = env.get("BP_CPYTHON_MANIFEST", "").strip()
    if not location or "://" in location:
        return location
    return _file_digest(Path(location))


def secret_variables(env: Mapping[str, str]) -> list[str]:
    """The variables whose name or value looks like a secret (credentials in a URL)."""
    return sorted(
        name
        for name, value in env.items()
        if SECRET_NAME.search(name) or output.mask(value) != value
    )


# --- recording ------------------------------------------------------------------------------


def _types(text: str) -> dict[str, bool]:
    raw = toml_file.loads(text).get("types", {})
    return {kind: bool(raw.get(kind, False)) for kind in ("launch", "build", "cache")}


def _copy(source: Path, target: Path) -> None:
    """Copy a file, a link or a whole tree (permission bits kept; times need not be)."""
    import shutil

    if source.is_symlink():
        target.symlink_to(source.readlink())
    elif source.is_dir():
        shutil.copytree(source, target, symlinks=True)
    else:
        shutil.copy2(source, target)


NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _put_file(source: Path, target: Path, mode: int) -> None:
    """Write a copy of the file ``source`` as ``target`` with the permission bits ``mode``
    (in full: no umask), whatever was at ``target`` removed first. The kernel copies
    (``sendfile``), and the file is opened once on each side: putting back a Django app's
    collected static files is hundreds of them."""
    reader = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            writer = os.open(target, NEW_FILE, 0o600)
        except FileExistsError:
            _remove(target)
            writer = os.open(target, NEW_FILE, 0o600)
        try:
            left = os.fstat(reader).st_size
            while left > 0:
                sent = os.sendfile(writer, reader, None, left)
                if sent == 0:  # the source shrank while it was copied: the copy is short
                    raise OSError(errno.EIO, "The file changed while it was copied", str(source))
                left -= sent
            os.fchmod(writer, stat.S_IMODE(mode))
        finally:
            os.close(writer)
    finally:
        os.close(reader)


def _put_entry(copy: Path, target: Path, kind: str, mode: int) -> None:
    """Make ``target``, where nothing is (a file may be), the recorded entry of ``kind``
    with the permission bits ``mode``: a directory made empty, anything else from its
    ``copy`` (a link's own bits are not set: Linux has none)."""
    if kind == "f":
        _put_file(copy, target, mode)
    elif kind == "d":
        target.mkdir()
        target.chmod(stat.S_IMODE(mode))
    else:
        _copy(copy, target)
        if kind != "l":
            target.chmod(stat.S_IMODE(mode))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        import shutil

        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


class LayerRecord(NamedTuple):
    """What a layer was when the build ended."""

    name: str
    toml: str
    cache: bool
    contents: str
    """The SHA-256 of its content manifest (python, venv), checked by :mod:`manifest`."""
    digest: str
    """For another cached build or launch layer, :func:`manifest.tree_digest` of it."""

    def as_json(self) -> list[Any]:
        return [self.name, self.toml, self.cache, self.contents, self.digest]


class Unrecordable(Exception):
    """The build's result cannot be recorded (its message: a
    :data:`python_cnb.notices.REPLAY_BLOCKERS` reason, worded)."""


class Recorder:
    """Takes the inputs at the start of a build; at its end, records its result."""

    def __init__(self, paths: Paths, env: Mapping[str, str]) -> None:
        started = time.monotonic()
        self.paths = paths
        self.env = dict(env)
        self.blockers: list[str] = []
        self.app_before: dict[str, manifest.Entry] = {}
        self.inputs: dict[str, str] = {}
        self.buildpack_status = ""
        try:
            self.app_before = manifest.scan(paths.app, NOTHING)
            self.buildpack_status = buildpack_status(paths.buildpack)  # before its content
            self.inputs = inputs(
                paths,
                env,
                _sha256(manifest.encode(self.app_before)),
                buildpack_digest(paths.buildpack),
            )
        except OSError as error:  # an unreadable file: the build itself may not need it
            self.block("unreadable", error=_os_error(error))
        output.debug(f"'take the build's inputs' took {_ms(started)} ms")

    def block(self, reason: str, **data: str) -> None:
        """The next unchanged build must run in full, because of ``reason`` (one of
        :data:`python_cnb.notices.REPLAY_BLOCKERS`, with what it names)."""
        self.blockers.append(notices.replay_blocker(reason, data))

    def finish(self, summary: Sequence[str]) -> None:
        """Record this build's result (``summary``: the lines that tell what it made), or
        remove the previous record when it cannot be replayed."""
        self._forget()
        if output.has_secrets() or secret_variables(self.env):
            self.block("credentials")
        bindings = read_bindings(self.paths.platform, self.env)
        if any(binding.type not in PUBLIC_BINDINGS for binding in bindings):
            self.block("secret-binding")
        if not (self.paths.layers / f"{ANCHOR_LAYER}.toml").is_file():
            self.block("no-anchor", layer=ANCHOR_LAYER)
        if self.blockers:
            output.debug(notices.replay_not_recorded(self.blockers))
            return
        started = time.monotonic()
        try:
            self._write(summary)
        except OSError as error:  # a full disk, say: the next build runs in full
            self._forget()
            output.debug(notices.replay_not_recorded([_os_error(error)]))
            return
        except Unrecordable as refusal:
            self._forget()
            output.debug(notices.replay_not_recorded([str(refusal)]))
            return
        output.debug(f"'record the build for replay' took {_ms(started)} ms")

    def _forget(self) -> None:
        """Remove the previous build's record (or this one's, half-written)."""
        _remove(self.paths.layer)
        _remove(self.paths.layers / f"{LAYER_NAME}.toml")

    def _write(self, summary: Sequence[str]) -> None:
        layer = self.paths.layer
        store = layer / STORE
        layers = self._record_layers(store / "layers")
        changed, removed = self._record_app(store / "app")
        record = {
            "format": FORMAT,
            "inputs": self.inputs,
            "layers": [entry.as_json() for entry in layers],
            "app_changed": changed,
            "app_removed": removed,
            "store": manifest.tree_digest(store),
            "summary": list(summary),
            "warnings": [list(pair) for pair in output.warnings_given()],
        }
        data = json.dumps(record, sort_keys=True).encode("utf-8", "surrogateescape")
        (layer / RECORD_NAME).write_bytes(data)
        _keep_status(self.paths, _sha256(data), self.buildpack_status)
        toml_file.write(self.paths.layers / f"{LAYER_NAME}.toml", {"types": {"cache": True}})
        anchor(self.paths.layers, _sha256(data))

    def _record_layers(self, store: Path) -> list[LayerRecord]:
        store.mkdir(parents=True)
        records = []
        for entry in sorted(self.paths.layers.iterdir()):
            name = entry.name
            if entry.is_dir() or name == f"{LAYER_NAME}.toml":
                continue
            if not name.endswith(".toml") or entry.with_suffix("").name in (
                "launch",
                "build",
                "store",
            ):
                _copy(entry, store / name)  # launch.toml, SBOM files, store.toml
                continue
            text = entry.read_text(encoding="utf-8")
            types = _types(text)
            if not any(types.values()):
                continue  # ignored by the lifecycle
            layer_name = name[: -len(".toml")]
            path = self.paths.layers / layer_name
            contents = digest = ""
            if not types["cache"]:
                if path.is_dir():
                    _copy(path, store / layer_name)
            else:
                for env_dir in LAYER_ENV_DIRS:
                    if (path / env_dir).is_dir():
                        (store / layer_name).mkdir(exist_ok=True)
                        _copy(path / env_dir, store / layer_name / env_dir)
                contents = str(toml_file.loads(text).get("metadata", {}).get("contents", ""))
                if not contents and (types["launch"] or types["build"]):
                    digest = manifest.tree_digest(path, manifest.REWRITTEN_EVERY_BUILD)
            records.append(LayerRecord(layer_name, text, types["cache"], contents, digest))
        return records

    def _record_app(self, store: Path) -> tuple[list[list[Any]], list[str]]:
        after = manifest.scan(self.paths.app, NOTHING)
        changed = [path for path in sorted(after) if self.app_before.get(path) != after[path]]
        special = [path for path in changed if after[path].kind == "o"]
        if special:
            raise Unrecordable(notices.replay_blocker("special-file", {"path": special[0]}))
        removed = sorted(set(self.app_before) - set(after))
        store.mkdir(parents=True)
        for path in changed:
            entry = after[path]
            if entry.kind == "d":
                (store / path).mkdir(parents=True, exist_ok=True)
            elif entry.kind in "fl":
                (store / path).parent.mkdir(parents=True, exist_ok=True)
                _copy(self.paths.app / path, store / path)
        return [list(after[path]) for path in changed], removed


def _os_error(error: OSError) -> str:
    return f"{error.filename}: {error.strerror}" if error.filename else str(error)


def anchor(layers: Path, record_digest: str) -> None:
    """Put the record's SHA-256 into the anchor layer's metadata."""
    path = layers / f"{ANCHOR_LAYER}.toml"
    raw = toml_file.read(path)
    raw.setdefault("metadata", {})[ANCHOR_KEY] = record_digest
    toml_file.write(path, raw)


# --- replaying ------------------------------------------------------------------------------


class NotReplayed(Exception):
    """Why the previous build's result cannot be put back (the full build runs): one of
    :data:`python_cnb.notices.REPLAY_REFUSALS`, with what it names."""

    def __init__(self, reason: str, **data: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.data = data


def _metadata(path: Path) -> Any:
    try:
        return toml_file.read(path).get("metadata", {})
    except FileNotFoundError:
        return None


class _Checked(NamedTuple):
    """What :func:`_check` found: the previous build's record, its SHA-256, the buildpack's
    status to keep beside it (:func:`_keep_status`; empty: none) and the app's new entries,
    being written meanwhile."""

    record: dict[str, Any]
    digest: str
    status: str
    new_entries: _NewEntries


class _NewEntries:
    """The entries of the recorded app that the app does not have (a Django app's collected
    static files: hundreds), written by a thread while the layers are checked. Creating a
    file is the kernel's work, which then overlaps the hashing processes' instead of
    following it. Nothing they replace exists, so a refused replay removes them
    (:meth:`undo`) and leaves the app as it was; :func:`_put_back_app` writes the rest."""

    def __init__(self, paths: Paths, changed: Sequence[Sequence[Any]]) -> None:
        self.app, self.store = paths.app, paths.layer / STORE / "app"
        self.entries: list[tuple[str, str, int]] = []
        self.roots: list[str] = []  # the new entries whose parent is not new
        new_dirs: set[str] = set()
        for path, kind, mode, _size, _content in changed:
            parent = path.rpartition("/")[0]
            if parent not in new_dirs and (
                (parent and not (self.app / parent).is_dir()) or os.path.lexists(self.app / path)
            ):
                continue  # replaces something, or goes where the app has no directory
            if kind not in ("f", "d", "l"):
                continue
            if parent not in new_dirs:
                self.roots.append(path)
            if kind == "d":
                new_dirs.add(path)
            self.entries.append((path, kind, mode))
        self.paths = {path for path, _kind, _mode in self.entries}
        self.made = 0  # of the roots, how many were begun
        self.stop = False
        self.error: Optional[BaseException] = None
        import threading

        self.thread = threading.Thread(target=self._write, name="new app entries", daemon=True)
        self.thread.start()

    def _write(self) -> None:
        try:
            for path, kind, mode in self.entries:
                if self.stop:
                    return
                if self.made < len(self.roots) and path == self.roots[self.made]:
                    self.made += 1
                _put_entry(self.store / path, self.app / path, kind, mode)
        except BaseException as error:  # raised again by finish()
            self.error = error

    def finish(self) -> AbstractSet[str]:
        """Wait for the writing; the paths written (an error while writing is raised)."""
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.paths

    def undo(self) -> None:
        """Stop the writing and remove what it made: the app is as it was."""
        self.stop = True
        self.thread.join()
        for root in reversed(self.roots[: self.made]):
            _remove(self.app / root)


def _check(paths: Paths, env: Mapping[str, str]) -> _Checked:
    """What the previous build left, if this build may replay it (else NotReplayed)."""
    try:
        data = (paths.layer / RECORD_NAME).read_bytes()
    except FileNotFoundError:
        raise NotReplayed("no-record") from None
    digest = _sha256(data)
    expected = (_metadata(paths.layers / f"{ANCHOR_LAYER}.toml") or {}).get(ANCHOR_KEY)
    if expected != digest:
        raise NotReplayed("record-changed")
    record: dict[str, Any] = json.loads(data.decode("utf-8", "surrogateescape"))
    if record.get("format") != FORMAT:
        raise NotReplayed("record-format")
    layers = [LayerRecord(*entry) for entry in record["layers"]]
    for layer in layers:  # manifests are verified in the background meanwhile
        if layer.contents and layer.cache:
            manifest.verify_in_background(paths.layers / layer.name, layer.contents)
    app_digest = manifest.tree_digest(paths.app)
    new_entries = _NewEntries(paths, record["app_changed"])  # not before the digest is taken
    try:
        status = _finish_check(paths, env, record, layers, digest, app_digest)
    except BaseException:
        new_entries.undo()
        raise
    return _Checked(record, digest, status, new_entries)


def _finish_check(
    paths: Paths,
    env: Mapping[str, str],
    record: Mapping[str, Any],
    layers: Sequence[LayerRecord],
    digest: str,
    app_digest: str,
) -> str:
    """The checks of :func:`_check` after the app's digest; the status to keep."""
    status = _recorded_status(paths, digest)
    current = buildpack_status(paths.buildpack)
    if status and current == status:
        code = record["inputs"]["the buildpack"]  # the same files: the same content
        current = ""  # already kept
    else:
        code = buildpack_digest(paths.buildpack)
    found = inputs(paths, env, app_digest, code)
    changed = [name for name, digest in record["inputs"].items() if found.get(name) != digest]
    if changed:
        raise NotReplayed("inputs-changed", inputs=changed)
    _check_layers(paths, layers)
    if manifest.tree_digest(paths.layer / STORE) != record["store"]:
        raise NotReplayed("copy-changed")
    return current


def _recorded_status(paths: Paths, record_digest: str) -> str:
    """The buildpack status kept beside the record ``record_digest``; empty if none."""
    try:
        kept = json.loads((paths.layer / STATUS_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    if not isinstance(kept, dict) or kept.get("record") != record_digest:
        return ""
    status = kept.get("status")
    return status if isinstance(status, str) else ""


def _keep_status(paths: Paths, record_digest: str, status: str) -> None:
    """Keep the buildpack's ``status`` beside the record ``record_digest``: by the build that
    writes the record, and by a replay that had to hash the buildpack and found the recorded
    content (on another machine, whose copy of the builder has other inodes and ctimes, or
    after a racy status), so that the next builds need not hash it again."""
    kept = {"record": record_digest, "status": status}
    (paths.layer / STATUS_NAME).write_text(json.dumps(kept), encoding="utf-8")


def _check_layers(paths: Paths, layers: Sequence[LayerRecord]) -> None:
    known = {LAYER_NAME, f"{LAYER_NAME}.toml", "store.toml"}
    for layer in layers:
        known.update({layer.name, f"{layer.name}.toml"})
        if not layer.cache:
            continue
        path = paths.layers / layer.name
        restored = _metadata(paths.layers / f"{layer.name}.toml")
        if not path.is_dir() or restored != toml_file.loads(layer.toml).get("metadata", {}):
            raise NotReplayed("layer-not-restored", layer=layer.name)
        if layer.contents:
            differences = manifest.verify(path, layer.contents)
            if differences:
                raise NotReplayed("layer-changed", layer=layer.name)
        elif layer.digest and manifest.tree_digest(path, manifest.REWRITTEN_EVERY_BUILD) != (
            layer.digest
        ):
            raise NotReplayed("layer-changed", layer=layer.name)
    for entry in paths.layers.iterdir():
        name = entry.name
        if name not in known and not (".sbom." in name and name.split(".", 1)[0] in known):
            raise NotReplayed("stray", entry=name)


def _put_back(
    paths: Paths, record: Mapping[str, Any], record_digest: str, new_entries: _NewEntries
) -> None:
    """Write the recorded result (``new_entries``: being written already)."""
    store = paths.layer / STORE
    layers = [LayerRecord(*entry) for entry in record["layers"]]
    cached = {layer.name for layer in layers if layer.cache}
    for name in sorted(cached):  # their env directories are written anew, as by a build
        for env_dir in LAYER_ENV_DIRS:
            _remove(paths.layers / name / env_dir)
    for source in sorted((store / "layers").iterdir()):
        target = paths.layers / source.name
        if source.name in cached:
            for stored in source.iterdir():
                _copy(stored, target / stored.name)
            continue
        _remove(target)
        _copy(source, target)
    for layer in layers:
        (paths.layers / f"{layer.name}.toml").write_text(layer.toml, encoding="utf-8")
    toml_file.write(paths.layers / f"{LAYER_NAME}.toml", {"types": {"cache": True}})
    anchor(paths.layers, record_digest)
    _put_back_app(paths, record, store / "app", new_entries.finish())


def _put_back_app(
    paths: Paths, record: Mapping[str, Any], store: Path, written: AbstractSet[str] = NOTHING
) -> None:
    """Make the app directory what the recorded build left (``store``: its copies;
    ``written``: the entries written already)."""
    for path in reversed(record["app_removed"]):
        _remove(paths.app / path)
    for path, kind, mode, _size, _content in record["app_changed"]:
        if path in written:
            continue
        target = paths.app / path
        if kind == "d" and target.is_dir() and not target.is_symlink():
            target.chmod(stat.S_IMODE(mode))  # a directory stays, with its contents
            continue
        if kind != "f":  # _put_file replaces a file itself, with one open fewer
            _remove(target)
        _put_entry(store / path, target, kind, mode)


def replay_unchanged(env: Mapping[str, str]) -> bool:
    """Put back the previous build's result if nothing it read has changed; whether it did.
    When it cannot, the reason is logged and nothing has been written."""
    paths = Paths.from_env(env)
    if paths is None or not (paths.layer / RECORD_NAME).is_file():
        return False
    output.configure(debug=output.debug_requested(env))
    started = time.monotonic()
    try:
        record, digest, status, new_entries = _check(paths, env)
    except NotReplayed as refusal:
        for layer in paths.layers.iterdir():
            manifest.abandon(layer)
        output.info(notices.replay_refused(refusal.reason, refusal.data))
        return False
    except (OSError, ValueError, KeyError, TypeError, IndexError) as error:
        output.info(notices.replay_refused("record-unreadable", {"error": str(error)}))
        return False
    _put_back(paths, record, digest, new_entries)
    if status:
        _keep_status(paths, digest, status)
    output.header("Reusing the previous build")
    output.info(notices.replay_done())
    output.debug(f"'reuse the previous build' took {_ms(started)} ms")  # read by the bench
    for title, body in record["warnings"]:
        output.warning(title, body)
    output.header("Summary")
    for line in record["summary"]:
        output.info(line)
    return True


def _ms(start: float) -> str:
    return f"{(time.monotonic() - start) * 1000:.0f}"
