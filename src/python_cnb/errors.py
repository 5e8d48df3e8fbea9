"""Every error message users see, in one place.

Domain modules raise :class:`~python_cnb.buildpack_error.BuildpackError` subclasses that
carry data: what was found, and the kind of problem (a small dataclass, never a sentence).
:func:`describe` turns one into a title and a body that says what was found (quoted), why it
is wrong, and how to fix it. Warning blocks and log notes are worded in
:mod:`python_cnb.notices`, whose formatters this module shares. Anything else is a bug in
the buildpack and is reported as an internal error with its traceback by ``__main__``.
"""

from __future__ import annotations

import errno
import functools
import math
import re
import textwrap
from typing import Any, Callable, Iterable, Optional

from python_cnb.app.files import ToolConstraint
from python_cnb.app.package_manager import (
    InvalidPackageManagerSetting,
    MissingLockFile,
    MultiplePackageManagers,
    PackageManager,
)
from python_cnb.app.pipfile_lock import (
    InvalidPipfileLock,
    MetaNotATable,
    NotPinned,
    PackageNotATable,
    SectionNotATable,
    SourcesNotAList,
    SourceWithoutUrl,
)
from python_cnb.app.procfile import InvalidProcfile
from python_cnb.app.project_files import (
    InvalidProjectFile,
    NestedTooDeeply,
    NotAJsonObject,
    OutsideApp,
    ParserMessage,
    ProjectFileProblem,
)
from python_cnb.app.requirements_files import (
    InvalidRequirementsLine,
    LocalPathOutsideApp,
    MissingRequirementsFile,
)
from python_cnb.buildpack_error import FileSystemFault
from python_cnb.cnb.context import MissingContextError
from python_cnb.config.forbidden_env import FORBIDDEN, ForbiddenEnvironment
from python_cnb.config.index import VendorDirOutsideApp
from python_cnb.config.secrets import InvalidBinding, NoPemCertificate, UnreadablePipConf
from python_cnb.config.settings import (
    Expected,
    Flag,
    InvalidSetting,
    IsoDate,
    NumberRange,
    OneOf,
)
from python_cnb.config.tool_specs import (
    InvalidToolConstraint,
    NoToolVersion,
    OverrideViolatesConstraint,
)
from python_cnb.dependencies.failure import PackageBuildFailed
from python_cnb.dependencies.install import ServerNotInstalled
from python_cnb.dependencies.installers import (
    DependencyConflict,
    HashMismatch,
    LockFileOutOfDate,
    RequirementsWithoutHashes,
)
from python_cnb.dependencies.undeclared import DEPENDENCY_FILES, UndeclaredImports
from python_cnb.django import CollectstaticFailed, in_directory
from python_cnb.layers.tools import ToolInstallFailed
from python_cnb.notices import paragraphs as _lines
from python_cnb.notices import quote as _quote
from python_cnb.notices import steps as _steps
from python_cnb.notices import write_version as _write
from python_cnb.output import mask
from python_cnb.python.distributions import (
    EntryChecksumInvalid,
    EntryNotATable,
    EntrySizeInvalid,
    EntryVersionInvalid,
    EntryWithoutUri,
    InvalidManifest,
    InvalidMirror,
    ManifestTooDeep,
    ManifestTooLarge,
    ManifestUnreadable,
    NoDistributions,
)
from python_cnb.python.version import (
    DEFAULT_ORIGIN,
    GRACE_MONTHS,
    EmptyRequest,
    EndOfLifePythonVersion,
    InvalidPythonVersion,
    LineSupport,
    LockedPythonMismatch,
    LongNumber,
    NonAsciiCharacter,
    NotASpecifier,
    NotAVersionLine,
    NotRuntimeTxtFormat,
    NotUtf8,
    NoVersion,
    PreRelease,
    PythonVersion,
    RequestedPythonVersion,
    SeveralVersions,
    SlashComment,
    Stage,
    TooLong,
    UnavailablePythonLine,
    UnknownPythonPatch,
    UnknownPythonVersion,
    VersionProblem,
)
from python_cnb.support.archive import (
    AbsolutePath,
    FilterRefused,
    HardLinkToAbsolutePath,
    HardLinkToTopDirectory,
    SymlinkChainOutside,
    UnsafeArchive,
)
from python_cnb.support.commands import CommandFailed, tail
from python_cnb.support.download import (
    ChecksumMismatch,
    DownloadFailed,
    DownloadTooLarge,
    DownloadTooSlow,
)

ISSUES_URL = "https://github.com/python-cnb/python-cnb/issues"


def _versions(versions: Iterable[PythonVersion]) -> str:
    listed = [str(v) for v in versions]
    return ", ".join(listed) if listed else "(none)"


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
        "`python -m python_cnb_lifecycle build APP_DIR --workspace DIR`.",
    )


def _number_range(expected: NumberRange) -> str:
    bounds = (
        f"a number from {expected.minimum:g} to {expected.maximum:g}"
        if math.isfinite(expected.maximum)
        else f"a number, at least {expected.minimum:g}"
    )
    return bounds + (f" ({expected.unit})" if expected.unit else "")


_EXPECTED: dict[type[Any], Callable[[Any], str]] = {
    Flag: lambda expected: "true or false (1/0, yes/no, on/off)",
    NumberRange: _number_range,
    OneOf: lambda expected: " or ".join(expected.choices),
    IsoDate: lambda expected: "a date, YYYY-MM-DD",
}


def expected_value(expected: Expected) -> str:
    """What a setting must be, as the error block says it (``a number from 1 to 100``)."""
    return _EXPECTED[type(expected)](expected)


