"""Every error message users see, in one place.

Domain modules raise :class:`~python_cnb.buildpack_error.BuildpackError` subclasses that
carry data. :func:`describe` turns one into a title and a body that says what was found
(quoted), why it is wrong, and how to fix it. Anything else is a bug in the buildpack and is
reported as an internal error with its traceback by ``__main__``.
"""

from __future__ import annotations

import functools
import textwrap
from typing import Iterable

from python_cnb.archive import UnsafeArchive
from python_cnb.cnb.context import MissingContextError
from python_cnb.distributions import InvalidManifest, InvalidMirror
from python_cnb.download import ChecksumMismatch, DownloadFailed
from python_cnb.output import mask
from python_cnb.procfile import InvalidProcfile
from python_cnb.python_version import (
    EndOfLifePythonVersion,
    InvalidPythonVersion,
    PythonVersion,
    UnknownPythonVersion,
)
from python_cnb.requirements_files import MissingRequirementsFile
from python_cnb.settings import InvalidSetting
from python_cnb.subprocess_runner import CommandFailed, tail

ISSUES_URL = "https://github.com/python-cnb/python-cnb/issues"


def _quote(text: str) -> str:
    """Show a user's text exactly, indented, with invisible characters made visible."""
    shown = text.replace("\t", "\\t").replace("\r", "\\r").replace("\ufeff", "\\ufeff")
    lines = shown.splitlines() or [""]
    return "\n".join(f'    "{line}"' if len(lines) == 1 else f"    | {line}" for line in lines)


def _steps(*steps: str) -> str:
    return "\n".join(
        textwrap.indent(f"{index}. {step}", "  ").replace("\n", "\n     ")
        for index, step in enumerate(steps, start=1)
    )


def _versions(versions: Iterable[PythonVersion]) -> str:
    listed = [str(v) for v in versions]
    return ", ".join(listed) if listed else "(none)"


def _lines(*paragraphs: str) -> str:
    return "\n\n".join(p for p in paragraphs if p)


@functools.singledispatch
def describe(error: Exception) -> tuple[str, str]:
    """The title and body of the error block for ``error``."""
    return "The build failed", str(error)


@describe.register
def _(error: MissingContextError) -> tuple[str, str]:
    return "Not run by a CNB lifecycle", _lines(
        f"The {error.phase} step needs the environment variable {error.variable}, which the "
        "lifecycle always sets, and it is missing.",
        "Run this buildpack with `pack build`, a builder image, or "
        "`python -m python_cnb.lifecycle build APP_DIR --workspace DIR`.",
    )


@describe.register
def _(error: InvalidSetting) -> tuple[str, str]:
    return f"Invalid value for {error.name}", _lines(
        f"The setting {error.name} is set to:\n{_quote(error.value)}",
        f"It must be {error.expected}.",
        f"Change or remove {error.name} in the platform's environment "
        f"(e.g. `pack build --env {error.name}=...`).",
    )


@describe.register
def _(error: InvalidPythonVersion) -> tuple[str, str]:
    where = (
        f"The file {error.origin} contains:"
        if error.origin in (".python-version", "runtime.txt")
        else f"The {error.origin} setting is:"
        if error.origin.isupper()
        else f"{error.origin} contains:"
    )
    fixes = {
        ".python-version": "Make .python-version hold one line with the version, e.g. 3.12 "
        "(the newest 3.12.x) or 3.12.7 (exactly that release).",
        "runtime.txt": "Make runtime.txt read python-3.12 or python-3.12.7, or replace it "
        "with a .python-version file containing 3.12.",
    }
    return f"Invalid Python version in {error.origin}", _lines(
        f"{where}\n{_quote(error.text)}",
        f"This is not a Python version python-cnb understands: {error.reason}.",
        "How to fix it:\n"
        + _steps(
            fixes.get(
                error.origin,
                f"Set {error.origin} to a version such as 3.12 or 3.12.7, or a specifier "
                "such as >=3.11,<3.13.",
            ),
            "Prefer a major.minor version (3.12): you get security fixes on every build.",
        ),
    )


@describe.register
def _(error: UnknownPythonVersion) -> tuple[str, str]:
    requested = error.requested
    return "Requested Python version is not available", _lines(
        f"{requested.origin} asks for Python:\n{_quote(requested.text)}",
        f"No CPython available for {error.target} matches it. Available versions: "
        f"{_versions(error.available)}.",
        "How to fix it:\n"
        + _steps(
            f"Change {requested.origin} to one of the available versions, or to a "
            "major.minor version such as "
            + (f"{error.available[0].line}" if error.available else "3.12")
            + " (the newest patch is picked).",
            "If you run your own CPython builds, point BP_CPYTHON_MANIFEST at a manifest that "
            "lists this version.",
        ),
    )


