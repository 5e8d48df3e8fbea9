"""Every BuildpackError has a described error block; the important ones say exactly what."""

from __future__ import annotations

import collections.abc
import contextlib
import dataclasses
import enum
import errno
import importlib
import pkgutil
import types
import typing
from datetime import date
from pathlib import Path
from typing import Any, Iterator

import pytest

import python_cnb
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
from python_cnb.app.requirements_files import MissingRequirementsFile
from python_cnb.buildpack_error import BuildpackError
from python_cnb.config.forbidden_env import FORBIDDEN, ForbiddenEnvironment
from python_cnb.config.secrets import InvalidBinding, NoPemCertificate, UnreadablePipConf
from python_cnb.config.settings import Flag, InvalidSetting
from python_cnb.dependencies.undeclared import LookAlikes, UndeclaredImports
from python_cnb.errors import ISSUES_URL, describe, internal_error_body
from python_cnb.output import register_secret
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
    EmptyRequest,
    EndOfLifePythonVersion,
    InvalidPythonVersion,
    NonAsciiCharacter,
    NotASpecifier,
    NotAVersionLine,
    NotRuntimeTxtFormat,
    PythonVersion,
    RequestedPythonVersion,
    SeveralVersions,
    TooLong,
    UnknownPythonVersion,
    line_support,
)
from python_cnb.support.archive import (
    AbsolutePath,
    FilterRefused,
    HardLinkToAbsolutePath,
    HardLinkToTopDirectory,
    SymlinkChainOutside,
    UnsafeArchive,
)
from python_cnb.support.commands import CommandFailed
from python_cnb.support.download import ChecksumMismatch, DownloadFailed

GENERIC_TITLE = "The build failed"
V = PythonVersion.parse
AVAILABLE = (V("3.14.7"), V("3.13.9"), V("3.12.12"))


def _modules() -> list[str]:
    """Every module of python_cnb (the lifecycle runner is a package of its own)."""
    return ["python_cnb"] + [
        module.name for module in pkgutil.walk_packages(python_cnb.__path__, "python_cnb.")
    ]


