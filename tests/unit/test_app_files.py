"""The app's files, each read and parsed once, on first use, for every step of the build."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from python_cnb.app.files import AppFiles, ToolConstraint
from python_cnb.app.project_files import InvalidProjectFile, WrongType

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


def test_tool_constraints_with_their_lines(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n\n[tool.uv]\nrequired-version = ">=0.5"\n\n'
        '[tool.poetry]\npackage-mode = false\n"requires-poetry" = "^2.1"\n',
        encoding="utf-8",
    )
    assert AppFiles(tmp_path).tool_constraints == (
        ToolConstraint("uv", ">=0.5", "pyproject.toml", "required-version", 5),
        ToolConstraint("poetry", "^2.1", "pyproject.toml", "requires-poetry", 9),
    )
    assert AppFiles(tmp_path).tool_constraints[0].where == "pyproject.toml line 5"


def test_uv_toml_replaces_tool_uv(tmp_path: Path) -> None:
    """As uv reads them: uv.toml, when there is one, and [tool.uv] is ignored."""
    (tmp_path / "pyproject.toml").write_text('[tool.uv]\nrequired-version = ">=0.5"\n')
    (tmp_path / "uv.toml").write_text('# pins\n\nrequired-version = "==0.13.7"\n')
    assert AppFiles(tmp_path).tool_constraints == (
        ToolConstraint("uv", "==0.13.7", "uv.toml", "required-version", 3),
    )
    (tmp_path / "uv.toml").write_text("native-tls = true\n")
    assert AppFiles(tmp_path).tool_constraints == ()


def test_no_constraints_without_the_keys(tmp_path: Path) -> None:
    assert AppFiles(tmp_path).tool_constraints == ()
    (tmp_path / "pyproject.toml").write_text('tool.uv.required-version = ">=0.5"\n')
    # a dotted key: found, but its line is not named
    assert AppFiles(tmp_path).tool_constraints == (
        ToolConstraint("uv", ">=0.5", "pyproject.toml", "required-version"),
    )


def test_a_constraint_that_is_not_a_string_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.uv]\nrequired-version = 0.5\n")
    with pytest.raises(InvalidProjectFile) as raised:
        assert AppFiles(tmp_path).tool_constraints
    assert raised.value.problem == WrongType(
        "tool.uv.required-version", "a string", "a number", "0.5"
    )
