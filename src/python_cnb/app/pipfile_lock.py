"""Pipfile.lock to a requirement set: the ``default`` packages, pinned, with their hashes.

Pipenv itself is not needed to install a lock: each entry becomes one requirement line
(``name[extras]==version ; markers --hash=sha256:...``, or a VCS/path/URL reference), and
the lock's ``_meta.sources`` become the index settings.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Any, Mapping, Union

from python_cnb.buildpack_error import BuildpackError

PYPI_URLS = ("https://pypi.org/simple", "https://pypi.python.org/simple")


@dataclass(frozen=True)
class NotPinned:
    """A package's version (as the lock has it) is not ``==X``."""

    version: object


@dataclass(frozen=True)
class SectionNotATable:
    """``default`` is not a table of packages."""


@dataclass(frozen=True)
class PackageNotATable:
    """A package's entry is not a table."""


@dataclass(frozen=True)
class MetaNotATable:
    """``_meta`` is not a table (``found``: what it is)."""

    found: object


@dataclass(frozen=True)
class SourcesNotAList:
    """``_meta.sources`` is not a list (``found``: what it is)."""

    found: object


@dataclass(frozen=True)
class SourceWithoutUrl:
    """Source ``number`` (from 1) is not a table with a url string."""

    number: int


PipfileLockProblem = Union[
    NotPinned, SectionNotATable, PackageNotATable, MetaNotATable, SourcesNotAList, SourceWithoutUrl
]


@dataclass(eq=False)
class InvalidPipfileLock(BuildpackError):
    """A Pipfile.lock entry that cannot be turned into a requirement."""

    package: str
    problem: PipfileLockProblem


@dataclass(frozen=True)
class LockedSet:
    """The requirement lines of a Pipfile.lock, and its package sources."""

    lines: tuple[str, ...]
    hashed: bool
    """True when every line carries hashes (then they are enforced)."""
    sources: tuple[str, ...]
    """Index URLs of ``_meta.sources``, in order (``${VAR}`` not yet expanded)."""
    insecure_hosts: tuple[str, ...] = ()
    """Hosts of sources with ``verify_ssl = false``."""

    def text(self) -> str:
        """The requirements file content (without hashes unless every line has them)."""
        return "\n".join(self.lines) + "\n"


_VCS = ("git", "hg", "svn", "bzr")


def is_pypi(url: str) -> bool:
    """Whether ``url`` is PyPI's simple index (with or without a trailing slash)."""
    return url.rstrip("/").lower() in PYPI_URLS


def _hashable(entry: Mapping[str, Any]) -> bool:
    """Index packages and file URLs can be hash-checked; VCS checkouts, local paths and
    editable installs cannot (pip refuses them in hash-checking mode)."""
    return not entry.get("editable") and "path" not in entry and not any(k in entry for k in _VCS)


def _line(name: str, entry: Mapping[str, Any], with_hashes: bool) -> str:
    extras = entry.get("extras") or []
    extra = f"[{','.join(sorted(extras))}]" if extras else ""
    requirement = name + extra
    editable = bool(entry.get("editable"))
    markers = f" ; {entry['markers']}" if entry.get("markers") else ""
    hashes = "".join(f" --hash={h}" for h in entry.get("hashes") or []) if with_hashes else ""
    vcs = next((k for k in _VCS if k in entry), None)
    if vcs is not None:
        url = entry[vcs] if entry[vcs].startswith(f"{vcs}+") else f"{vcs}+{entry[vcs]}"
        ref = entry.get("ref")
        url = f"{url}@{ref}" if ref else url
        subdirectory = entry.get("subdirectory")
        if editable:
            fragment = f"#egg={name}" + (f"&subdirectory={subdirectory}" if subdirectory else "")
            return f"-e {url}{fragment}"
        fragment = f"#subdirectory={subdirectory}" if subdirectory else ""
        return f"{requirement} @ {url}{fragment}{markers}"
    if "path" in entry:
        path = entry["path"]
        return f"-e {path}{extra}" if editable else f"{path}{extra}{markers}"
    if "file" in entry:
        return f"{requirement} @ {entry['file']}{markers}{hashes}"
    version = entry.get("version")
    if not isinstance(version, str) or not version.startswith("=="):
        raise InvalidPipfileLock(name, NotPinned(version))
    return f"{requirement}{version}{markers}{hashes}"


def convert(lock: Mapping[str, Any]) -> LockedSet:
    """The ``default`` section of a parsed Pipfile.lock as requirement lines."""
    packages = lock.get("default") or {}
    if not isinstance(packages, dict):
        raise InvalidPipfileLock("default", SectionNotATable())
    entries = sorted(packages.items())
    for name, entry in entries:
        if not isinstance(entry, dict):
            raise InvalidPipfileLock(name, PackageNotATable())
    hashed = bool(entries) and all(_hashable(e) and e.get("hashes") for _, e in entries)
    lines = tuple(_line(name, entry, hashed) for name, entry in entries)
    meta = lock.get("_meta", {})
    if not isinstance(meta, dict):
        raise InvalidPipfileLock("_meta", MetaNotATable(meta))
    listed = meta.get("sources", [])
    if not isinstance(listed, list):
        raise InvalidPipfileLock("_meta.sources", SourcesNotAList(listed))
    for number, source in enumerate(listed, start=1):
        if not isinstance(source, dict) or not isinstance(source.get("url"), str):
            raise InvalidPipfileLock("_meta.sources", SourceWithoutUrl(number))
    valid = listed
    sources = tuple(str(source["url"]).rstrip("/") for source in valid)
    insecure = tuple(
        urllib.parse.urlsplit(str(source["url"])).hostname or ""
        for source in valid
        if source.get("verify_ssl") is False
    )
    return LockedSet(lines, hashed, sources, tuple(host for host in insecure if host))


_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def expand_variables(text: str, env: Mapping[str, str]) -> str:
    """``${VAR}`` and ``$VAR`` from ``env``, as pipenv expands source URLs (credentials are
    usually passed this way); unknown variables are left as they are."""
    return _VARIABLE.sub(lambda m: env.get(m[1] or m[2], m[0]), text)
