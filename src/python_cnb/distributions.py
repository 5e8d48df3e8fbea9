"""The CPython distributions the buildpack can install, and where to download them.

By default they are the ``[[metadata.dependencies]]`` of buildpack.toml (Paketo's fields:
id, name, version, uri, checksum, arch, os, stacks, purl, cpe, licenses). Integrators who
build their own CPython point ``BP_CPYTHON_MANIFEST`` at a TOML file or URL listing theirs in
the same shape (``[[dependencies]]``, ``[[metadata.dependencies]]``, or the
``[[distributions]]`` of python-build-standalone's data with ``url`` and ``sha256``).
``BP_DEPENDENCY_MIRROR`` rewrites download URLs as Paketo does.
"""

from __future__ import annotations

import dataclasses
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

from python_cnb.buildpack_error import BuildpackError
from python_cnb.cnb import toml_file
from python_cnb.cnb.bindings import Binding, bindings_of_type
from python_cnb.download import DownloadTooLarge, read_limited
from python_cnb.python_version import PythonVersion

CPYTHON_ID = "cpython"
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Distribution:
    """One CPython build for one OS and architecture."""

    version: PythonVersion
    uri: str
    sha256: str
    os: str
    arch: str
    purl: str = ""
    cpe: str = ""
    licenses: tuple[str, ...] = ()
    source: str = ""
    size: Optional[int] = None
    """The archive's size in bytes, when the manifest pins it: a download stops past it."""

    def with_uri(self, uri: str) -> Distribution:
        """The same distribution downloaded from elsewhere."""
        return dataclasses.replace(self, uri=uri)


@dataclass(eq=False)
class InvalidManifest(BuildpackError):
    """A CPython manifest that cannot be used."""

    source: str
    problems: tuple[str, ...]


def _entries(data: Mapping[str, Any]) -> list[Any]:
    for key in ("dependencies", "distributions"):
        if key in data:
            return list(data[key]) if isinstance(data[key], list) else []
    metadata = data.get("metadata")
    entries = metadata.get("dependencies", []) if isinstance(metadata, dict) else []
    return list(entries) if isinstance(entries, list) else []


def _resolve_uri(uri: str, base: Optional[str]) -> str:
    if base is None or urllib.parse.urlsplit(uri).scheme:
        return uri
    if urllib.parse.urlsplit(base).scheme in ("http", "https", "file"):
        return urllib.parse.urljoin(base, uri)
    return (Path(base).parent / uri).resolve().as_uri()


def _licenses(value: Any) -> tuple[str, ...]:
    """``licenses`` as a tuple (a lone string is one licence)."""
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in value) if isinstance(value, (list, tuple)) else ()


def parse_manifest(
    data: Mapping[str, Any], source: str, base: Optional[str] = None
) -> tuple[Distribution, ...]:
    """Read every CPython entry of a manifest; raise InvalidManifest listing all problems."""
    problems: list[str] = []
    distributions = []
    for index, entry in enumerate(_entries(data)):
        where = f"entry {index + 1}"
        if not isinstance(entry, dict):
            problems.append(f"{where} is not a table")
            continue
        if entry.get("id", CPYTHON_ID) not in (CPYTHON_ID, "python"):
            continue
        uri = entry.get("uri", entry.get("url"))
        checksum = str(entry.get("checksum", entry.get("sha256", ""))).strip().lower()
        sha256 = checksum[len("sha256:") :] if checksum.startswith("sha256:") else checksum
        try:
            version = PythonVersion.parse(str(entry.get("version", "")))
        except ValueError:
            problems.append(f"{where}: version {entry.get('version')!r} is not X.Y.Z")
            continue
        if not isinstance(uri, str) or not uri:
            problems.append(f"{where} ({version}): no uri")
            continue
        if not _SHA256.fullmatch(sha256):
            problems.append(f"{where} ({version}): checksum must be sha256:<64 hex digits>")
            continue
        size = entry.get("size")
        if size is not None and (type(size) is not int or size <= 0):
            problems.append(f"{where} ({version}): size must be a whole number of bytes")
            continue
        distributions.append(
            Distribution(
                version=version,
                uri=_resolve_uri(uri, base),
                sha256=sha256,
                os=str(entry.get("os", "linux")),
                arch=str(entry.get("arch", "")),
                purl=str(entry.get("purl", "")),
                cpe=str(entry.get("cpe", "")),
                licenses=_licenses(entry.get("licenses", ())),
                source=str(entry.get("source", "")),
                size=size,
            )
        )
    if not distributions and not problems:
        problems.append("it lists no CPython distributions")
    if problems:
        raise InvalidManifest(source, tuple(problems))
    return tuple(distributions)


MAX_MANIFEST_BYTES = 16 * 1024 * 1024
"""The largest manifest read (python-build-standalone's full list is under 100 kB)."""


