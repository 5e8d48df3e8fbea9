"""Why an install failed, read from the installer's output: a package built from source
(no wheel for this Python) that did not build, and whether the build image lacks a system
library, a header or a compiler. The error then names the package, the Python and why that
Python was chosen, instead of only the compiler's last lines; and, when the package index
lists wheels of the failing release for other Pythons but not this one, which Pythons those
are and which later release has a wheel for this one (read from the index's project page)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Sequence

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from python_cnb.buildpack_error import BuildpackError
from python_cnb.support.commands import CommandFailed
from python_cnb.support.simple_index import IndexFile

_FAILED_PACKAGE = (
    re.compile(r"Failed to build `([A-Za-z0-9][A-Za-z0-9._-]*)(?:==([^`\s]+))?"),  # uv
    re.compile(r"Failed building wheel for ([A-Za-z0-9][A-Za-z0-9._-]*)"),  # pip
    re.compile(r"Failed to build installable wheels for some pyproject\.toml based projects "
               r"\(([A-Za-z0-9][A-Za-z0-9._-]*)"),  # pip
    re.compile(r"Failed to build ([A-Za-z0-9][A-Za-z0-9._-]*)\s*$", re.M),  # pip, older
)  # fmt: skip
_SYSTEM = (
    re.compile(r"fatal error: ([^\s:]+\.h): No such file or directory"),
    re.compile(r"\b([a-z0-9_]+_config)(?: executable)?:? (?:command )?not found"),
    re.compile(r"\b(pg_config|mysql_config|xml2-config|libpng-config) executable not found"),
    re.compile(r"cannot find (-l[A-Za-z0-9_+-]+)"),
    re.compile(r"Package (\S+) was not found in the pkg-config search path"),
)
_COMPILER = re.compile(
    r"command '([^']*(?:gcc|cc|clang|g\+\+|x86_64-linux-gnu-gcc))' failed|"
    r"error: command '([^']+)' failed: No such file or directory|"
    r"\b(gcc|cc|cargo|rustc): (?:command )?not found"
)


@dataclass(frozen=True)
class Diagnosis:
    """What the output says went wrong."""

    package: Optional[str]
    """The distribution that failed to build, as the installer named it."""
    missing: Optional[str]
    """What the build image lacks: a header (``mysql.h``), a ``*_config`` tool, a library
    (``-lpq``) or a compiler (``gcc``)."""
    evidence: str
    """The output line that says so."""
    version: Optional[str] = None
    """The version that failed to build, when the installer named it (uv does)."""


@dataclass(frozen=True)
class WheelSupport:
    """What the index has for a release that had to be built from source."""

    version: str
    lines: tuple[str, ...]
    """The Python lines (``3.12``) the release has CPython wheels for on this platform."""
    newer: Optional[str]
    """The first later release with a wheel for the chosen Python, if any."""


@dataclass(eq=False)
class PackageBuildFailed(BuildpackError):
    """An install that failed building a package from source."""

    command: str
    package: Optional[str]
    missing: Optional[str]
    evidence: str
    python: str
    """The Python version the build uses (``3.13.9``)."""
    python_line: str
    chosen_because: Optional[str]
    """Where the version was asked for (``.python-version``), None when nothing asked."""
    wheels: Optional[WheelSupport] = None
    """The release's wheels for other Pythons, when the index lists some."""


def _evidence(output: str, match: re.Match[str]) -> str:
    start = output.rfind("\n", 0, match.start()) + 1
    end = output.find("\n", match.end())
    return output[start : end if end != -1 else len(output)].strip()


def diagnose(output: str) -> Optional[Diagnosis]:
    """The package that failed to build and what the image lacks, or None when the output
    shows no build from source."""
    package = version = None
    evidence = ""
    for pattern in _FAILED_PACKAGE:
        found = pattern.search(output)
        if found:
            package, evidence = found[1].rstrip("=<>~!"), _evidence(output, found)
            version = found[2] if pattern.groups > 1 else None
            break
    missing = None
    for pattern in _SYSTEM:
        found = pattern.search(output)
        if found:
            missing, evidence = found[1], _evidence(output, found)
            break
    else:
        compiler = _COMPILER.search(output)
        if compiler:
            missing = next(group for group in compiler.groups() if group)
            evidence = _evidence(output, compiler)
    if package is None and missing is None:
        return None
    return Diagnosis(package, missing, evidence, version)


