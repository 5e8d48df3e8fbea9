"""The app's files, each read and parsed once, on first use, for every step of the build."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from python_cnb.app.files import AppFiles
from python_cnb.app.project_files import InvalidProjectFile

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _copy(tmp_path: Path, fixture: str) -> Path:
    return Path(shutil.copytree(FIXTURES / fixture, tmp_path / fixture))


def test_each_file_is_read_once(tmp_path: Path) -> None:
    app = _copy(tmp_path, "scripts_app")
    files = AppFiles(app)
    first = files.pyproject
    (app / "pyproject.toml").write_text("not toml at all [", encoding="utf-8")
    assert files.pyproject is first
    assert files.project_scripts == ["serve"]
    with pytest.raises(InvalidProjectFile):  # a new build reads the file again
        assert AppFiles(app).pyproject is None


def test_requirements_are_read_once_with_the_build_env(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("${PKG}==1.0\n", encoding="utf-8")
    files = AppFiles(tmp_path, {"PKG": "six"})
    first = files.requirements("requirements.txt")
    (tmp_path / "requirements.txt").write_text("idna\n", encoding="utf-8")
    assert files.requirements("requirements.txt") is first
    assert [line.pin for line in first.lines] == [("six", "1.0")]


def test_a_file_no_step_needs_is_never_parsed(tmp_path: Path) -> None:
    app = _copy(tmp_path, "uv_app")
    (app / "Pipfile.lock").write_text("{ broken", encoding="utf-8")
    files = AppFiles(app)
    assert files.uv_lock_python == ">=3.11"
    with pytest.raises(InvalidProjectFile) as caught:  # only when a step asks for it
        assert files.pipfile_lock is None
    assert caught.value.file == "Pipfile.lock"


def test_lock_python_constraints() -> None:
    assert AppFiles(FIXTURES / "poetry_app").poetry_lock_python == ">=3.11,<4.0"
    assert AppFiles(FIXTURES / "poetry_app").uv_lock_python is None
    assert AppFiles(FIXTURES / "uv_app").poetry_lock_python is None


def test_lock_python_constraints_of_another_type_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "poetry.lock").write_text('metadata = "x"\n', encoding="utf-8")
    (tmp_path / "uv.lock").write_text("requires-python = 3\n", encoding="utf-8")
    files = AppFiles(tmp_path)
    assert (files.poetry_lock_python, files.uv_lock_python) == (None, None)


def test_small_files_as_bytes() -> None:
    files = AppFiles(FIXTURES / "runtime_txt")
    assert files.raw("runtime.txt") == b"python-3.11.7\n"
    assert files.raw(".python-version") is None
    assert files.exists("runtime.txt") and not files.exists(".python-version")