@describe.register
def _(error: EndOfLifePythonVersion) -> tuple[str, str]:
    line = f"{error.line[0]}.{error.line[1]}"
    newest = error.available[0].line if error.available else "3.13"
    return f"Python {line} has reached end-of-life", _lines(
        f"{error.requested.origin} asks for Python:\n{_quote(error.requested.text)}",
        f"Python {line} stopped receiving security fixes on {error.end_of_life.isoformat()}, "
        "so python-cnb no longer builds it by default. Available versions: "
        f"{_versions(error.available)}.",
        "How to fix it:\n"
        + _steps(
            f"Upgrade the app and change {error.requested.origin} to a supported version, "
            f"ideally {newest}.",
            "If you must build it anyway (at your own risk), set BP_PYTHON_ALLOW_EOL=true.",
        ),
    )


@describe.register
def _(error: InvalidManifest) -> tuple[str, str]:
    return "Invalid CPython manifest", _lines(
        f"The CPython manifest {mask(error.source)} cannot be used:",
        "\n".join(f"  - {problem}" for problem in error.problems),
        "Each entry needs version (X.Y.Z), uri, checksum (sha256:<64 hex digits>), os and "
        "arch, as in buildpack.toml's [[metadata.dependencies]]. Fix the manifest, or unset "
        "BP_CPYTHON_MANIFEST to use the buildpack's own list.",
    )


@describe.register
def _(error: InvalidMirror) -> tuple[str, str]:
    return "Invalid dependency mirror", _lines(
        f"{error.setting} is set to:\n{_quote(mask(error.value))}",
        "A dependency mirror must be an https:// or file:// URL (plain http:// is accepted "
        "for localhost only), e.g. https://mirror.example.com/{originalHost}.",
        f"Fix or unset {error.setting}.",
    )


@describe.register
def _(error: DownloadFailed) -> tuple[str, str]:
    tries = "once" if error.attempts == 1 else f"{error.attempts} times"
    return "Download failed", _lines(
        f"Downloading\n{_quote(mask(error.url))}\nfailed ({tries}): {error.reason}.",
        "Nothing was installed, and the cached layers from the previous build are unchanged.",
        "How to fix it:\n"
        + _steps(
            "If this is a network problem, try the build again.",
            "Behind a firewall, set BP_DEPENDENCY_MIRROR to a mirror you can reach, or "
            "BP_CPYTHON_MANIFEST to your own list of CPython builds.",
            "Slow networks: raise BP_PYTHON_DOWNLOAD_TIMEOUT (seconds) or "
            "BP_PYTHON_DOWNLOAD_RETRIES.",
        ),
    )


@describe.register
def _(error: ChecksumMismatch) -> tuple[str, str]:
    return "Downloaded file failed its checksum", _lines(
        f"The file downloaded from\n{_quote(mask(error.url))}\nhas SHA-256\n    {error.actual}\n"
        f"but the buildpack expects\n    {error.expected}",
        "It was deleted before anything was extracted: the file is corrupt, or something "
        "between you and the server changed it. The cached layers are unchanged.",
        "Try again; if it persists, check BP_DEPENDENCY_MIRROR (a mirror must serve the "
        "exact same files) or the checksums in BP_CPYTHON_MANIFEST.",
    )


@describe.register
def _(error: UnsafeArchive) -> tuple[str, str]:
    return "Unsafe archive", _lines(
        f"The archive {error.archive} contains {error.member!r}: {error.reason}.",
        "It was not installed. Use a CPython archive in python-build-standalone's "
        "install_only layout.",
    )


@describe.register
def _(error: MissingRequirementsFile) -> tuple[str, str]:
    return "A requirements file is missing", _lines(
        f"Line {error.line_number} of {error.including_file} reads:\n{_quote(error.line)}",
        f"but the file {error.missing!r} does not exist (paths are relative to "
        f"{error.including_file}).",
        "Add the file to the app, or fix the path.",
    )


_PROCFILE_PROBLEMS = {
    "syntax": "A Procfile line must read `<process type>: <command>`, e.g. "
    "`web: gunicorn app:app`.",
    "type": "A process type may contain only letters, digits, '.', '_' and '-'.",
    "empty-command": "The command after the colon is empty.",
    "duplicate": "Each process type may appear only once.",
}


@describe.register
def _(error: InvalidProcfile) -> tuple[str, str]:
    where = f"line {error.line_number} of {error.source}"
    problem = _PROCFILE_PROBLEMS[error.problem]
    if error.problem == "duplicate":
        problem += f" It was first declared on line {error.first_line_number}."
    return f"Invalid {error.source}", _lines(
        f"{where[0].upper()}{where[1:]} reads:\n{_quote(error.line)}",
        problem,
        f"Fix {where} and build again.",
    )


@describe.register
def _(error: CommandFailed) -> tuple[str, str]:
    return f"'{error.display}' failed", _lines(
        f"The command '{error.display}' failed (exit status {error.exit_code}). Its last "
        f"lines of output:\n{textwrap.indent(tail(error.output), '    ')}",
        "See the full output above. The cached layers from the previous build are unchanged.",
    )


def internal_error_body(traceback_text: str) -> str:
    """The body of the block for an unexpected exception: a bug in python-cnb."""
    return _lines(
        "This is a bug in python-cnb, not a problem with your app.",
        textwrap.indent(mask(traceback_text.rstrip()), "    "),
        f"Please report it at {ISSUES_URL} with this output. Trying again will not help "
        "unless the cause was on the machine (disk full, out of memory).",
    )