@describe.register
def _(error: InvalidSetting) -> tuple[str, str]:
    return f"Invalid value for {error.name}", _lines(
        f"The setting {error.name} is set to:\n{_quote(error.value)}",
        f"It must be {expected_value(error.expected)}.",
        f"Change or remove {error.name} in the platform's environment "
        f"(e.g. `pack build --env {error.name}=...`).",
    )


_VERSION_PROBLEMS: dict[type[Any], Callable[[Any], str]] = {
    NoVersion: lambda problem: "it contains no version",
    SeveralVersions: lambda problem: f"it contains {problem.count} versions; give exactly one",
    TooLong: lambda problem: f"it is {problem.length} characters long",
    NonAsciiCharacter: lambda problem: (
        f"it contains the character {problem.character!r} (U+{ord(problem.character):04X}); "
        "write versions with ASCII digits 0-9"
    ),
    LongNumber: lambda problem: f"a number in it has more than {problem.digits} digits",
    NotAVersionLine: lambda problem: "it must be a version like 3.12 or 3.12.7",
    NotRuntimeTxtFormat: lambda problem: (
        "it must read python-X.Y.Z or python-X.Y, e.g. python-3.12.7"
    ),
    NotASpecifier: lambda problem: "it is neither a version (3.12, 3.12.7) nor a specifier",
    EmptyRequest: lambda problem: "it is empty",
    NotUtf8: lambda problem: (
        f"it is not UTF-8 text (byte 0x{problem.byte:02x} at offset {problem.offset}); save it "
        "as plain ASCII or UTF-8"
    ),
    SlashComment: lambda problem: (
        f"the line {problem.line!r} is not a version: comments in .python-version start "
        "with #, not //"
    ),
    PreRelease: lambda problem: "pre-releases are not available",
}


def version_problem(problem: VersionProblem) -> str:
    """Why a version request cannot be understood (``it is empty``)."""
    return _VERSION_PROBLEMS[type(problem)](problem)


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
        f"This is not a Python version python-cnb understands: {version_problem(error.problem)}.",
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


# --- Which CPython: availability and the end-of-life policy ---------------------------------------


def _asked(requested: RequestedPythonVersion) -> str:
    if requested.is_default:
        return "No Python version was requested."
    return f"{requested.origin} asks for Python:\n{_quote(requested.text)}"


def _newest_of_each_line(versions: Iterable[PythonVersion]) -> str:
    """``3.14.7, 3.13.15, 3.12.14`` (the newest patch of each line, newest line first)."""
    newest: dict[str, PythonVersion] = {}
    for version in sorted(versions, reverse=True):
        newest.setdefault(version.line, version)
    return _versions(newest.values())


def _upgrade(origin: str, oldest: Optional[str], newest: Optional[str]) -> str:
    """The fix step that moves to a supported line."""
    if oldest is None or newest is None:
        return "Ask for a Python version that is available (none is, for this target)."
    ideally = f" (ideally {newest}, the newest)" if newest != oldest else ""
    return f"Upgrade the app to Python {oldest} or newer{ideally}. " + _write(origin, oldest)


def _support_note(support: LineSupport) -> str:
    """`` It reaches end-of-life on ...`` for a line that is not simply supported."""
    if support.end_of_life is None or support.builds_until is None:
        return ""
    eol, until = support.end_of_life.isoformat(), support.builds_until.isoformat()
    if support.stage is Stage.ENDING:
        return f" It reaches its end-of-life on {eol}."
    if support.stage is Stage.GRACE:
        return f" It is past its end-of-life too (since {eol}) and builds only until {until}."
    if support.stage is Stage.ENDED:
        return f" It is past its end-of-life too (since {eol})."
    return ""


