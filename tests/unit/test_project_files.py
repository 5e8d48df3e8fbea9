"""Reading pyproject.toml, Pipfile, Pipfile.lock, uv.lock and poetry.lock."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import pytest

from python_cnb.project_files import (
    InvalidProjectFile,
    poetry_python,
    poetry_table,
    project_name,
    project_table,
    read_json,
    read_toml,
    requires_python,
)


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
    assert (caught.value.file, caught.value.reason) == ("pyproject.toml", reason)


def test_toml_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_bytes(b'version = "\xff"\n')
    with pytest.raises(InvalidProjectFile) as caught:
        read_toml(tmp_path, "uv.lock")
    assert caught.value.file == "uv.lock"
    assert caught.value.reason.startswith("'utf-8' codec can't decode byte 0xff")


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
    assert (caught.value.file, caught.value.reason) == ("Pipfile.lock", reason)


def test_json_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "Pipfile.lock").write_bytes(b'{"a": "\xff"}')
    with pytest.raises(InvalidProjectFile) as caught:
        read_json(tmp_path, "Pipfile.lock")
    assert caught.value.reason.startswith("'utf-8' codec can't decode byte 0xff")


PROJECT = {"project": {"name": "app", "requires-python": " >=3.11 "}}
POETRY = {"tool": {"poetry": {"name": "poetry-app", "dependencies": {"python": "^3.12 "}}}}


@pytest.mark.parametrize(
    ("pyproject", "table"),
    [
        (None, None),
        ({}, None),
        ({"project": "app"}, None),
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
        ({"tool": {"poetry": "x"}}, None),
        ({"tool": "poetry"}, None),
        ({"tool": ["poetry"]}, None),
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
        ({"project": {"requires-python": 3.11}}, None),
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
        ({"tool": {"poetry": {"dependencies": ["python"]}}}, None),
        ({"tool": {"poetry": {}}}, None),
    ],
)
def test_poetry_python(pyproject: Optional[dict[str, Any]], value: Optional[str]) -> None:
    assert poetry_python(pyproject) == value


@pytest.mark.parametrize(
    ("pyproject", "name"),
    [
        (None, None),
        (PROJECT, "app"),
        (POETRY, "poetry-app"),
        ({**PROJECT, **POETRY}, "app"),
        ({"project": {"name": ""}, **POETRY}, "poetry-app"),
        ({"project": {"name": 1}}, None),
    ],
)
def test_project_name(pyproject: Optional[dict[str, Any]], name: Optional[str]) -> None:
    assert project_name(pyproject) == name
