"""The files that pin a Python version: .python-version and runtime.txt."""

from __future__ import annotations

from pathlib import Path

import pytest

from python_cnb.app.files import AppFiles
from python_cnb.python.version import (
    InvalidPythonVersion,
    NonAsciiCharacter,
    NotAVersionLine,
    NotRuntimeTxtFormat,
    NotUtf8,
    NoVersion,
    RequestedPythonVersion,
    SeveralVersions,
    SlashComment,
    TooLong,
    VersionProblem,
)
from python_cnb.python.version_files import (
    PYTHON_VERSION_FILE,
    RUNTIME_TXT,
    parse_python_version_file,
    parse_runtime_txt,
    read_text,
    read_version_file,
)


def _write(app: Path, name: str, data: bytes) -> Path:
    path = app / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("text", "version", "specifier"),
    [
        ("3.12\n", "3.12", "==3.12.*"),
        ("3.12.7", "3.12.7", "==3.12.7"),
        ("  3.12.7  \n", "3.12.7", "==3.12.7"),
        ("# pinned for prod\n3.12\n", "3.12", "==3.12.*"),
        ("\n\n   \n3.11\n\n", "3.11", "==3.11.*"),
        ("3.13\r\n", "3.13", "==3.13.*"),
        ("# a\r\n\r\n3.13.1\r\n# b\r\n", "3.13.1", "==3.13.1"),
        ("\t3.12\t\n", "3.12", "==3.12.*"),
    ],
)
def test_python_version_file(text: str, version: str, specifier: str) -> None:
    assert parse_python_version_file(text) == RequestedPythonVersion(
        version, PYTHON_VERSION_FILE, specifier
    )


@pytest.mark.parametrize(
    ("text", "quoted", "reason"),
    [
        ("", "", NoVersion()),
        ("\n  \n", "\n  \n", NoVersion()),
        ("# only a comment\n", "# only a comment\n", NoVersion()),
        ("3.12\n3.11\n", "3.12\n3.11\n", SeveralVersions(2)),
        (
            "3.12\n# x\n3.11\n3.10",
            "3.12\n# x\n3.11\n3.10",
            SeveralVersions(3),
        ),
        ("system\n", "system", NotAVersionLine()),
        ("3.12.x\n", "3.12.x", NotAVersionLine()),
        ("pypy3.10-7.3.17\n", "pypy3.10-7.3.17", NotAVersionLine()),
        ("pypy\n", "pypy", NotAVersionLine()),
        ("3\n", "3", NotAVersionLine()),
        ("3.13t\n", "3.13t", NotAVersionLine()),
        ("python-3.12\n", "python-3.12", NotAVersionLine()),
        (">=3.12\n", ">=3.12", NotAVersionLine()),
        ("3.12 # prod\n", "3.12 # prod", NotAVersionLine()),
        ("// pinned\n3.12\n", "// pinned\n3.12\n", SlashComment("// pinned")),
    ],
)
def test_invalid_python_version_file(text: str, quoted: str, reason: VersionProblem) -> None:
    with pytest.raises(InvalidPythonVersion) as caught:
        parse_python_version_file(text)
    error = caught.value
    assert (error.text, error.origin, error.problem) == (quoted, PYTHON_VERSION_FILE, reason)


@pytest.mark.parametrize(
    ("text", "version", "specifier"),
    [
        ("python-3.12.7", "3.12.7", "==3.12.7"),
        ("python-3.12.7\n", "3.12.7", "==3.12.7"),
        ("python-3.12", "3.12", "==3.12.*"),
        ("  python-3.11.9 \t\r\n\n", "3.11.9", "==3.11.9"),
    ],
)
def test_runtime_txt(text: str, version: str, specifier: str) -> None:
    assert parse_runtime_txt(text) == RequestedPythonVersion(version, RUNTIME_TXT, specifier)


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("3.12.7", "3.12.7"),
        ("python-3", "python-3"),
        ("python-3.12.x", "python-3.12.x"),
        ("python3.12.7", "python3.12.7"),
        ("pypy-3.10", "pypy-3.10"),
        ("python-3.12.7\npython-3.11.1\n", "python-3.12.7\npython-3.11.1"),
        ("", ""),
    ],
)
def test_invalid_runtime_txt(text: str, quoted: str) -> None:
    with pytest.raises(InvalidPythonVersion) as caught:
        parse_runtime_txt(text)
    error = caught.value
    assert (error.text, error.origin) == (quoted, RUNTIME_TXT)
    assert error.problem == NotRuntimeTxtFormat()


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"3.12\n", "3.12\n"),
        (b"\xef\xbb\xbf3.12\n", "3.12\n"),
        ("3.12\r\n".encode("utf-16"), "3.12\r\n"),
        (b"\xfe\xff" + "3.12".encode("utf-16-be"), "3.12"),
        (b"3.12\xff\n", "3.12\ufffd\n"),
    ],
)
def test_read_text(tmp_path: Path, data: bytes, text: str) -> None:
    assert read_text(_write(tmp_path, "f", data)) == text