def _subclasses(cls: type[BuildpackError]) -> Iterator[type[BuildpackError]]:
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def _error_classes() -> list[type[BuildpackError]]:
    for name in _modules():
        importlib.import_module(name)
    classes = {
        cls for cls in _subclasses(BuildpackError) if cls.__module__.startswith("python_cnb.")
    }
    return sorted(classes, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


SAMPLES: dict[type[BuildpackError], BuildpackError] = {
    UndeclaredImports: UndeclaredImports(
        (("flask", ("app.py:3",)), ("yaml", ("jobs/run.py:1", "jobs/other.py:2"))),
        LookAlikes(
            (("requirments.txt", "requirements.txt"),),
            "environment.yml",
            ("requirements/prod.txt",),
        ),
    ),
    InvalidSetting: InvalidSetting("BP_PYTHON_ALLOW_EOL", "sure", Flag()),
    InvalidPythonVersion: InvalidPythonVersion("system", ".python-version", NotAVersionLine()),
    UnknownPythonVersion: UnknownPythonVersion(
        RequestedPythonVersion("3.15", "BP_PYTHON_VERSION", "==3.15.*"), AVAILABLE, "linux/amd64"
    ),
    EndOfLifePythonVersion: EndOfLifePythonVersion(
        RequestedPythonVersion("3.9", ".python-version", "==3.9.*"),
        line_support((3, 9), date(2026, 12, 1)),
        AVAILABLE,
        line_support((3, 12), date(2026, 12, 1)),
    ),
    InvalidManifest: InvalidManifest("manifest.toml", (EntryVersionInvalid(1, "3"),)),
    InvalidMirror: InvalidMirror("BP_DEPENDENCY_MIRROR", "http://mirror.test"),
    DownloadFailed: DownloadFailed("https://x.test/cpython.tgz", "timed out", 4),
    ChecksumMismatch: ChecksumMismatch("https://x.test/cpython.tgz", "a" * 64, "b" * 64),
    UnsafeArchive: UnsafeArchive("/tmp/cpython.tgz", "../x", FilterRefused("it would be outside")),
    MissingRequirementsFile: MissingRequirementsFile(
        "requirements.txt", 2, "-r base.txt", "base.txt"
    ),
    InvalidProcfile: InvalidProcfile("Procfile", 1, "web", "syntax"),
    CommandFailed: CommandFailed("pip install -r requirements.txt", 1, "ERROR: no such package"),
    ForbiddenEnvironment: ForbiddenEnvironment(((sorted(FORBIDDEN)[0], "/somewhere"),)),
}


def _sample_value(hint: Any, name: str) -> Any:
    """A plausible value of type ``hint`` for errors without a hand-written sample."""
    origin = typing.get_origin(hint)
    if origin is not None:
        return _sample_generic(origin, typing.get_args(hint), name)
    samples: dict[Any, Any] = {
        str: f"sample {name}",
        object: f"sample {name}",
        int: 2,
        float: 1.5,
        bool: True,
        Path: Path("/workspace/sample"),
        date: date(2025, 10, 31),
    }
    if hint in samples:
        return samples[hint]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return next(iter(hint))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _sample(hint)
    raise AssertionError(f"add a sample of {hint} for {name} to SAMPLES in test_errors.py")


def _sample_generic(origin: Any, args: tuple[Any, ...], name: str) -> Any:
    if origin in (typing.Union, types.UnionType):
        return _sample_value(next(arg for arg in args if arg is not type(None)), name)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return (_sample_value(args[0], name),)
    if origin is tuple:
        return tuple(_sample_value(arg, name) for arg in args)
    if origin in (list, collections.abc.Sequence):
        return [_sample_value(args[0], name)]
    if origin in (dict, collections.abc.Mapping):
        return {}
    raise AssertionError(f"add a sample of {origin} for {name} to SAMPLES in test_errors.py")


def _sample(cls: type[Any]) -> Any:
    hints = typing.get_type_hints(cls)
    return cls(
        **{
            field.name: _sample_value(hints[field.name], field.name)
            for field in dataclasses.fields(cls)
            if field.init
        }
    )


ERROR_CLASSES = _error_classes()


def test_discovery_finds_the_known_errors() -> None:
    assert set(SAMPLES) <= set(ERROR_CLASSES)


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_every_error_is_described(cls: type[BuildpackError]) -> None:
    error = SAMPLES.get(cls) or _sample(cls)
    assert type(error) is cls
    title, body = describe(error)
    assert title
    assert title != GENERIC_TITLE
    assert body.strip()
    assert body != str(error)


KIND_SAMPLES: dict[type[Any], Any] = {
    NonAsciiCharacter: NonAsciiCharacter("\uff13"),
    EntryVersionInvalid: EntryVersionInvalid(1, "3"),
    NotPinned: NotPinned("*"),
    MetaNotATable: MetaNotATable([]),
    SourcesNotAList: SourcesNotAList(None),
}
"""Kinds whose fields need a value the generic samples cannot make."""


def _kind_sample(kind: type[Any]) -> Any:
    return KIND_SAMPLES.get(kind) or _sample(kind)


def _kinds(hint: Any) -> list[type[Any]]:
    """The dataclass kinds a field may hold: the members of ``Union[...]`` or of
    ``tuple[Union[...], ...]`` (a field like ``problem``, ``expected`` or ``problems``)."""
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        return _kinds(args[0]) if len(args) == 2 and args[1] is Ellipsis else []
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return [
            arg
            for arg in typing.get_args(hint)
            if isinstance(arg, type) and dataclasses.is_dataclass(arg)
        ]
    return []


KINDS = [
    (cls, field.name, kind)
    for cls in ERROR_CLASSES
    for field in dataclasses.fields(cls)  # type: ignore[arg-type]
    for kind in _kinds(typing.get_type_hints(cls)[field.name])
]


def test_kinds_are_discovered() -> None:
    assert {cls.__name__ for cls, _, _ in KINDS} >= {"InvalidSetting", "InvalidPythonVersion"}


@pytest.mark.parametrize(("cls", "name", "kind"), KINDS, ids=lambda v: getattr(v, "__name__", v))
def test_every_kind_of_failure_is_described(
    cls: type[BuildpackError], name: str, kind: type[Any]
) -> None:
    """Errors carry kinds, not prose: each kind has its wording in errors.py."""
    sample = _kind_sample(kind)
    many = typing.get_origin(typing.get_type_hints(cls)[name]) is tuple
    error: Any = SAMPLES.get(cls) or _sample(cls)
    error = dataclasses.replace(error, **{name: (sample,) if many else sample})
    title, body = describe(error)
    assert title and title != GENERIC_TITLE
    others = [other for c, n, other in KINDS if (c, n) == (cls, name) and other is not kind]
    for other in others:
        value = _kind_sample(other)
        replaced = dataclasses.replace(error, **{name: (value,) if many else value})
        assert describe(replaced) != (title, body), f"{kind.__name__} reads as {other.__name__}"


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_every_error_can_be_raised_through_a_context_manager(cls: type[BuildpackError]) -> None:
    @contextlib.contextmanager
    def step() -> Iterator[None]:
        yield

    error = SAMPLES.get(cls) or _sample(cls)
    with pytest.raises(cls) as caught, step():
        raise error
    assert caught.value is error
    assert error.__traceback__ is not None


def test_the_context_manager_check_catches_frozen_exceptions() -> None:
    """Why the test above exists: a frozen dataclass exception cannot get its
    ``__traceback__`` set by ``contextmanager.__exit__``."""

    @dataclasses.dataclass(frozen=True)
    class Frozen(Exception):
        value: str

    @contextlib.contextmanager
    def step() -> Iterator[None]:
        yield

    with pytest.raises(dataclasses.FrozenInstanceError), step():
        raise Frozen("x")


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_errors_carry_data(cls: type[BuildpackError]) -> None:
    params = vars(cls).get("__dataclass_params__")
    assert params is not None, f"{cls.__name__} is not itself a @dataclass"
    assert not params.frozen
    assert not params.eq


def _body(error: Exception) -> str:
    return describe(error)[1]


def test_invalid_python_version_file() -> None:
    title, body = describe(InvalidPythonVersion("system", ".python-version", NotAVersionLine()))
    assert title == "Invalid Python version in .python-version"
    assert 'The file .python-version contains:\n    "system"\n' in body
    assert (
        "This is not a Python version python-cnb understands: it must be a version like 3.12 "
        "or 3.12.7." in body
    )
    assert (
        "1. Make .python-version hold one line with the version, e.g. 3.12 (the newest 3.12.x) "
        "or 3.12.7 (exactly that release)." in body
    )
    assert "2. Prefer a major.minor version (3.12): you get security fixes on every build." in body


def test_invalid_python_version_file_with_several_lines() -> None:
    body = _body(InvalidPythonVersion("3.12\r\n3.11\n", ".python-version", SeveralVersions(2)))
    assert "The file .python-version contains:\n    | 3.12\\r\n    | 3.11\n" in body
    assert "understands: it contains 2 versions; give exactly one." in body


def test_invisible_characters_are_shown() -> None:
    body = _body(InvalidPythonVersion("\ufeff3.12\t", "BP_PYTHON_VERSION", NotASpecifier()))
    assert '    "\\ufeff3.12\\t"' in body
    assert '    ""' in _body(InvalidPythonVersion("", "BP_PYTHON_VERSION", EmptyRequest()))


def test_invalid_runtime_txt() -> None:
    title, body = describe(InvalidPythonVersion("3.12.7", "runtime.txt", NotRuntimeTxtFormat()))
    assert title == "Invalid Python version in runtime.txt"
    assert 'The file runtime.txt contains:\n    "3.12.7"\n' in body
    assert (
        "This is not a Python version python-cnb understands: it must read python-X.Y.Z or "
        "python-X.Y, e.g. python-3.12.7." in body
    )
    assert (
        "1. Make runtime.txt read python-3.12 or python-3.12.7, or replace it with a "
        ".python-version file containing 3.12." in body
    )


def test_invalid_python_version_setting() -> None:
    title, body = describe(InvalidPythonVersion("pypy3.10", "BP_PYTHON_VERSION", NotASpecifier()))
    assert title == "Invalid Python version in BP_PYTHON_VERSION"
    assert 'The BP_PYTHON_VERSION setting is:\n    "pypy3.10"\n' in body
    assert (
        "This is not a Python version python-cnb understands: it is neither a version "
        "(3.12, 3.12.7) nor a specifier." in body
    )
    assert (
        "1. Set BP_PYTHON_VERSION to a version such as 3.12 or 3.12.7, or a specifier such as "
        ">=3.11,<3.13." in body
    )


def test_checksum_mismatch() -> None:
    title, body = describe(
        ChecksumMismatch("https://user:pass@x.test/cpython.tgz", "a" * 64, "b" * 64)
    )
    assert title == "Downloaded file failed its checksum"
    assert body.startswith(
        'The file downloaded from\n    "https://****@x.test/cpython.tgz"\n'
        f"has SHA-256\n    {'b' * 64}\nbut the buildpack expects\n    {'a' * 64}\n"
    )
    assert "It was deleted before anything was extracted" in body
    assert "check BP_DEPENDENCY_MIRROR (a mirror must serve the exact same files)" in body
    assert "pass" not in body


@pytest.mark.parametrize(("attempts", "tries"), [(1, "once"), (4, "4 times")])
def test_download_failed(attempts: int, tries: str) -> None:
    title, body = describe(DownloadFailed("https://t@x.test/a.tgz", "HTTP 503 x", attempts))
    assert title == "Download failed"
    assert body.startswith(
        f'Downloading\n    "https://****@x.test/a.tgz"\nfailed ({tries}): HTTP 503 x.\n'
    )
    assert "1. If this is a network problem, try the build again." in body
    assert "set BP_DEPENDENCY_MIRROR to a mirror you can reach" in body
    assert "raise BP_PYTHON_DOWNLOAD_TIMEOUT (seconds) or BP_PYTHON_DOWNLOAD_RETRIES." in body


@pytest.mark.parametrize(
    ("problem", "sentence"),
    [
        (
            "syntax",
            "A Procfile line must read `<process type>: <command>`, e.g. `web: gunicorn app:app`.",
        ),
        ("type", "A process type may contain only letters, digits, '.', '_' and '-'."),
        ("empty-command", "The command after the colon is empty."),
        (
            "duplicate",
            "Each process type may appear only once. It was first declared on line 1.",
        ),
    ],
)
def test_invalid_procfile(problem: str, sentence: str) -> None:
    title, body = describe(InvalidProcfile("Procfile", 3, "my web: x", problem, 1))
    assert title == "Invalid Procfile"
    assert body == (
        f'Line 3 of Procfile reads:\n    "my web: x"\n\n{sentence}\n\n'
        "Fix line 3 of Procfile and build again."
    )


def test_command_failed() -> None:
    output = "\n".join(f"line {n}" for n in range(1, 61))
    title, body = describe(CommandFailed("pip install -r requirements.txt", 2, output))
    assert title == "'pip install -r requirements.txt' failed"
    assert body.startswith(
        "The command 'pip install -r requirements.txt' failed (exit status 2). Its last lines "
        "of output:\n    line "
    )
    assert "    line 59\n    line 60\n\nSee the full output above." in body
    assert "    line 1\n" not in body
    assert "The cached layers from the previous build are unchanged." in body


def test_a_command_whose_output_is_in_the_log_is_not_quoted_again() -> None:
    output = "Resolved 3 packages\n" + "\n".join(f"line {n}" for n in range(30))
    output += "\nERROR: No matching distribution found for nopkg\nhint: try another index"
    title, body = describe(CommandFailed("uv pip sync", 1, output, echoed=True))
    assert title == "'uv pip sync' failed"
    assert body.startswith(
        "The command 'uv pip sync' failed (exit status 1). It said:\n"
        "    ERROR: No matching distribution found for nopkg\n\n"
        "Its whole output is above, once."
    )
    assert "line 29" not in body and "How to fix it:\n  1. Read the first error" in body


def test_other_errors() -> None:
    assert describe(SAMPLES[InvalidSetting]) == (
        "Invalid value for BP_PYTHON_ALLOW_EOL",
        'The setting BP_PYTHON_ALLOW_EOL is set to:\n    "sure"\n\n'
        "It must be true or false (1/0, yes/no, on/off).\n\n"
        "Change or remove BP_PYTHON_ALLOW_EOL in the platform's environment "
        "(e.g. `pack build --env BP_PYTHON_ALLOW_EOL=...`).",
    )
    title, body = describe(InvalidMirror("BP_DEPENDENCY_MIRROR", "http://u:p@mirror.test"))
    assert title == "Invalid dependency mirror"
    assert body.startswith('BP_DEPENDENCY_MIRROR is set to:\n    "http://****@mirror.test"\n')
    title, body = describe(
        InvalidManifest("https://u:p@m.test/m.toml", (EntryNotATable(1), NoDistributions()))
    )
    assert title == "Invalid CPython manifest"
    assert body.startswith(
        "The CPython manifest https://****@m.test/m.toml cannot be used:\n\n"
        "  - entry 1 is not a table\n  - it lists no CPython distributions\n"
    )
    title, body = describe(SAMPLES[MissingRequirementsFile])
    assert title == "A requirements file is missing"
    assert body.startswith('Line 2 of requirements.txt reads:\n    "-r base.txt"\n')
    assert "but the file 'base.txt' does not exist" in body
    title, body = describe(SAMPLES[UnsafeArchive])
    assert title == "Unsafe archive"
    assert body.startswith("The archive /tmp/cpython.tgz contains '../x': it would be outside.")


def test_generic_fallback() -> None:
    assert describe(ValueError("boom")) == (GENERIC_TITLE, "boom")


def test_internal_error_body_masks_secrets() -> None:
    register_secret("s3cr3t")
    traceback = (
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        "ValueError: https://user:hunter2@pypi.test/simple and s3cr3t\n\n"
    )
    body = internal_error_body(traceback)
    assert body == (
        "This is a bug in python-cnb, not a problem with your app.\n\n"
        "    Traceback (most recent call last):\n"
        '      File "x.py", line 1, in <module>\n'
        "    ValueError: https://****@pypi.test/simple and ****\n\n"
        f"Please report it at {ISSUES_URL} with this output. Trying again will not help "
        "unless the cause was on the machine (disk full, out of memory)."
    )


# --- bad input and faults ----------------------------------------------------------------------


def test_unreadable_file_block() -> None:
    from python_cnb.buildpack_error import FileSystemFault

    title, body = describe(FileSystemFault("Procfile", "read", errno.EACCES, "Permission denied"))
    assert title == "Cannot read Procfile"
    assert body.startswith("python-cnb could not read Procfile: Permission denied (EACCES).")
    assert "chmod a+r Procfile" in body and "bug" not in body


def test_full_disk_block() -> None:
    from python_cnb.buildpack_error import FileSystemFault

    title, body = describe(
        FileSystemFault(
            "/layers/python", "extract CPython into", errno.ENOSPC, "No space left on device"
        )
    )
    assert title == "No space left on device"
    assert "python-cnb could not extract CPython into /layers/python" in body
    assert "Free disk space" in body and "cached layers are unchanged" in body


def test_outside_app_block_names_the_target_only() -> None:
    from python_cnb.app.project_files import OutsideApp

    title, body = describe(OutsideApp("Procfile", "/etc/shadow"))
    assert title == "Procfile points outside the app"
    assert '    "/etc/shadow"' in body and "did not read this one" in body


def test_download_bounds_blocks() -> None:
    from python_cnb.support.download import DownloadTooLarge, DownloadTooSlow

    _, large = describe(DownloadTooLarge("http://u:pw@m.test/x", 50 * 1024 * 1024, 52428801, True))
    assert "was stopped at 50.0 MB: more than the 50.0 MB the CPython manifest pins" in large
    assert "pw" not in large
    title, slow = describe(DownloadTooSlow("http://m.test/x", 3, 39, 1))
    assert title == "Download too slow"
    assert "did not finish within 3 seconds (tried once; 39 bytes received" in slow
    assert "BP_PYTHON_DOWNLOAD_DEADLINE" in slow


def test_quotes_are_clipped() -> None:
    """A 1 MB Procfile line or a 5000-digit version is quoted, not printed whole."""
    _, body = describe(InvalidPythonVersion("3." + "9" * 5000, ".python-version", TooLong(5002)))
    assert f'"3.{"9" * 198}… (5002 characters)"' in body
    _, body = describe(InvalidProcfile("Procfile", 1, "web: a\0b", "nul"))
    assert '"web: a\\x00b"' in body


PIP_TOOLS_OUTPUT = """\
Traceback (most recent call last):
  File "/layers/pip/lib/python3.12/site-packages/pip/_internal/resolver.py", line 97, in resolve
    result = self._result = resolver.resolve(
                            ^^^^^^^^^^^^^^^^^
pip._vendor.resolvelib.resolvers.ResolutionImpossible: [RequirementInformation(nopkg)]

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/layers/pip/lib/python3.12/site-packages/piptools/resolver.py", line 600, in _do_resolve
    resolver.resolve(
pip._internal.exceptions.DistributionNotFound: No matching distribution found for nopkg

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/layers/pip/bin/pip-compile", line 8, in <module>
    sys.exit(cli())
  File "/layers/pip/lib/python3.12/site-packages/piptools/scripts/compile.py", line 500, in cli
    raise
pip._internal.exceptions.DistributionNotFound: No matching distribution found for nopkg
"""


def test_a_tools_traceback_gives_its_reason_first() -> None:
    """LOW-2: pip-tools' triple-chained traceback filled the block; the reason was last."""
    output = "Looking in indexes: http://127.0.0.1:3141/simple/\n" + PIP_TOOLS_OUTPUT
    _, body = describe(CommandFailed("pip-compile requirements.txt", 1, output))
    assert body.startswith(
        "The command 'pip-compile requirements.txt' failed (exit status 1). It stopped with "
        "this error:\n"
        "    pip._internal.exceptions.DistributionNotFound: No matching distribution found for "
        "nopkg\n\n"
        "Its last lines of output, without the traceback:\n"
        "    Looking in indexes: http://127.0.0.1:3141/simple/\n\n"
        "See the full output above."
    )
    assert 'File "' not in body


# --- the wording of each kind, as it was when raise sites carried prose ----------------------

M = "manifest.toml"
A = "/tmp/cpython.tgz"


@pytest.mark.parametrize(
    ("error", "sentence"),
    [
        (InvalidManifest(M, (EntryNotATable(7),)), "  - entry 7 is not a table"),
        (
            InvalidManifest(M, (EntryVersionInvalid(1, None),)),
            "  - entry 1: version None is not X.Y.Z",
        ),
        (
            InvalidManifest(M, (EntryVersionInvalid(1, "3.12"),)),
            "  - entry 1: version '3.12' is not X.Y.Z",
        ),
        (InvalidManifest(M, (EntryWithoutUri(2, "3.12.12"),)), "  - entry 2 (3.12.12): no uri"),
        (
            InvalidManifest(M, (EntryChecksumInvalid(4, "3.14.0"),)),
            "  - entry 4 (3.14.0): checksum must be sha256:<64 hex digits>",
        ),
        (
            InvalidManifest(M, (EntrySizeInvalid(1, "3.12.12"),)),
            "  - entry 1 (3.12.12): size must be a whole number of bytes",
        ),
        (InvalidManifest(M, (NoDistributions(),)), "  - it lists no CPython distributions"),
        (InvalidManifest(M, (ManifestTooLarge(1000),)), "  - it is larger than 1000 bytes"),
        (InvalidManifest(M, (ManifestTooLarge(16 * 1024 * 1024),)), "  - it is larger than 16 MB"),
        (
            InvalidManifest(M, (ManifestUnreadable("HTTP Error 401: Unauthorized"),)),
            "  - it cannot be read: HTTP Error 401: Unauthorized",
        ),
        (InvalidManifest(M, (ManifestTooDeep(),)), "  - it is nested too deeply"),
        (
            UnsafeArchive(A, "/etc/passwd", AbsolutePath()),
            "contains '/etc/passwd': an absolute path.",
        ),
        (
            UnsafeArchive(A, "x", HardLinkToAbsolutePath()),
            "contains 'x': a hard link to an absolute path.",
        ),
        (
            UnsafeArchive(A, "x", HardLinkToTopDirectory()),
            "contains 'x': a hard link to the top directory.",
        ),
        (
            UnsafeArchive(A, "a", SymlinkChainOutside()),
            "contains 'a': a chain of symlinks that leads outside the destination.",
        ),
        (
            UnsafeArchive(A, "x", FilterRefused("'x' is a device or a pipe")),
            "contains 'x': 'x' is a device or a pipe.",
        ),
        (
            InvalidPipfileLock("lib", NotPinned(None)),
            "The entry 'lib' of Pipfile.lock cannot be installed: its version None is not pinned "
            "with ==.",
        ),
        (
            InvalidPipfileLock("lib", NotPinned(">=1.0")),
            "its version '>=1.0' is not pinned with ==",
        ),
        (InvalidPipfileLock("lib", NotPinned(1)), "its version 1 is not pinned with =="),
        (
            InvalidPipfileLock("default", SectionNotATable()),
            "installed: the section is not a table of packages.",
        ),
        (
            InvalidPipfileLock("requests", PackageNotATable()),
            "installed: it is not a table (version, hashes, markers).",
        ),
        (InvalidPipfileLock("_meta", MetaNotATable([])), "installed: it is a list, not a table."),
        (InvalidPipfileLock("_meta", MetaNotATable(None)), "installed: it is null, not a table."),
        (
            InvalidPipfileLock("_meta", MetaNotATable("x")),
            "installed: it is a string, not a table.",
        ),
        (InvalidPipfileLock("_meta", MetaNotATable(3)), "installed: it is a number, not a table."),
        (
            InvalidPipfileLock("_meta.sources", SourcesNotAList({})),
            "installed: it is a table, not a list of sources.",
        ),
        (
            InvalidPipfileLock("_meta.sources", SourceWithoutUrl(1)),
            "installed: source 1 is not a table with a url string.",
        ),
        (
            InvalidBinding("ca", "ca-certificates", "x.pem", NoPemCertificate("[X509] no data")),
            "The entry 'x.pem' of the service binding 'ca' (type ca-certificates) cannot be "
            "used: it holds no PEM certificate ([X509] no data).",
        ),
        (
            InvalidBinding("pip", "pip", "pip.conf", UnreadablePipConf("File contains no section")),
            "The entry 'pip.conf' of the service binding 'pip' (type pip) cannot be used: File "
            "contains no section.",
        ),
    ],
)
def test_kinds_are_worded_as_before(error: BuildpackError, sentence: str) -> None:
    assert sentence in describe(error)[1]


def test_undeclared_imports_name_the_modules_the_files_and_the_fixes() -> None:
    title, body = describe(SAMPLES[UndeclaredImports])
    assert title == "The app imports flask, yaml, but declares no dependencies"
    assert "    flask  (app.py:3)\n    yaml  (jobs/run.py:1, jobs/other.py:2)" in body
    assert "Found requirments.txt: did you mean requirements.txt? Only the exact names" in body
    assert "Found environment.yml: conda is not supported." in body
    assert "e.g. `-r requirements/prod.txt`" in body
    assert "BP_PYTHON_ALLOW_UNDECLARED_IMPORTS=true" in body
