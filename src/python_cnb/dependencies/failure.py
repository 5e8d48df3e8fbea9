"""Why an install failed, read from the installer's output: a package built from source
(no wheel for this Python) that did not build, and whether the build image lacks a system
library, a header or a compiler. The error then names the package, the Python and why that
Python was chosen, instead of only the compiler's last lines."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from python_cnb.buildpack_error import BuildpackError
from python_cnb.support.commands import CommandFailed

_FAILED_PACKAGE = (
    re.compile(r"Failed to build `([A-Za-z0-9][A-Za-z0-9._-]*)"),  # uv
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


def _evidence(output: str, match: re.Match[str]) -> str:
    start = output.rfind("\n", 0, match.start()) + 1
    end = output.find("\n", match.end())
    return output[start : end if end != -1 else len(output)].strip()


def diagnose(output: str) -> Optional[Diagnosis]:
    """The package that failed to build and what the image lacks, or None when the output
    shows no build from source."""
    package = None
    evidence = ""
    for pattern in _FAILED_PACKAGE:
        found = pattern.search(output)
        if found:
            package, evidence = found[1].rstrip("=<>~!"), _evidence(output, found)
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
    return Diagnosis(package, missing, evidence)


def explain(
    failure: CommandFailed, python: str, python_line: str, chosen_because: Optional[str]
) -> BuildpackError:
    """A :class:`PackageBuildFailed` when the output shows a failed build from source,
    else ``failure`` itself."""
    diagnosis = diagnose(failure.output)
    if diagnosis is None:
        return failure
    return PackageBuildFailed(
        failure.display,
        diagnosis.package,
        diagnosis.missing,
        diagnosis.evidence,
        python,
        python_line,
        chosen_because,
    )
