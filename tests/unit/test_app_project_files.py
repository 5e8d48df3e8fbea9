"""Reading pyproject.toml, Pipfile, Pipfile.lock, uv.lock and poetry.lock."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any, Optional

import pytest

from python_cnb.app.project_files import (
    InvalidProjectFile,
    OutsideApp,
    inside_app,
    poetry_python,
    poetry_table,
    project_table,
    read_app_bytes,
    read_json,
    read_toml,
    requires_python,
)
from python_cnb.buildpack_error import FileSystemFault
from python_cnb.errors import project_file_problem


def test_missing_files_are_none(tmp_path: Path) -> None:
    assert read_toml(tmp_path, "pyproject.toml") is None
    assert read_json(tmp_path, "Pipfile.lock") is None
    (tmp_path / "pyproject.toml").mkdir()
    assert read_toml(tmp_path, "pyproject.toml") is None


def test_read_toml(tmp_path: Path) -> None:
    (tmp_path / "Pipfile").write_text('[requires]\npython_version = "3.12"\n', encoding="utf-8")
    assert read_toml(tmp_path, "Pipfile") == {"requires": {"python_version": "3.12"}}


def test_read_json(tmp_path: Path) -> None:
    (tmp_path / "Pipfile.lock").write_text('{"default": {}}', encoding="utf-8")
    assert read_json(tmp_path, "Pipfile.lock") == {"default": {}}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"[project\n", "Expected ']' at the end of a table declaration (at line 1, column 9)"),
        (b"name = 'a'\nname = 'b'\n", "Cannot overwrite a value (at line 2, column 11)"),
    ],
)
def test_invalid_toml(tmp_path: Path, content: bytes, reason: str) -> None:
    (tmp_path / "pyproject.toml").write_bytes(content)
    with pytest.raises(InvalidProjectFile) as caught:
        read_toml(tmp_path, "pyproject.toml")
    assert (caught.value.file, project_file_problem(caught.value.problem)) == (
        "pyproject.toml",
        reason,
    )


def test_toml_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_bytes(b'version = "\xff"\n')
    with pytest.raises(InvalidProjectFile) as caught:
        read_toml(tmp_path, "uv.lock")
    assert caught.value.file == "uv.lock"
    assert project_file_problem(caught.value.problem).startswith(
        "'utf-8' codec can't decode byte 0xff"
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"default": ', "Expecting value: line 1 column 13 (char 12)"),
        (b"[]", "it is not a JSON object"),
        (b'"text"', "it is not a JSON object"),
        (b"null", "it is not a JSON object"),
    ],
)
def test_invalid_json(tmp_path: Path, content: bytes, reason: str) -> None:
    (tmp_path / "Pipfile.lock").write_bytes(content)
    with pytest.raises(InvalidProjectFile) as caught:
        read_json(tmp_path, "Pipfile.lock")
    assert (caught.value.file, project_file_problem(caught.value.problem)) == (
        "Pipfile.lock",
        reason,
    )


def test_json_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "Pipfile.lock").write_bytes(b'{"a": "\xff"}')
    with pytest.raises(InvalidProjectFile) as caught:
        read_json(tmp_path, "Pipfile.lock")
    assert project_file_problem(caught.value.problem).startswith(
        "'utf-8' codec can't decode byte 0xff"
    )


PROJECT = {"project": {"name": "app", "requires-python": " >=3.11 "}}
POETRY = {"tool": {"poetry": {"name": "poetry-app", "dependencies": {"python": "^3.12 "}}}}


@pytest.mark.parametrize(
    ("pyproject", "table"),
    [
        (None, None),
        ({}, None),
        (PROJECT, {"name": "app", "requires-python": " >=3.11 "}),
    ],
)
def test_project_table(
    pyproject: Optional[dict[str, Any]], table: Optional[dict[str, Any]]
) -> None:
    assert project_table(pyproject) == table


@pytest.mark.parametrize(
    ("pyproject", "table"),
    [
        (None, None),
        ({}, None),
        ({"tool": {}}, None),
        (POETRY, {"name": "poetry-app", "dependencies": {"python": "^3.12 "}}),
    ],
)
def test_poetry_table(pyproject: Optional[dict[str, Any]], table: Optional[dict[str, Any]]) -> None:
    assert poetry_table(pyproject) == table


@pytest.mark.parametrize(
    ("pyproject", "value"),
    [
        (None, None),
        (PROJECT, ">=3.11"),
        ({"project": {"requires-python": "  "}}, None),
        (POETRY, None),
    ],
)
def test_requires_python(pyproject: Optional[dict[str, Any]], value: Optional[str]) -> None:
    assert requires_python(pyproject) == value


@pytest.mark.parametrize(
    ("pyproject", "value"),
    [
        (None, None),
        (POETRY, "^3.12"),
        (PROJECT, None),
        ({"tool": {"poetry": {"dependencies": {"python": ""}}}}, None),
        ({"tool": {"poetry": {"dependencies": {"python": {"version": "^3.12"}}}}}, None),
        ({"tool": {"poetry": {}}}, None),
    ],
)
def test_poetry_python(pyproject: Optional[dict[str, Any]], value: Optional[str]) -> None:
    assert poetry_python(pyproject) == value


@pytest.mark.parametrize(
    ("pyproject", "reason"),
    [
        ({"project": "demo"}, "project must be a table, but it is a string: 'demo'"),
        ({"tool": "poetry"}, "tool must be a table, but it is a string: 'poetry'"),
        ({"tool": ["poetry"]}, "tool must be a table, but it is an array: ['poetry']"),
        ({"tool": {"poetry": "x"}}, "tool.poetry must be a table, but it is a string: 'x'"),
        (
            {"project": {"requires-python": 3.11}},
            "requires-python must be a string, but it is a number: 3.11",
        ),
        (
            {"tool": {"poetry": {"dependencies": ["python"]}}},
            "tool.poetry.dependencies must be a table, but it is an array: ['python']",
        ),
    ],
)
def test_wrong_types_are_reported(pyproject: dict[str, Any], reason: str) -> None:
    """LOW-6: `project = "demo"` built as a pyproject app; uv and pip refuse such a file."""
    with pytest.raises(InvalidProjectFile) as caught:
        project_table(pyproject)
        poetry_table(pyproject)
        requires_python(pyproject)
        poetry_python(pyproject)
    assert (caught.value.file, project_file_problem(caught.value.problem)) == (
        "pyproject.toml",
        reason,
    )


def test_app_files_outside_the_app_are_refused(tmp_path: Path) -> None:
    """LOW-7: a Procfile -> /etc/shadow was read and its hash fields printed."""
    secret = tmp_path / "secret"
    secret.write_text("root:$6$hash:19000::::::\n")
    app = tmp_path / "app"
    (app / "sub").mkdir(parents=True)
    (app / "Procfile").symlink_to(secret)
    (app / "sub" / "up").symlink_to("../../secret")
    (app / "inside").write_text("web: run\n")
    (app / "link").symlink_to("sub/../inside")
    for name in ("Procfile", "sub/up"):
        with pytest.raises(OutsideApp) as caught:
            read_app_bytes(app, name)
        assert (caught.value.file, caught.value.target) == (name, str(secret))
    assert read_app_bytes(app, "link") == b"web: run\n"
    assert read_app_bytes(app, "missing") is None
    assert inside_app(app, "inside") == (app / "inside").resolve()


def test_unreadable_app_files_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MEDIUM-4 (the integration tests make a real one unreadable as a non-root user)."""
    (tmp_path / "pyproject.toml").write_text("[project]\n")

    def denied(self: Path) -> bytes:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(FileSystemFault) as caught:
        read_toml(tmp_path, "pyproject.toml")
    fault = caught.value
    assert (fault.path, fault.doing, fault.errno, fault.reason) == (
        "pyproject.toml",
        "read",
        errno.EACCES,
        "Permission denied",
    )


def test_deeply_nested_toml_is_an_invalid_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(InvalidProjectFile):
        read_toml(tmp_path, "pyproject.toml")