@describe.register
def _(error: UnknownPythonVersion) -> tuple[str, str]:
    requested = error.requested
    return "Requested Python version is not available", _lines(
        _asked(requested),
        f"No CPython available for {error.target} matches it. Available lines, with their "
        f"newest patch: {_newest_of_each_line(error.available)}.",
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
def _(error: UnavailablePythonLine) -> tuple[str, str]:
    line, origin = error.support.name, error.requested.origin
    names = [f"{major}.{minor}" for major, minor in error.lines]
    if error.custom_manifest:
        missing = (
            f"The CPython manifest BP_CPYTHON_MANIFEST points at has no Python {line} for "
            f"{error.target}. Its lines: {', '.join(names) or 'none'}."
        )
    elif names:
        missing = (
            f"python-cnb's CPython list has no Python {line}: it holds python-build-standalone's "
            f"builds of Python {names[-1]} to {names[0]} for {error.target}."
        )
    else:
        missing = f"python-cnb's CPython list has nothing for {error.target}."
    past = ""
    if error.support.stage in (Stage.GRACE, Stage.ENDED) and error.support.end_of_life:
        past = (
            f"Python {line} reached its end-of-life on {error.support.end_of_life.isoformat()}: "
            "it gets no security fixes."
        )
    newer_than_all = error.nearest is not None and error.support.line > error.nearest.line
    facts = []
    if error.nearest is not None:
        facts.append(
            f"The nearest line available is {error.nearest.name}.{_support_note(error.nearest)}"
        )
    if error.upgrade_to is not None and not newer_than_all:
        until = error.upgrade_to.end_of_life
        facts.append(
            f"The oldest line still supported is {error.upgrade_to.name}"
            + (f" (until {until.isoformat()})." if until else ".")
        )
    if error.nearest is None:
        steps = ["No CPython is available for this target: ask the platform's operator."]
    elif newer_than_all:
        steps = [
            f"Use Python {error.nearest.name}, the newest line available. "
            + _write(origin, error.nearest.name)
        ]
    else:
        target = error.upgrade_to or error.nearest
        steps = [_upgrade(origin, target.name, names[0] if names else None)]
    if error.custom_manifest:
        steps.append(f"Or add CPython {line} builds to the manifest BP_CPYTHON_MANIFEST points at.")
    return f"Python {line} is not available", _lines(
        _asked(error.requested),
        missing,
        past,
        " ".join(facts),
        "How to fix it:\n" + _steps(*steps),
    )


@describe.register
def _(error: UnknownPythonPatch) -> tuple[str, str]:
    line, origin = error.support.name, error.requested.origin
    newest = error.patches[0]
    until = error.support.builds_until.isoformat() if error.support.builds_until else "?"
    eol = error.support.end_of_life.isoformat() if error.support.end_of_life else "?"
    ended = (
        f"Python {line} is past its end-of-life ({eol}) and its grace period (until {until}): "
        f"any {line} release builds only with BP_PYTHON_ALLOW_EOL=true."
        if error.needs_allow_eol
        else ""
    )
    if error.needs_allow_eol:
        oldest = error.upgrade_to.name if error.upgrade_to else None
        steps = [
            _upgrade(origin, oldest, oldest),
            f"Or, at your own risk, pin one of the {line} releases listed (or {line}) and set "
            "BP_PYTHON_ALLOW_EOL=true: every build will warn.",
        ]
    else:
        steps = [
            f"Ask for the line instead, to get its newest patch ({newest} today) and every "
            f"later fix. " + _write(origin, line),
            f"Or pin one of the {line} releases listed.",
        ]
    if error.custom_manifest:
        steps.append(
            f"Or add CPython {error.requested.text} to the manifest BP_CPYTHON_MANIFEST points at."
        )
    return f"Python {error.requested.text} is not available", _lines(
        _asked(error.requested),
        f"There is no such CPython release for {error.target}. The {line} releases available, "
        f"newest first: {_versions(error.patches)}. The newest is {newest}.",
        ended,
        "How to fix it:\n" + _steps(*steps),
    )


@describe.register
def _(error: EndOfLifePythonVersion) -> tuple[str, str]:
    support = error.support
    line = support.name
    eol = support.end_of_life.isoformat() if support.end_of_life else "?"
    until = support.builds_until.isoformat() if support.builds_until else "?"
    asked = (
        "No Python version was requested, and the newest available is past its end-of-life."
        if error.requested.is_default
        else _asked(error.requested)
    )
    newest = error.available[0].line if error.available else None
    oldest = error.upgrade_to.name if error.upgrade_to else newest
    return f"Python {line} has reached end-of-life", _lines(
        asked,
        f"Python {line} stopped receiving security fixes on {eol}. python-cnb went on building "
        f"it, with a warning, for a grace period of {GRACE_MONTHS} months, until {until}; it no "
        "longer does unless told to. Available lines, with their newest patch: "
        f"{_newest_of_each_line(error.available)}.",
        "How to fix it:\n"
        + _steps(
            _upgrade(error.requested.origin, oldest, newest),
            f"If you must build Python {line} anyway (at your own risk), set "
            "BP_PYTHON_ALLOW_EOL=true: every build will warn.",
        ),
    )


# --- end of: Which CPython ------------------------------------------------------------------------


def _bytes_limit(limit: int) -> str:
    return f"{limit // 1024 // 1024} MB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"


_MANIFEST_PROBLEMS: dict[type[Any], Callable[[Any], str]] = {
    EntryNotATable: lambda problem: f"entry {problem.entry} is not a table",
    EntryVersionInvalid: lambda problem: (
        f"entry {problem.entry}: version {problem.value!r} is not X.Y.Z"
    ),
    EntryWithoutUri: lambda problem: f"entry {problem.entry} ({problem.version}): no uri",
    EntryChecksumInvalid: lambda problem: (
        f"entry {problem.entry} ({problem.version}): checksum must be sha256:<64 hex digits>"
    ),
    EntrySizeInvalid: lambda problem: (
        f"entry {problem.entry} ({problem.version}): size must be a whole number of bytes"
    ),
    NoDistributions: lambda problem: "it lists no CPython distributions",
    ManifestTooLarge: lambda problem: f"it is larger than {_bytes_limit(problem.limit)}",
    ManifestUnreadable: lambda problem: f"it cannot be read: {problem.detail}",
    ManifestTooDeep: lambda problem: "it is nested too deeply",
}


@describe.register
def _(error: InvalidManifest) -> tuple[str, str]:
    return "Invalid CPython manifest", _lines(
        f"The CPython manifest {mask(error.source)} cannot be used:",
        "\n".join(
            f"  - {_MANIFEST_PROBLEMS[type(problem)](problem)}" for problem in error.problems
        ),
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


_ARCHIVE_PROBLEMS: dict[type[Any], Callable[[Any], str]] = {
    AbsolutePath: lambda problem: "an absolute path",
    HardLinkToAbsolutePath: lambda problem: "a hard link to an absolute path",
    HardLinkToTopDirectory: lambda problem: "a hard link to the top directory",
    SymlinkChainOutside: lambda problem: "a chain of symlinks that leads outside the destination",
    FilterRefused: lambda problem: problem.detail,
}


@describe.register
def _(error: UnsafeArchive) -> tuple[str, str]:
    reason = _ARCHIVE_PROBLEMS[type(error.problem)](error.problem)
    return "Unsafe archive", _lines(
        f"The archive {error.archive} contains {error.member!r}: {reason}.",
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
    "dot-type": "A process type cannot be '.' or '..': the lifecycle makes "
    "/cnb/process/<type> for each type.",
    "empty-command": "The command after the colon is empty.",
    "nul": "The command holds a NUL byte (shown as \\x00), which no process can be started with.",
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


def _chosen_tools(error: CommandFailed) -> str:
    """Which tools ran at a version the app or the platform chose (the failure may be
    that version's)."""
    return _lines(
        *(
            f"{tool} {version} is not the version the buildpack pins: {origin} chose it. "
            "If the failure comes from that version, change that."
            for tool, version, origin in error.chosen_tools
        )
    )


@describe.register
def _(error: CommandFailed) -> tuple[str, str]:
    if error.echoed and error.output.strip():
        return f"'{error.display}' failed", _lines(
            f"The command '{error.display}' failed (exit status {error.exit_code}). "
            f"{_why_it_stopped(error.output)}",
            _chosen_tools(error),
            "Its whole output is above, once. The cached layers from the previous build are "
            "unchanged.",
            "How to fix it:\n"
            + _steps(
                "Read the first error in that output: it names the requirement, file or "
                "setting that failed.",
                "Fix that in the app (a requirement or version pin, the lock file: re-lock "
                "it) and build again.",
                "If the package index refused (HTTP 401, 403 or 404), check the index "
                "settings (PIP_INDEX_URL, a pip binding) and the credentials (a netrc binding).",
            ),
        )
    printed = _output_with_reason(error.output) if error.output.strip() else "It printed nothing."
    return f"'{error.display}' failed", _lines(
        f"The command '{error.display}' failed (exit status {error.exit_code}). {printed}",
        _chosen_tools(error),
        "See the full output above. The cached layers from the previous build are unchanged.",
    )


def _why_it_stopped(output: str) -> str:
    """One line of an output already in the log: a traceback's reason, else the last
    ``error`` line, else the last line."""
    reasons, others = _split_tracebacks(output)
    if reasons:
        return f"It stopped with this error:\n    {reasons[-1]}"
    lines = [line.strip() for line in others if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return f"It said:\n    {(errors or lines or [''])[-1]}"


@describe.register
def _(error: InvalidProjectFile) -> tuple[str, str]:
    tools = {"uv.lock": "uv lock", "poetry.lock": "poetry lock", "Pipfile.lock": "pipenv lock"}
    fix = (
        f"{error.file} is generated: regenerate it with `{tools[error.file]}` and commit it."
        if error.file in tools
        else f"Fix the syntax of {error.file} (it is TOML 1.0) and build again."
    )
    return f"Invalid {error.file}", _lines(
        f"{error.file} cannot be parsed: {project_file_problem(error.problem)}", fix
    )


def project_file_problem(problem: ProjectFileProblem) -> str:
    """Why a project file cannot be used, in words."""
    if isinstance(problem, ParserMessage):
        return problem.detail
    if isinstance(problem, NestedTooDeeply):
        return "it is nested too deeply"
    if isinstance(problem, NotAJsonObject):
        return "it is not a JSON object"
    return f"{problem.where} must be {problem.wanted}, but it is {problem.actual}: {problem.shown}"


_MANAGER_FILES = {
    PackageManager.PIP: "requirements.txt",
    PackageManager.PIP_TOOLS: "requirements.in",
    PackageManager.PIPENV: "Pipfile and Pipfile.lock",
    PackageManager.POETRY: "poetry.lock and [tool.poetry]",
    PackageManager.UV: "uv.lock",
}


@describe.register
def _(error: MultiplePackageManagers) -> tuple[str, str]:
    found = "\n".join(f"  - {c.evidence} ({c.manager.value})" for c in error.candidates)
    return "Several package managers' files were found", _lines(
        f"The app has dependency files of more than one package manager:\n{found}",
        "python-cnb installs dependencies with exactly one of them, and will not guess which "
        "one lists what the app needs.",
        "How to fix it:\n"
        + _steps(
            "Keep the files of the package manager you use, and delete the others "
            f"({', '.join(_MANAGER_FILES.get(c.manager, c.evidence) for c in error.candidates)}).",
            "Or choose explicitly: set BP_PYTHON_PACKAGE_MANAGER to "
            + " or ".join(c.manager.value for c in error.candidates)
            + " (Kato/Rainbond: BUILD_PYTHON_PACKAGE_MANAGER).",
        ),
    )


@describe.register
def _(error: MissingLockFile) -> tuple[str, str]:
    tool = "Pipenv" if error.manager is PackageManager.PIPENV else "Poetry"
    return f"{error.missing} is missing", _lines(
        f"The app has {error.found} ({tool}), but no {error.missing}.",
        f"Without the lock file the installed versions would change from build to build. "
        f"python-cnb installs {tool} projects only from their lock file.",
        "How to fix it:\n"
        + _steps(f"Run `{error.lock_command}` in the app directory.", f"Commit {error.missing}."),
    )


@describe.register
def _(error: UndeclaredImports) -> tuple[str, str]:
    names = [name for name, _ in error.imports]
    found = "\n".join(f"    {name}  ({', '.join(places)})" for name, places in error.imports)
    alikes = error.look_alikes
    hints = []
    for found_name, meant in alikes.near_misses:
        hints.append(
            f"Found {found_name}: did you mean {meant}? Only the exact names above are read: "
            "rename the file if it lists the packages."
        )
    if alikes.conda:
        hints.append(
            f"Found {alikes.conda}: conda is not supported. List the packages in "
            "requirements.txt (pip names, as on PyPI)."
        )
    if alikes.requirements_dir:
        hints.append(
            f"Found {', '.join(alikes.requirements_dir)}: add a requirements.txt that "
            f"includes the one to install, e.g. `-r {alikes.requirements_dir[-1]}`."
        )
    return f"The app imports {_shown_names(names)}, but declares no dependencies", _lines(
        f"The app's code imports modules that are neither in the standard library nor part "
        f"of the app:\n{found}",
        "No dependency file was found, so the virtual environment would be empty and the "
        f"app would fail at its first such import. python-cnb reads: "
        f"{', '.join(DEPENDENCY_FILES)}.",
        *hints,
        "How to fix it:\n"
        + _steps(
            "List the packages that provide those modules in requirements.txt "
            "(e.g. `flask==3.1.3`; a module's package may be named differently, such as "
            "yaml from PyYAML), or declare them in pyproject.toml.",
            f"If the app brings those modules itself (vendored on its own sys.path), set "
            f"{error.setting}=true.",
        ),
    )


def _shown_names(names: list[str], limit: int = 3) -> str:
    return ", ".join(names) if len(names) <= limit else f"{', '.join(names[:limit])} and more"


@describe.register
def _(error: InvalidPackageManagerSetting) -> tuple[str, str]:
    if error.missing_file is None:
        return f"Invalid value for {error.setting}", _lines(
            f"{error.setting} is set to:\n{_quote(error.value)}",
            "It must be one of: pip, pip-tools, pipenv, poetry, uv, pyproject, setuptools.",
        )
    return f"{error.setting} names files the app does not have", _lines(
        f"{error.setting}={error.value} installs from {error.missing_file}, which the app "
        "does not have.",
        f"Add {error.missing_file}, or change or unset {error.setting}.",
    )


@describe.register
def _(error: LockedPythonMismatch) -> tuple[str, str]:
    if error.origin == DEFAULT_ORIGIN:
        chosen = f"No Python version was requested, so the newest, {error.version}, was selected"
        change = f"Request a version {error.file} allows (e.g. in .python-version), or"
    else:
        chosen = f"{error.origin} selects Python {error.version}"
        change = f"Change {error.origin} to a version {error.file} allows, or"
    return f"Python {error.version} contradicts {error.file}", _lines(
        f"{chosen}, but {error.file} allows only:\n{_quote(error.constraint)}",
        "Installing would fail or install something other than what was locked.",
        "How to fix it:\n"
        + _steps(change, f"update {error.file} (and re-lock) for Python {error.version.line}."),
    )


@describe.register
def _(error: ForbiddenEnvironment) -> tuple[str, str]:
    listed = "\n".join(
        f"  - {name}={mask(value)}: {FORBIDDEN[name]}" for name, value in error.variables
    )
    return "Environment variables that would redirect the install", _lines(
        f"These variables are set for the build, and python-cnb cannot honour them:\n{listed}",
        "Nothing was installed.",
        "Remove them from the platform's environment (pack build --env, project.toml, the "
        "app's settings). python-cnb sets up pip, uv and Poetry itself, in its own layers.",
    )


def _json_kind(value: object) -> str:
    """A JSON value's kind, in JSON's words."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else "a number"


_PIPFILE_LOCK_PROBLEMS: dict[type[Any], Callable[[Any], str]] = {
    NotPinned: lambda problem: f"its version {problem.version!r} is not pinned with ==",
    SectionNotATable: lambda problem: "the section is not a table of packages",
    PackageNotATable: lambda problem: "it is not a table (version, hashes, markers)",
    MetaNotATable: lambda problem: f"it is {_json_kind(problem.found)}, not a table",
    SourcesNotAList: lambda problem: f"it is {_json_kind(problem.found)}, not a list of sources",
    SourceWithoutUrl: lambda problem: f"source {problem.number} is not a table with a url string",
}


@describe.register
def _(error: InvalidPipfileLock) -> tuple[str, str]:
    reason = _PIPFILE_LOCK_PROBLEMS[type(error.problem)](error.problem)
    return "Invalid Pipfile.lock", _lines(
        f"The entry {error.package!r} of Pipfile.lock cannot be installed: {reason}.",
        "Regenerate the lock file with `pipenv lock` and commit it.",
    )


@describe.register
def _(error: ToolInstallFailed) -> tuple[str, str]:
    offline = (
        "The build is offline (vendored packages): add the tool's wheel (and its dependencies) "
        "to the vendor directory, or remove the vendor directory."
        if error.offline
        else "Check the package index settings (PIP_INDEX_URL, BUILD_PIP_INDEX_URL, a pip "
        "binding) and that the index serves this version."
    )
    chosen = (
        f"{error.origin} chose {error.tool} {error.version}, not the version the buildpack "
        "pins: if the index does not serve it, change that."
        if error.origin
        else ""
    )
    return f"Could not install {error.tool} {error.version}", _lines(
        f"python-cnb installs {error.tool} {error.version} from the package index to build the "
        f"app, and that failed:\n{textwrap.indent(tail(error.output, 15), '    ')}",
        chosen,
        offline,
    )


_OVERRIDE = "BP_PYTHON_PACKAGE_MANAGER_VERSION"


def _constraint_line(constraint: ToolConstraint) -> str:
    return f"{constraint.where}:\n" + _quote(f'{constraint.key} = "{constraint.specifier}"')


@describe.register
def _(error: InvalidToolConstraint) -> tuple[str, str]:
    constraint = error.constraint
    poetry = " (Poetry's ^2.1 and ~2.1 are understood too)" if constraint.tool == "poetry" else ""
    return f"Invalid {constraint.key} in {constraint.file}", _lines(
        _constraint_line(constraint),
        f"{constraint.key} constrains the version of {constraint.tool} that builds the app: it "
        f'must be a PEP 440 version specifier, such as ">=0.5" or "==0.13.9"{poetry}.',
        f"How to fix it: correct that line in {constraint.file} (or remove it) and build again.",
    )


@describe.register
def _(error: NoToolVersion) -> tuple[str, str]:
    constraint = error.constraint
    listed = (
        "the package index lists: "
        + ", ".join(error.available[:8])
        + (", ..." if len(error.available) > 8 else "")
        if error.available
        else "the package index lists no release of it"
    )
    fixes = [
        f"Change {constraint.key} in {constraint.file} to allow {constraint.tool} "
        f"{error.pinned} (pinned and hash-checked) or a release the index serves.",
    ]
    if error.overridable:
        fixes.append(
            f"Or set {_OVERRIDE} to a version of {constraint.tool} that satisfies it and that "
            "the package index serves."
        )
    fixes.append(
        "Or check the package index settings (PIP_INDEX_URL, BUILD_PIP_INDEX_URL, a pip "
        "binding): the index may not serve every release."
    )
    return f"No {constraint.tool} release satisfies {constraint.key}", _lines(
        _constraint_line(constraint),
        f"The buildpack pins {constraint.tool} {error.pinned}, which does not satisfy it, "
        f"and no release on the package index does ({listed}).",
        "How to fix it:\n" + _steps(*fixes),
    )


@describe.register
def _(error: OverrideViolatesConstraint) -> tuple[str, str]:
    constraint, override = error.constraint, error.override
    return (
        f"{override.setting}={override.version} does not satisfy {constraint.key}",
        _lines(
            f"{override.setting} asks for {constraint.tool} {override.version}, but "
            + _constraint_line(constraint),
            f"{constraint.tool} {override.version} does not satisfy that, and {constraint.tool} "
            "refuses to work on a project that does not allow its version.",
            "How to fix it:\n"
            + _steps(
                f"Unset {override.setting}: the constraint then chooses the version (the "
                f"buildpack's pinned {constraint.tool} when it satisfies it).",
                f"Or set {override.setting} to a version that satisfies the constraint.",
                f"Or change {constraint.key} in {constraint.file}.",
            ),
        ),
    )


@describe.register
def _(error: PackageBuildFailed) -> tuple[str, str]:
    what = error.package or "A package"
    title = f"{what} could not be built from source for Python {error.python}"
    major, _, minor = error.python_line.partition(".")
    older = f"{major}.{int(minor) - 1}" if minor.isdigit() and int(minor) > 9 else None
    chosen = (
        f"python-cnb chose Python {error.python} because {error.chosen_because} asks for it."
        if error.chosen_because
        else f"python-cnb chose Python {error.python} because nothing pins a version: it takes "
        "the newest one available."
    )
    if error.missing:
        cause = (
            f"Building it needs {error.missing}, which the build image does not have: this is a "
            "build-image problem, not a bug in the app. The output says:\n"
            f"    {error.missing and error.evidence}"
        )
        image = (
            f"Use a build image that has {error.missing} (its development package), or "
            "add a buildpack that installs it before this one."
        )
    else:
        cause = f"The output says:\n    {error.evidence}"
        image = ""
    pin = (
        f"Pin a Python for which {what} has wheels: write {older} in .python-version "
        "(or the version the app was developed with)."
        if older
        else "Pin the Python the app was developed with in .python-version."
    )
    upgrade = f"Or upgrade {what} to a release that ships wheels for Python {error.python_line}."
    wheels = ""
    if error.wheels is not None:
        release = f"{what} {error.wheels.version}"
        wheels = (
            f"{release} publishes wheels for CPython {_line_ranges(error.wheels.lines)}, "
            f"not {error.python_line}."
        )
        pin = (
            f"Pin the newest Python {release} has wheels for: write {error.wheels.lines[-1]} "
            "in .python-version."
        )
        if error.wheels.newer:
            upgrade = (
                f"Or upgrade {what} to {error.wheels.newer} or later ({what}=={error.wheels.newer}"
                f" is its first release with wheels for CPython {error.python_line})."
            )
    return title, _lines(
        f"`{error.command}` failed: {what} has no pre-built wheel for Python {error.python} on "
        "this platform, so the installer built it from source, and that failed.",
        *([wheels] if wheels else []),
        cause,
        chosen,
        "How to fix it:\n" + _steps(*([image] if image else []), pin, upgrade),
        "The installer's full output is above.",
    )


def _line_ranges(lines: tuple[str, ...]) -> str:
    """``3.8-3.12`` for consecutive Python lines, ``3.8, 3.10-3.11`` with a gap (anything
    that is not a ``3.N`` line is listed as it is)."""
    others = [line for line in lines if not re.fullmatch(r"3\.\d+", line)]
    minors = sorted(int(line.split(".")[1]) for line in lines if line not in others)
    ranges: list[list[int]] = []
    for minor in minors:
        if ranges and minor == ranges[-1][-1] + 1:
            ranges[-1].append(minor)
        else:
            ranges.append([minor])
    return ", ".join(
        [f"3.{run[0]}" if len(run) == 1 else f"3.{run[0]}-3.{run[-1]}" for run in ranges] + others
    )


@describe.register
def _(error: DependencyConflict) -> tuple[str, str]:
    return "The installed packages have conflicting requirements", _lines(
        f"After installing, `{error.checker}` reports:\n"
        + textwrap.indent(tail(error.output), "    "),
        "The app would start with a broken set of packages, so the build stops here.",
        "How to fix it:\n"
        + _steps(
            "Fix the versions so that every requirement is met (re-lock if you use a lock file).",
            "If you know the conflict is harmless, set BP_PYTHON_CHECK_DEPENDENCIES=false.",
        ),
    )


@describe.register
def _(error: LockFileOutOfDate) -> tuple[str, str]:
    return f"{error.lock_file} is out of date", _lines(
        f"{error.lock_file} no longer matches pyproject.toml, so installing it would not install "
        "what pyproject.toml asks for.",
        textwrap.indent(tail(error.output, 10), "    "),
        "How to fix it:\n" + _steps(f"Run `{error.lock_command}`.", f"Commit {error.lock_file}."),
    )


_BINDING_PROBLEMS: dict[type[Any], Callable[[Any], str]] = {
    NoPemCertificate: lambda problem: f"it holds no PEM certificate ({problem.detail})",
    UnreadablePipConf: lambda problem: problem.detail,
}


@describe.register
def _(error: InvalidBinding) -> tuple[str, str]:
    reason = _BINDING_PROBLEMS[type(error.problem)](error.problem)
    return f"Invalid {error.binding_type} binding", _lines(
        f"The entry {error.entry!r} of the service binding {error.binding!r} (type "
        f"{error.binding_type}) cannot be used: {reason}.",
        "Fix the binding's secret or config map (a ca-certificates binding holds PEM files; a "
        "pip binding holds a pip.conf in INI format), or remove the binding.",
    )


@describe.register
def _(error: CollectstaticFailed) -> tuple[str, str]:
    failed = f"`python {error.command}` ({in_directory(error.directory)}) failed"
    said = tail(error.output, 20)
    return "Django's collectstatic failed", _lines(
        f"{failed}. Django said:\n" + textwrap.indent(said, "    ")
        if said.strip()
        else f"{failed} without any output.",
        "Static files would be missing from the image, so the build stops here.",
        "How to fix it:\n"
        + _steps(
            "Run the same command locally to see the whole error; the settings module it loads "
            "is usually the cause (a missing STATIC_ROOT, an environment variable the settings "
            "need at build time).",
            "If the app collects static files itself, set BUILD_DISABLE_COLLECTSTATIC=1 "
            "(or DISABLE_COLLECTSTATIC=1).",
        ),
    )


@describe.register
def _(error: ServerNotInstalled) -> tuple[str, str]:
    return f"The web process needs {error.server}", _lines(
        f"python-cnb chose a web process that runs {error.server} (because of {error.reason}), "
        f"but {error.server} is not among the app's dependencies, and "
        "BP_PYTHON_NO_SERVER_INSTALL=true forbids adding it.",
        "How to fix it:\n"
        + _steps(
            f"Add {error.server} to the app's dependencies, or",
            "unset BP_PYTHON_NO_SERVER_INSTALL, or",
            "choose the web process yourself with a Procfile or BP_WEB_COMMAND.",
        ),
    )


# --- Bad input and faults: files the OS refuses, files outside the app, hostile sizes ------

_FAULT_FIXES = {
    errno.EACCES: "Make it readable (and its directories searchable) by the user the build "
    "runs as, e.g. `chmod a+r {path}`, or remove it from the app.",
    errno.EROFS: "The file system is mounted read-only: give the build a writable one.",
    errno.EIO: "The disk or file system failed: check the build machine's storage.",
    errno.ELOOP: "Replace the symlink loop with a real file, or remove it.",
    errno.ENOSPC: "Free disk space on the build machine (or give the build's volume more), "
    "then build again.",
}
_FAULT_FIXES[errno.EPERM] = _FAULT_FIXES[errno.EACCES]
_FAULT_FIXES[errno.EDQUOT] = _FAULT_FIXES[errno.ENOSPC]


@describe.register
def _(error: FileSystemFault) -> tuple[str, str]:
    code = errno.errorcode.get(error.errno, str(error.errno))
    full = error.errno in (errno.ENOSPC, errno.EDQUOT)
    title = error.reason if full or not error.path else f"Cannot {error.doing} {error.path}"
    return title, _lines(
        f"python-cnb could not {error.doing} {error.path}: {error.reason} ({code})."
        if error.path
        else f"The operating system stopped the build: {error.reason} ({code}).",
        "This is a problem of the build machine or the app's files, not of python-cnb. "
        "Nothing was exported: the previous image and the cached layers are unchanged.",
        _FAULT_FIXES.get(error.errno, "").format(path=error.path or "the file"),
    )


@describe.register
def _(error: OutsideApp) -> tuple[str, str]:
    return f"{error.file} points outside the app", _lines(
        f"The app's {error.file} resolves to:\n{_quote(error.target)}\nwhich is not inside the "
        "app directory.",
        "python-cnb reads this file and may print parts of it, so it reads only files inside "
        "the app; it did not read this one.",
        f"Replace {error.file} with a regular file (or a symlink to a file inside the app).",
    )


def _size(count: int) -> str:
    return f"{count} bytes" if count < 1024 * 1024 else f"{count / 1024 / 1024:.1f} MB"


@describe.register
def _(error: DownloadTooLarge) -> tuple[str, str]:
    limit = (
        f"the {_size(error.limit)} the CPython manifest pins for it"
        if error.pinned
        else f"the limit of {_size(error.limit)} (BP_PYTHON_DOWNLOAD_MAX_SIZE)"
    )
    return "Download too large", _lines(
        f"Downloading\n{_quote(mask(error.url))}\nwas stopped at {_size(error.size)}: more than "
        f"{limit}.",
        "Nothing was installed, and the cached layers from the previous build are unchanged.",
        "A server (or a proxy between you and it) that sends more than the pinned file is "
        "broken or hostile: check BP_DEPENDENCY_MIRROR and BP_CPYTHON_MANIFEST. If the file is "
        "really this large, raise BP_PYTHON_DOWNLOAD_MAX_SIZE (in MB)"
        + (" or fix the size in the manifest." if error.pinned else "."),
    )


@describe.register
def _(error: DownloadTooSlow) -> tuple[str, str]:
    tries = "once" if error.attempts == 1 else f"{error.attempts} times"
    return "Download too slow", _lines(
        f"Downloading\n{_quote(mask(error.url))}\ndid not finish within {error.deadline:g} "
        f"seconds (tried {tries}; {_size(error.received)} received in the last try).",
        "Nothing was installed, and the cached layers from the previous build are unchanged.",
        "How to fix it:\n"
        + _steps(
            "If the network is slow today, try the build again.",
            "Behind a slow link, raise BP_PYTHON_DOWNLOAD_DEADLINE (seconds for the whole "
            "download, retries included), or set BP_DEPENDENCY_MIRROR to a nearer mirror.",
        ),
    )


_TRACEBACK = "Traceback (most recent call last):"
_CHAINED = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)


def _split_tracebacks(output: str) -> tuple[list[str], list[str]]:
    """``(exception lines, other lines)`` of a tool's output: each Python traceback's frames
    are dropped, its final ``Error: reason`` line kept apart (pip-tools prints three chained
    tracebacks for a missing package; the reason is the last line of the last one)."""
    reasons: list[str] = []
    others: list[str] = []
    in_frames = False
    for line in output.splitlines():
        if line.strip() == _TRACEBACK:
            in_frames = True
        elif line.strip() in _CHAINED or (in_frames and (line[:1].isspace() or not line)):
            continue
        elif in_frames:
            in_frames = False
            reasons.append(line)
        else:
            others.append(line)
    return reasons, others


def _output_with_reason(output: str) -> str:
    """The last lines of a failed command's output; a traceback's reason first, and its
    frames left out."""
    reasons, others = _split_tracebacks(output)
    if not reasons:
        return f"Its last lines of output:\n{textwrap.indent(tail(output, 15), '    ')}"
    said = "\n".join(others).strip()
    return _lines(
        f"It stopped with this error:\n    {reasons[-1]}",
        f"Its last lines of output, without the traceback:\n"
        f"{textwrap.indent(tail(said, 15), '    ')}"
        if said
        else "",
    )


# --- What the app's requirement files install, and from where (install integrity) -------


@describe.register
def _(error: InvalidRequirementsLine) -> tuple[str, str]:
    return f"Invalid line in {error.file}", _lines(
        f"Line {error.line_number} of {error.file} reads:\n{_quote(error.line)}",
        f"pip cannot read it: {error.reason}.",
        "Fix the line (see pip's requirements file format) and build again.",
    )


@describe.register
def _(error: LocalPathOutsideApp) -> tuple[str, str]:
    return "A requirement installs from outside the app", _lines(
        f"Line {error.line_number} of {error.file} reads:\n{_quote(error.line)}",
        f"It installs from {error.path!r}, which is outside the app directory. The image is "
        "built from the app's files only: a path elsewhere on the build machine is not part "
        "of the app, differs from machine to machine, and its changes could not be seen.",
        "How to fix it:\n"
        + _steps(
            "Move the package into the app (for example ./libs/mylib) and name it with a "
            "relative path, or",
            "publish it to a package index and require it by name and version.",
        ),
    )


@describe.register
def _(error: VendorDirOutsideApp) -> tuple[str, str]:
    return "BP_PIP_DEST_PATH is outside the app", _lines(
        f"BP_PIP_DEST_PATH is set to:\n{_quote(error.value)}\nwhich is {error.resolved}, "
        "outside the app directory.",
        "The vendored packages must be part of the app. Set BP_PIP_DEST_PATH to a directory "
        "inside the app (relative to it, such as vendor or wheels), or unset it.",
    )


@describe.register
def _(error: RequirementsWithoutHashes) -> tuple[str, str]:
    listed = "\n".join(f"    {line}" for line in error.lines)
    return "Requirements without hashes in hash-checking mode", _lines(
        "Some requirements carry --hash, so pip installs in hash-checking mode, where every "
        f"requirement must be pinned with == and hashed, as in\n{_quote(error.hashed_example)}",
        f"These have no hash:\n{listed}",
        "pip refuses such a file (it would otherwise install these unchecked), and so does "
        "python-cnb. Add --hash to each (pip-compile --generate-hashes or "
        "uv pip compile --generate-hashes writes them all), or remove the hashes.",
    )


@describe.register
def _(error: HashMismatch) -> tuple[str, str]:
    return f"Hash mismatch for {error.package}", _lines(
        f"The requirements pin {error.package} to\n    expected: {error.expected}\n"
        f"but the file downloaded has\n    actual:   {error.actual}",
        f"{error.installer} refused to install it. Either the pin is out of date (the "
        "package was re-uploaded or another file was chosen), or the file was tampered with "
        "on the way: check where it comes from before updating the hash.",
        "Nothing was installed; the cached layers from the previous build are unchanged.",
    )


def internal_error_body(traceback_text: str) -> str:
    """The body of the block for an unexpected exception: a bug in python-cnb."""
    return _lines(
        "This is a bug in python-cnb, not a problem with your app.",
        textwrap.indent(mask(traceback_text.rstrip()), "    "),
        f"Please report it at {ISSUES_URL} with this output. Trying again will not help "
        "unless the cause was on the machine (disk full, out of memory).",
    )
