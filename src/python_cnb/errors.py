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
from python_cnb.build_secrets import InvalidBinding
from python_cnb.cnb.context import MissingContextError
from python_cnb.dependencies import ServerNotInstalled
from python_cnb.distributions import InvalidManifest, InvalidMirror
from python_cnb.django import CollectstaticFailed, in_directory
from python_cnb.download import ChecksumMismatch, DownloadFailed
from python_cnb.forbidden_env import FORBIDDEN, ForbiddenEnvironment
from python_cnb.installers import (
    DependencyConflict,
    HashMismatch,
    LockFileOutOfDate,
    RequirementsWithoutHashes,
)
from python_cnb.layers.uv import ToolInstallFailed
from python_cnb.output import mask
from python_cnb.package_index import VendorDirOutsideApp
from python_cnb.package_manager import (
    InvalidPackageManagerSetting,
    MissingLockFile,
    MultiplePackageManagers,
    PackageManager,
)
from python_cnb.pipfile_lock import InvalidPipfileLock
from python_cnb.procfile import InvalidProcfile
from python_cnb.project_files import InvalidProjectFile
from python_cnb.python_version import (
    DEFAULT_ORIGIN,
    EndOfLifePythonVersion,
    InvalidPythonVersion,
    LockedPythonMismatch,
    PythonVersion,
    UnknownPythonVersion,
)
from python_cnb.requirements_files import (
    InvalidRequirementsLine,
    LocalPathOutsideApp,
    MissingRequirementsFile,
)
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
    asked = (
        "No Python version was requested, and the newest available is past its end-of-life."
        if error.requested.is_default
        else f"{error.requested.origin} asks for Python:\n{_quote(error.requested.text)}"
    )
    return f"Python {line} has reached end-of-life", _lines(
        asked,
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
    printed = (
        f"Its last lines of output:\n{textwrap.indent(tail(error.output, 15), '    ')}"
        if error.output.strip()
        else "It printed nothing."
    )
    return f"'{error.display}' failed", _lines(
        f"The command '{error.display}' failed (exit status {error.exit_code}). {printed}",
        "See the full output above. The cached layers from the previous build are unchanged.",
    )


@describe.register
def _(error: InvalidProjectFile) -> tuple[str, str]:
    tools = {"uv.lock": "uv lock", "poetry.lock": "poetry lock", "Pipfile.lock": "pipenv lock"}
    fix = (
        f"{error.file} is generated: regenerate it with `{tools[error.file]}` and commit it."
        if error.file in tools
        else f"Fix the syntax of {error.file} (it is TOML 1.0) and build again."
    )
    return f"Invalid {error.file}", _lines(f"{error.file} cannot be parsed: {error.reason}", fix)


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


@describe.register
def _(error: InvalidPipfileLock) -> tuple[str, str]:
    return "Invalid Pipfile.lock", _lines(
        f"The entry {error.package!r} of Pipfile.lock cannot be installed: {error.reason}.",
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
    return f"Could not install {error.tool} {error.version}", _lines(
        f"python-cnb installs {error.tool} {error.version} from the package index to build the "
        f"app, and that failed:\n{textwrap.indent(tail(error.output, 15), '    ')}",
        offline,
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


@describe.register
def _(error: InvalidBinding) -> tuple[str, str]:
    return f"Invalid {error.binding_type} binding", _lines(
        f"The entry {error.entry!r} of the service binding {error.binding!r} (type "
        f"{error.binding_type}) cannot be used: {error.reason}.",
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