def test_read_version_file_with_bom_and_utf16(tmp_path: Path) -> None:
    _write(tmp_path, PYTHON_VERSION_FILE, b"\xef\xbb\xbf3.12\r\n")
    assert read_version_file(AppFiles(tmp_path), PYTHON_VERSION_FILE) == RequestedPythonVersion(
        "3.12", PYTHON_VERSION_FILE, "==3.12.*"
    )
    # What PowerShell's `echo 3.13 > .python-version` writes: UTF-16 LE with a BOM, CRLF.
    _write(tmp_path, PYTHON_VERSION_FILE, "3.13\r\n".encode("utf-16"))
    assert read_version_file(AppFiles(tmp_path), PYTHON_VERSION_FILE) == RequestedPythonVersion(
        "3.13", PYTHON_VERSION_FILE, "==3.13.*"
    )
    _write(tmp_path, RUNTIME_TXT, "python-3.11.9\r\n".encode("utf-16"))
    assert read_version_file(AppFiles(tmp_path), RUNTIME_TXT) == RequestedPythonVersion(
        "3.11.9", RUNTIME_TXT, "==3.11.9"
    )


def test_read_version_file_chooses_the_parser_by_name(tmp_path: Path) -> None:
    _write(tmp_path, RUNTIME_TXT, b"3.12.7\n")
    with pytest.raises(InvalidPythonVersion) as caught:
        read_version_file(AppFiles(tmp_path), RUNTIME_TXT)
    assert caught.value.origin == RUNTIME_TXT
    _write(tmp_path, PYTHON_VERSION_FILE, b"python-3.12.7\n")
    with pytest.raises(InvalidPythonVersion) as caught:
        read_version_file(AppFiles(tmp_path), PYTHON_VERSION_FILE)
    assert caught.value.origin == PYTHON_VERSION_FILE


def test_read_version_file_missing(tmp_path: Path) -> None:
    assert read_version_file(AppFiles(tmp_path), PYTHON_VERSION_FILE) is None
    assert read_version_file(AppFiles(tmp_path), RUNTIME_TXT) is None
    assert read_version_file(AppFiles(tmp_path / "no-such-app"), PYTHON_VERSION_FILE) is None


def test_read_version_file_ignores_directories_and_dangling_links(tmp_path: Path) -> None:
    (tmp_path / PYTHON_VERSION_FILE).mkdir()
    (tmp_path / RUNTIME_TXT).symlink_to(tmp_path / "missing")
    assert read_version_file(AppFiles(tmp_path), PYTHON_VERSION_FILE) is None
    assert read_version_file(AppFiles(tmp_path), RUNTIME_TXT) is None


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        (PYTHON_VERSION_FILE, "\uff13.\uff11\uff12\n", NonAsciiCharacter("\uff13")),
        (PYTHON_VERSION_FILE, "٣.١٢\n", NonAsciiCharacter("٣")),
        (PYTHON_VERSION_FILE, "3." + "9" * 5000 + "\n", TooLong(5002)),
        (RUNTIME_TXT, "python-\uff13.\uff11\uff12\n", NonAsciiCharacter("\uff13")),
        (RUNTIME_TXT, "python-3." + "9" * 5000, TooLong(5009)),
    ],
)
def test_garbled_version_files(
    tmp_path: Path, name: str, data: str, reason: VersionProblem
) -> None:
    """LOW-1: these gave tracebacks (InvalidSpecifier, int() past its digit limit)."""
    _write(tmp_path, name, data.encode("utf-8"))
    with pytest.raises(InvalidPythonVersion) as caught:
        requested = read_version_file(AppFiles(tmp_path), name)
        assert requested is not None
        requested.single_line()  # where the 5000 digits used to fail
    assert caught.value.origin == name
    assert caught.value.problem == reason


@pytest.mark.parametrize("name", [PYTHON_VERSION_FILE, RUNTIME_TXT])
def test_a_version_file_that_is_not_utf8_says_so(tmp_path: Path, name: str) -> None:
    """Not "3.12\ufffd is not a version": the bytes are the problem."""
    _write(tmp_path, name, b"3.12\xff\n" if name == PYTHON_VERSION_FILE else b"python-3.12\xe9")
    with pytest.raises(InvalidPythonVersion) as caught:
        read_version_file(AppFiles(tmp_path), name)
    offset = 4 if name == PYTHON_VERSION_FILE else 11
    byte = 0xFF if name == PYTHON_VERSION_FILE else 0xE9
    assert caught.value.problem == NotUtf8(byte, offset)
