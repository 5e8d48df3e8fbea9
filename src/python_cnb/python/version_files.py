"""Parsers for the files that pin a Python version: ``.python-version`` and ``runtime.txt``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from python_cnb.app.files import AppFiles
from python_cnb.python.version import (
    InvalidPythonVersion,
    NotAVersionLine,
    NotRuntimeTxtFormat,
    NotUtf8,
    NoVersion,
    RequestedPythonVersion,
    SeveralVersions,
    SlashComment,
    garbled,
    request,
)

PYTHON_VERSION_FILE = ".python-version"
RUNTIME_TXT = "runtime.txt"

_VERSION_LINE = re.compile(r"[0-9]+\.[0-9]+(\.[0-9]+)?")
_RUNTIME = re.compile(r"python-([0-9]+\.[0-9]+(\.[0-9]+)?)")


def read_text(path: Path) -> str:
    """A version file's text; BOMs and UTF-16 are decoded, other bytes shown as U+FFFD."""
    return decode(path.read_bytes())


def decode(data: bytes) -> str:
    """A version file's bytes as text (see :func:`read_text`)."""
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace").lstrip("\ufeff")
    return data.decode("utf-8", errors="replace")


def parse_python_version_file(text: str) -> RequestedPythonVersion:
    """Parse ``.python-version``: exactly one ``X.Y`` or ``X.Y.Z`` line; ``#`` comments ok."""
    lines = [line.strip() for line in text.splitlines()]
    versions = [line for line in lines if line and not line.startswith("#")]
    slashed = next((line for line in versions if line.startswith("//")), None)
    if slashed is not None:
        raise InvalidPythonVersion(text, PYTHON_VERSION_FILE, SlashComment(slashed))
    if not versions:
        raise InvalidPythonVersion(text, PYTHON_VERSION_FILE, NoVersion())
    if len(versions) > 1:
        raise InvalidPythonVersion(text, PYTHON_VERSION_FILE, SeveralVersions(len(versions)))
    version = versions[0]
    problem = garbled(version)
    if problem is not None:
        raise InvalidPythonVersion(version, PYTHON_VERSION_FILE, problem)
    if not _VERSION_LINE.fullmatch(version):
        raise InvalidPythonVersion(version, PYTHON_VERSION_FILE, NotAVersionLine())
    return request(version, PYTHON_VERSION_FILE)


def parse_runtime_txt(text: str) -> RequestedPythonVersion:
    """Parse ``runtime.txt``: ``python-3.12.7`` or ``python-3.12`` (the Heroku/Kato format)."""
    value = text.strip()
    problem = garbled(value)
    if problem is not None:
        raise InvalidPythonVersion(value, RUNTIME_TXT, problem)
    match = _RUNTIME.fullmatch(value)
    if not match:
        raise InvalidPythonVersion(value, RUNTIME_TXT, NotRuntimeTxtFormat())
    return request(match[1], RUNTIME_TXT)


def read_version_file(files: AppFiles, name: str) -> Optional[RequestedPythonVersion]:
    """The request in the app's file ``name``, or None when there is no such file."""
    data = files.raw(name)
    if data is None:
        return None
    text = decode(data)
    if not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidPythonVersion(
                text.strip(), name, NotUtf8(data[error.start], error.start)
            ) from None
    if name == RUNTIME_TXT:
        return parse_runtime_txt(text)
    return parse_python_version_file(text)