_MACHINES = {"amd64": "x86_64", "arm64": "aarch64"}
_CPYTHON = re.compile(r"cp3(\d+)")


def _line_of(interpreter: str) -> Optional[int]:
    """The minor version of a ``cp3XY`` interpreter tag."""
    found = _CPYTHON.fullmatch(interpreter)
    return int(found[1]) if found else None


def _covers(tag: Tag, minor: int, machine: str) -> bool:
    """Whether a wheel with ``tag`` installs on CPython 3.``minor`` on Linux/``machine``."""
    linux = tag.platform.startswith(("manylinux", "linux")) and tag.platform.endswith(machine)
    if not (linux or tag.platform == "any"):
        return False
    if tag.abi == "none" and tag.interpreter.startswith("py3"):
        return True
    line = _line_of(tag.interpreter)
    if line is None:
        return False
    return line == minor if tag.abi != "abi3" else line <= minor


def wheel_support(
    files: Sequence[IndexFile], package: str, version: str, python_line: str, arch: str
) -> Optional[WheelSupport]:
    """What ``files`` (a project page) say about ``package`` ``version`` on ``python_line``:
    None unless the release has CPython wheels for this platform, none for that line."""
    try:
        pinned, minor = Version(version), int(python_line.split(".")[1])
    except (InvalidVersion, IndexError, ValueError):
        return None
    machine = _MACHINES.get(arch, arch)
    releases: dict[Version, list[Tag]] = {}
    for entry in files:
        try:
            name, found, _, wheel_tags = parse_wheel_filename(entry.filename)
        except (InvalidWheelFilename, InvalidVersion):
            continue
        if name == canonicalize_name(package):
            releases.setdefault(found, []).extend(wheel_tags)
    tags = releases.get(pinned, [])
    if any(_covers(tag, minor, machine) for tag in tags):
        return None  # a wheel fits: the source build had another cause
    lines = sorted(
        {
            line
            for tag in tags
            if (line := _line_of(tag.interpreter)) is not None
            and tag.abi != "abi3"
            and _covers(tag, line, machine)
        }
    )
    if not lines:
        return None
    newer = min(
        (
            release
            for release, release_tags in releases.items()
            if release > pinned
            and not release.is_prerelease
            and any(_covers(tag, minor, machine) for tag in release_tags)
        ),
        default=None,
    )
    return WheelSupport(
        version, tuple(f"3.{line}" for line in lines), str(newer) if newer else None
    )


IndexLookup = Callable[[str], Optional[Sequence[IndexFile]]]
"""The files of a project's index page (None: not found, or not asked)."""


def explain(
    failure: CommandFailed,
    python: str,
    python_line: str,
    chosen_because: Optional[str],
    *,
    lookup: Optional[IndexLookup] = None,
    pins: Optional[Mapping[str, str]] = None,
    arch: str = "amd64",
) -> BuildpackError:
    """A :class:`PackageBuildFailed` when the output shows a failed build from source,
    else ``failure`` itself. With ``lookup``, the failing release (its version from the
    output, else from ``pins``: normalized name to pinned version) is looked up on the
    index, to say which Pythons it has wheels for."""
    diagnosis = diagnose(failure.output)
    if diagnosis is None:
        return failure
    wheels = None
    package = diagnosis.package
    version = diagnosis.version or (pins or {}).get(canonicalize_name(package or ""))
    if lookup is not None and package and version:
        files = lookup(package)
        if files:
            wheels = wheel_support(files, package, version, python_line, arch)
    return PackageBuildFailed(
        failure.display,
        diagnosis.package,
        diagnosis.missing,
        diagnosis.evidence,
        python,
        python_line,
        chosen_because,
        wheels,
    )