def load_manifest(
    location: str, timeout: float, context: Optional[ssl.SSLContext] = None
) -> tuple[Distribution, ...]:
    """Read ``BP_CPYTHON_MANIFEST``: a file path, or a file/http/https URL (trusting
    ``context``'s certificates, e.g. a ``ca-certificates`` binding's; credentials in the
    URL are sent as basic auth). At most :data:`MAX_MANIFEST_BYTES` are read."""
    scheme = urllib.parse.urlsplit(location).scheme
    try:
        if scheme in ("http", "https", "file"):
            data = read_limited(
                location, timeout=timeout, context=context, max_bytes=MAX_MANIFEST_BYTES
            )
            base = location
        else:
            path = Path(location)
            with path.open("rb") as stream:
                data = stream.read(MAX_MANIFEST_BYTES + 1)
            if len(data) > MAX_MANIFEST_BYTES:
                raise DownloadTooLarge(location, MAX_MANIFEST_BYTES, len(data), pinned=False)
            base = str(path.resolve())
        text = data.decode("utf-8")
        parsed = toml_file.loads(text)
    except DownloadTooLarge as error:
        limit = error.limit
        shown = f"{limit // 1024 // 1024} MB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"
        raise InvalidManifest(location, (f"it is larger than {shown}",)) from None
    except urllib.error.HTTPError as error:
        error.close()  # it holds the connection
        raise InvalidManifest(location, (f"it cannot be read: {error}",)) from None
    except (OSError, UnicodeDecodeError, toml_file.TOMLDecodeError, ValueError) as error:
        raise InvalidManifest(location, (f"it cannot be read: {error}",)) from None
    except RecursionError:
        raise InvalidManifest(location, ("it is nested too deeply",)) from None
    return parse_manifest(parsed, location, base)


def for_target(
    distributions: Iterable[Distribution], os: str, arch: str
) -> tuple[Distribution, ...]:
    """The distributions built for ``os``/``arch``."""
    return tuple(d for d in distributions if d.os == os and d.arch == arch)


# --- BP_DEPENDENCY_MIRROR ------------------------------------------------------------------------

_LOOPBACK = re.compile(r"^(localhost|127(\.\d{1,3}){3}|::1)$")
"""Loopback host names, as ``urlsplit().hostname`` gives them (lower case, IPv6 unbracketed)."""


@dataclass(eq=False)
class InvalidMirror(BuildpackError):
    """A dependency mirror that cannot be used."""

    setting: str
    value: str


def _host_key(name: str) -> str:
    """``BP_DEPENDENCY_MIRROR_GITHUB_COM`` -> ``github.com`` (``__`` is ``-``, ``_`` is ``.``)."""
    return name.replace("__", "-").replace("_", ".").lower()


def find_mirror(
    uri: str, env: Mapping[str, str], bindings: tuple[Binding, ...]
) -> Optional[tuple[str, str]]:
    """``(setting, mirror)`` for ``uri``: a host-specific mirror beats the default one,
    and environment variables beat a ``dependency-mirror`` binding."""
    host = (urllib.parse.urlsplit(uri).hostname or "").lower()
    prefix = "BP_DEPENDENCY_MIRROR_"
    for name, value in sorted(env.items()):
        if name.startswith(prefix) and value.strip() and _host_key(name[len(prefix) :]) == host:
            return name, value.strip()
    if env.get("BP_DEPENDENCY_MIRROR", "").strip():
        return "BP_DEPENDENCY_MIRROR", env["BP_DEPENDENCY_MIRROR"].strip()
    mirror_bindings = bindings_of_type(bindings, "dependency-mirror")
    for entry in (host, "default"):
        for binding in mirror_bindings:
            if entry in binding.entries:
                return f"binding {binding.name}/{entry}", binding.read(entry)
    return None


def apply_mirror(uri: str, env: Mapping[str, str], bindings: tuple[Binding, ...]) -> str:
    """Rewrite ``uri`` through the configured mirror, as Paketo does.

    The mirror's path gets ``{originalHost}`` replaced by the original host, then the
    original path appended (kept percent-encoded). Mirrors must be https or file URLs;
    plain http is allowed for loopback hosts only (a local mirror, our tests).
    """
    found = find_mirror(uri, env, bindings)
    if found is None:
        return uri
    setting, mirror = found
    try:
        mirror_parts = urllib.parse.urlsplit(mirror)
        hostname = mirror_parts.hostname or ""
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise InvalidMirror(setting, mirror) from None
    scheme = mirror_parts.scheme.lower()
    loopback_http = scheme == "http" and bool(_LOOPBACK.match(hostname))
    if scheme not in ("https", "file") and not loopback_http:
        raise InvalidMirror(setting, mirror)
    original = urllib.parse.urlsplit(uri)
    path = mirror_parts.path.replace("{originalHost}", original.hostname or "", 1)
    return urllib.parse.urlunsplit(
        (
            mirror_parts.scheme,
            mirror_parts.netloc,
            path.rstrip("/") + original.path,
            original.query,
            "",
        )
    )


def checksum_hint(sha256: str) -> str:
    """The first 12 hex digits, for logs."""
    return sha256[:12]


def load_distributions(
    metadata: Mapping[str, Any],
    manifest: Optional[str],
    timeout: float,
    context: Optional[ssl.SSLContext] = None,
) -> tuple[Distribution, ...]:
    """The distributions of ``BP_CPYTHON_MANIFEST`` if set, else buildpack.toml's."""
    if manifest:
        return load_manifest(manifest, timeout, context)
    return parse_manifest({"metadata": metadata}, "buildpack.toml")
