"""Python constraints of project and lock files: matching, the version sources they add after
runtime.txt, and the check of the selected version against the lock files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from python_cnb.app.files import AppFiles
from python_cnb.app.project_files import InvalidProjectFile
from python_cnb.errors import project_file_problem
from python_cnb.python.requested import (
    check_locked_python,
    locked_constraints,
    read_requested_python_version,
)
from python_cnb.python.version import (
    InvalidPythonVersion,
    LockedPythonMismatch,
    NotASpecifier,
    PythonVersion,
    RequestedPythonVersion,
    constraint_matches,
)
from tests.support.contexts import write_app

V = PythonVersion.parse
PYPROJECT = '[project]\nname = "app"\nrequires-python = ">=3.11"\n'
POETRY = '[tool.poetry]\nname = "app"\n\n[tool.poetry.dependencies]\npython = "^3.12"\n'


def _pipfile_lock(**requires: str) -> str:
    return json.dumps({"_meta": {"requires": requires}, "default": {}})


@pytest.mark.parametrize(
    ("constraint", "matching", "not_matching"),
    [
        ("^3.12", ["3.12.0", "3.13.1", "3.99.0"], ["3.11.9", "4.0.0"]),
        ("^3.12.2", ["3.12.2", "3.14.0"], ["3.12.1", "4.0.1"]),
        ("^3", ["3.0.0", "3.14.7"], ["2.7.18", "4.0.0"]),
        ("~3.11", ["3.11.0", "3.11.14"], ["3.10.9", "3.12.0"]),
        ("~3.11.4", ["3.11.4", "3.11.9"], ["3.11.3", "3.12.0"]),
        ("~3", ["3.0.0", "3.14.7"], ["4.0.0", "2.7.18"]),
        ("~=3.11", ["3.11.0", "3.14.7"], ["3.10.9", "4.0.0"]),
        ("~= 3.11.2", ["3.11.2"], ["3.11.1", "3.12.0"]),
        (">=3.10,<4.0", ["3.10.0", "3.14.7"], ["3.9.25", "4.0.0"]),
        (">=3.10, <4.0", ["3.10.0"], ["4.0.0"]),
        (">=3.10 <4", ["3.10.0", "3.14.7"], ["3.9.25", "4.0.0"]),
        (">= 3.10, < 3.13", ["3.12.14"], ["3.13.0", "3.9.1"]),
        ("3.11.* || 3.12.*", ["3.11.0", "3.12.14"], ["3.10.9", "3.13.0"]),
        ("3.11||3.13", ["3.11.2", "3.13.0"], ["3.12.0"]),
        ("3.11.* | 3.12.*", ["3.11.0", "3.12.14"], ["3.13.0"]),
        (">=3.8,<3.9 || >=3.12", ["3.8.5", "3.12.0"], ["3.9.0", "3.11.9"]),
        ("*", ["3.9.0", "3.14.7"], []),
        ("", ["3.12.0"], []),
        ("== 3.12.1", ["3.12.1"], ["3.12.0", "3.12.2"]),
        ("==3.12.1", ["3.12.1"], ["3.12.2"]),
        ("=3.12.1", ["3.12.1"], ["3.12.2"]),
        ("3.12", ["3.12.0", "3.12.9"], ["3.13.0"]),
        ("3.12.7", ["3.12.7"], ["3.12.8"]),
        ("!=3.12.*", ["3.11.0", "3.13.0"], ["3.12.3"]),
        ("<3.13,!=3.12.0", ["3.12.1", "3.11.0"], ["3.12.0", "3.13.0"]),
        (">=3.13.0b1", ["3.13.0", "3.14.7"], ["3.12.14"]),
        (">=3.12.0a0,<4", ["3.12.0"], ["3.11.9"]),
        ("===3.12.7", ["3.12.7"], ["3.12.8"]),
    ],
)
def test_constraint_matches(constraint: str, matching: list[str], not_matching: list[str]) -> None:
    for version in matching:
        assert constraint_matches(constraint, V(version)), version
    for version in not_matching:
        assert not constraint_matches(constraint, V(version)), version


@pytest.mark.parametrize("constraint", ["python3", ">=three", "3.12 || pypy", "~>3.12", ">="])
def test_garbled_constraints(constraint: str) -> None:
    with pytest.raises(InvalidPythonVersion) as caught:
        constraint_matches(f" {constraint} ", V("3.12.1"), origin="uv.lock")
    error = caught.value
    assert (error.text, error.origin, error.problem) == (
        constraint,
        "uv.lock",
        NotASpecifier(),
    )


def test_garbled_constraints_have_a_default_origin() -> None:
    with pytest.raises(InvalidPythonVersion) as caught:
        constraint_matches("python3", V("3.12.1"))
    assert caught.value.origin == "constraint"


@pytest.mark.parametrize(
    ("specifier", "is_range"),
    [
        ("", False),
        ("==3.12.*", False),
        ("==3.12.7", False),
        ("==3.12", False),
        ("===3.12.7", False),
        ("~=3.12.0", False),
        ("~=3.12.4", False),
        ("==3.*", True),
        ("~=3.12", True),
        (">=3.11", True),
        ("<3.13,>=3.11", True),
        (">=3.12,<4", True),
        ("!=3.12.*", True),
        ("==3.12.*,!=3.12.1", True),
    ],
)
def test_is_range(specifier: str, is_range: bool) -> None:
    assert RequestedPythonVersion("x", "o", specifier).is_range is is_range


def test_is_range_of_requests() -> None:
    from python_cnb.python.version import request

    assert [request(text, "o").is_range for text in ("3.12", "~3.12", "^3.12", ">=3.11")] == [
        False,
        False,
        True,
        True,
    ]


ALL_FILES = {
    "runtime.txt": "python-3.10.4\n",
    "pyproject.toml": PYPROJECT + "\n" + POETRY,
    "Pipfile.lock": _pipfile_lock(python_full_version="3.12.4", python_version="3.12"),
    "Pipfile": '[requires]\npython_version = "3.11"\n',
}


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (ALL_FILES, RequestedPythonVersion("3.10.4", "runtime.txt", "==3.10.4")),
        (
            # Pipfile pins come before pyproject ranges (a range only bounds the choice).
            {**ALL_FILES, "runtime.txt": None},
            RequestedPythonVersion("3.12.4", "Pipfile.lock (python_full_version)", "==3.12.4"),
        ),
        (
            {"pyproject.toml": PYPROJECT + "\n" + POETRY},
            RequestedPythonVersion(">=3.11", "pyproject.toml (requires-python)", ">=3.11"),
        ),
        (
            {"pyproject.toml": POETRY},
            RequestedPythonVersion(
                "^3.12", "pyproject.toml (tool.poetry.dependencies.python)", ">=3.12,<4"
            ),
        ),
        (
            {**ALL_FILES, "runtime.txt": None, "pyproject.toml": None},
            RequestedPythonVersion("3.12.4", "Pipfile.lock (python_full_version)", "==3.12.4"),
        ),
        (
            {
                **ALL_FILES,
                "runtime.txt": None,
                "pyproject.toml": '[project]\nname = "app"\n',
                "Pipfile.lock": _pipfile_lock(python_version="3.12"),
            },
            RequestedPythonVersion("3.12", "Pipfile.lock (python_version)", "==3.12.*"),
        ),
        (
            {**ALL_FILES, "runtime.txt": None, "pyproject.toml": None, "Pipfile.lock": None},
            RequestedPythonVersion("3.11", "Pipfile (python_version)", "==3.11.*"),
        ),
        (
            {"Pipfile": '[requires]\npython_full_version = "3.11.2"\npython_version = "3.11"\n'},
            RequestedPythonVersion("3.11.2", "Pipfile (python_full_version)", "==3.11.2"),
        ),
    ],
)
def test_sources_after_runtime_txt(
    tmp_path: Path, files: dict[str, str | None], expected: RequestedPythonVersion
) -> None:
    app = write_app(tmp_path, {name: text for name, text in files.items() if text is not None})
    assert read_requested_python_version(AppFiles(app), []) == expected


@pytest.mark.parametrize(
    "files",
    [
        {"pyproject.toml": '[project]\nname = "app"\nrequires-python = " "\n'},
        {"pyproject.toml": "[tool.poetry.dependencies]\nflask = '*'\n"},
        {"Pipfile.lock": _pipfile_lock(python_version=" ")},
        {"Pipfile": "[packages]\nflask = '*'\n"},
    ],
)
def test_files_that_say_nothing(tmp_path: Path, files: dict[str, str]) -> None:
    assert read_requested_python_version(AppFiles(write_app(tmp_path, files)), []).is_default


@pytest.mark.parametrize(
    ("files", "where"),
    [
        ({"pyproject.toml": "[tool.poetry]\ndependencies = 'x'\n"}, "tool.poetry.dependencies"),
        ({"Pipfile.lock": json.dumps({"_meta": ["x"]})}, "_meta"),
        ({"Pipfile.lock": json.dumps({"_meta": {"requires": "3.12"}})}, "_meta.requires"),
        ({"Pipfile": "[requires]\npython_version = 3.12\n"}, "requires.python_version"),
    ],
)
def test_files_with_wrong_types_are_reported(
    tmp_path: Path, files: dict[str, str], where: str
) -> None:
    """LOW-6: these said nothing before, so no Python constraint applied."""
    with pytest.raises(InvalidProjectFile) as caught:
        read_requested_python_version(AppFiles(write_app(tmp_path, files)), [])
    assert project_file_problem(caught.value.problem).startswith(f"{where} must be ")


def test_weaker_sources_are_compared(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = write_app(tmp_path, {**ALL_FILES, "runtime.txt": "python-3.13\n"})
    requested = read_requested_python_version(AppFiles(app), [])
    assert requested.origin == "runtime.txt"
    # Ranges are checked against the selected version later; pins that differ are logged.
    assert capsys.readouterr().out == (
        "Ignoring Pipfile.lock (python_full_version) (3.12.4): runtime.txt takes precedence\n"
        "Ignoring Pipfile (python_version) (3.11): runtime.txt takes precedence\n"
    )


def test_invalid_weaker_sources_are_logged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        ".python-version": "3.12\n",
        "pyproject.toml": '[project]\nname = "app"\nrequires-python = "python3"\n',
        "Pipfile.lock": "{not json",
    }
    requested = read_requested_python_version(AppFiles(write_app(tmp_path, files)), [])
    assert requested == RequestedPythonVersion("3.12", ".python-version", "==3.12.*")
    assert capsys.readouterr().out == (
        "Ignoring Pipfile.lock, which cannot be parsed: .python-version decides\n"
        "Ignoring pyproject.toml (requires-python), which is not valid: .python-version decides\n"
    )


def test_the_strongest_file_must_be_readable(tmp_path: Path) -> None:
    with pytest.raises(InvalidProjectFile) as caught:
        read_requested_python_version(AppFiles(write_app(tmp_path, {"Pipfile": "[requires\n"})), [])
    assert caught.value.file == "Pipfile"
    with pytest.raises(InvalidPythonVersion) as invalid:
        read_requested_python_version(
            AppFiles(write_app(tmp_path, {"Pipfile": '[requires]\npython_version = "pypy"\n'})), []
        )
    assert (invalid.value.text, invalid.value.origin) == ("pypy", "Pipfile (python_version)")


LOCKED_FILES = {
    "uv.lock": 'version = 1\nrequires-python = ">=3.12"\n',
    "poetry.lock": '[metadata]\npython-versions = "^3.11"\ncontent-hash = "x"\n',
    "Pipfile.lock": _pipfile_lock(python_full_version=" 3.12.4 ", python_version="3.12"),
    "pyproject.toml": PYPROJECT,
}


def test_locked_constraints(tmp_path: Path) -> None:
    assert locked_constraints(AppFiles(write_app(tmp_path, LOCKED_FILES))) == [
        ("uv.lock", ">=3.12"),
        ("poetry.lock", "^3.11"),
        ("Pipfile.lock (python_full_version)", "==3.12.4"),
        ("pyproject.toml (requires-python)", ">=3.11"),
    ]


@pytest.mark.parametrize(
    ("files", "constraints"),
    [
        ({}, []),
        (
            {"Pipfile.lock": _pipfile_lock(python_version="3.12")},
            [("Pipfile.lock (python_version)", "==3.12.*")],
        ),
        (
            {"Pipfile.lock": _pipfile_lock(python_full_version="", python_version="3.12")},
            [("Pipfile.lock (python_version)", "==3.12.*")],
        ),
        ({"Pipfile": '[requires]\npython_version = "3.11"\n'}, []),
        ({"uv.lock": "version = 1\nrequires-python = 3\n"}, []),
        ({"poetry.lock": 'metadata = "x"\n'}, []),
        ({"poetry.lock": "[metadata]\ncontent-hash = 'x'\n"}, []),
        ({"pyproject.toml": POETRY}, []),
    ],
)
def test_locked_constraints_of_single_files(
    tmp_path: Path, files: dict[str, str], constraints: list[tuple[str, str]]
) -> None:
    assert locked_constraints(AppFiles(write_app(tmp_path, files))) == constraints


def test_check_locked_python_passes(tmp_path: Path) -> None:
    app = write_app(tmp_path, LOCKED_FILES)
    check_locked_python(
        AppFiles(app), V("3.12.4"), RequestedPythonVersion("3.12", ".python-version", "")
    )
    check_locked_python(
        AppFiles(write_app(tmp_path / "x", {})), V("2.7.18"), RequestedPythonVersion("", "", "")
    )


@pytest.mark.parametrize(
    ("files", "version", "file", "constraint"),
    [
        (LOCKED_FILES, "3.11.9", "uv.lock", ">=3.12"),
        (LOCKED_FILES, "3.12.5", "Pipfile.lock (python_full_version)", "==3.12.4"),
        ({"poetry.lock": LOCKED_FILES["poetry.lock"]}, "3.10.4", "poetry.lock", "^3.11"),
        (
            {"Pipfile.lock": _pipfile_lock(python_version="3.12")},
            "3.13.0",
            "Pipfile.lock (python_version)",
            "==3.12.*",
        ),
        (
            {"pyproject.toml": PYPROJECT},
            "3.10.4",
            "pyproject.toml (requires-python)",
            ">=3.11",
        ),
    ],
)
def test_check_locked_python_fails(
    tmp_path: Path, files: dict[str, str], version: str, file: str, constraint: str
) -> None:
    requested = RequestedPythonVersion("3", "BP_PYTHON_VERSION", "==3.*")
    with pytest.raises(LockedPythonMismatch) as caught:
        check_locked_python(AppFiles(write_app(tmp_path, files)), V(version), requested)
    error = caught.value
    assert (error.version, error.origin, error.file, error.constraint) == (
        V(version),
        "BP_PYTHON_VERSION",
        file,
        constraint,
    )


def test_check_locked_python_with_a_garbled_constraint(tmp_path: Path) -> None:
    app = write_app(tmp_path, {"uv.lock": 'requires-python = "python3"\n'})
    with pytest.raises(InvalidPythonVersion) as caught:
        check_locked_python(
            AppFiles(app), V("3.12.1"), RequestedPythonVersion("", "the default", "")
        )
    assert (caught.value.text, caught.value.origin) == ("python3", "uv.lock")
