"""Which package manager installs the app's dependencies, decided from its files."""

from __future__ import annotations

from pathlib import Path

import pytest

from python_cnb.app.files import AppFiles
from python_cnb.app.package_manager import (
    Candidate,
    Choice,
    InvalidPackageManagerSetting,
    MissingLockFile,
    MultiplePackageManagers,
    PackageManager,
    determine_package_manager,
)
from python_cnb.app.project_files import InvalidProjectFile
from python_cnb.config.settings import Settings
from tests.support.contexts import write_app

PROJECT = '[project]\nname = "app"\nversion = "1"\n'
POETRY_PROJECT = '[tool.poetry]\nname = "app"\n\n[tool.poetry.dependencies]\npython = "^3.12"\n'
SKIPPED_PROJECT = (
    "Not installing the pyproject.toml [project] project: requirements.txt lists the "
    "dependencies (set BP_PYTHON_PACKAGE_MANAGER=pyproject to install the project instead)\n"
)


def _choose(tmp_path: Path, files: dict[str, str], env: dict[str, str] | None = None) -> Choice:
    setting = Settings.from_env(env or {}).package_manager
    return determine_package_manager(AppFiles(write_app(tmp_path, files)), setting)


@pytest.mark.parametrize(
    ("files", "manager", "reason"),
    [
        ({"requirements.txt": "flask\n"}, PackageManager.PIP, "found requirements.txt"),
        ({"requirements.in": "flask\n"}, PackageManager.PIP_TOOLS, "found requirements.in"),
        (
            {"Pipfile": "[packages]\n", "Pipfile.lock": "{}"},
            PackageManager.PIPENV,
            "found Pipfile.lock",
        ),
        ({"Pipfile.lock": "{}"}, PackageManager.PIPENV, "found Pipfile.lock"),
        (
            {"pyproject.toml": POETRY_PROJECT, "poetry.lock": ""},
            PackageManager.POETRY,
            "found poetry.lock",
        ),
        ({"poetry.lock": ""}, PackageManager.POETRY, "found poetry.lock"),
        ({"pyproject.toml": PROJECT, "uv.lock": ""}, PackageManager.UV, "found uv.lock"),
        (
            {"pyproject.toml": PROJECT},
            PackageManager.PYPROJECT,
            "found pyproject.toml [project] and no lock file",
        ),
        (
            {"setup.py": "", "setup.cfg": ""},
            PackageManager.SETUPTOOLS,
            "found setup.py and no lock file",
        ),
        ({"setup.cfg": ""}, PackageManager.SETUPTOOLS, "found setup.cfg and no lock file"),
        (
            {"setup.py": "", "pyproject.toml": "[build-system]\nrequires = []\n"},
            PackageManager.SETUPTOOLS,
            "found setup.py and no lock file",
        ),
        (
            {"setup.py": "", "pyproject.toml": PROJECT},
            PackageManager.PYPROJECT,
            "found pyproject.toml [project] and no lock file",
        ),
        ({}, PackageManager.NONE, "found no dependency file"),
        ({"pyproject.toml": "[tool.black]\n"}, PackageManager.NONE, "found no dependency file"),
        ({"main.py": ""}, PackageManager.NONE, "found no dependency file"),
    ],
)
def test_table(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    manager: PackageManager,
    reason: str,
) -> None:
    assert _choose(tmp_path, files) == Choice(manager, reason)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    ("files", "candidates"),
    [
        (
            {"requirements.txt": "", "uv.lock": ""},
            (
                Candidate(PackageManager.PIP, "requirements.txt"),
                Candidate(PackageManager.UV, "uv.lock"),
            ),
        ),
        (
            {"Pipfile": "", "poetry.lock": ""},
            (
                Candidate(PackageManager.PIPENV, "Pipfile"),
                Candidate(PackageManager.POETRY, "poetry.lock"),
            ),
        ),
        (
            {"requirements.in": "", "uv.lock": ""},
            (
                Candidate(PackageManager.PIP_TOOLS, "requirements.in"),
                Candidate(PackageManager.UV, "uv.lock"),
            ),
        ),
        (
            {"uv.lock": "", "requirements.txt": "", "Pipfile.lock": "{}", "poetry.lock": ""},
            (
                Candidate(PackageManager.PIP, "requirements.txt"),
                Candidate(PackageManager.PIPENV, "Pipfile.lock"),
                Candidate(PackageManager.POETRY, "poetry.lock"),
                Candidate(PackageManager.UV, "uv.lock"),
            ),
        ),
        (
            {"requirements.txt": "", "pyproject.toml": POETRY_PROJECT},
            (
                Candidate(PackageManager.PIP, "requirements.txt"),
                Candidate(PackageManager.POETRY, "pyproject.toml [tool.poetry]"),
            ),
        ),
    ],
)
def test_several_primary_files_fail(
    tmp_path: Path, files: dict[str, str], candidates: tuple[Candidate, ...]
) -> None:
    with pytest.raises(MultiplePackageManagers) as caught:
        _choose(tmp_path, files)
    assert caught.value.candidates == candidates


def test_requirements_in_beside_requirements_txt_is_pip(tmp_path: Path) -> None:
    files = {"requirements.in": "flask\n", "requirements.txt": "flask==3.1.3\n"}
    assert _choose(tmp_path, files) == Choice(PackageManager.PIP, "found requirements.txt")


def test_pipfile_without_lock(tmp_path: Path) -> None:
    with pytest.raises(MissingLockFile) as caught:
        _choose(tmp_path, {"Pipfile": "[packages]\nflask = '*'\n"})
    error = caught.value
    assert (error.manager, error.found, error.missing, error.lock_command) == (
        PackageManager.PIPENV,
        "Pipfile",
        "Pipfile.lock",
        "pipenv lock",
    )


def test_poetry_project_without_lock(tmp_path: Path) -> None:
    with pytest.raises(MissingLockFile) as caught:
        _choose(tmp_path, {"pyproject.toml": POETRY_PROJECT + PROJECT})
    error = caught.value
    assert (error.manager, error.found, error.missing, error.lock_command) == (
        PackageManager.POETRY,
        "pyproject.toml",
        "poetry.lock",
        "poetry lock",
    )


def test_poetry_table_with_uv_lock_is_uv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {"pyproject.toml": POETRY_PROJECT + PROJECT, "uv.lock": ""}
    assert _choose(tmp_path, files) == Choice(PackageManager.UV, "found uv.lock")
    assert capsys.readouterr() == ("", "")


def test_a_tool_key_that_is_no_table_is_reported(tmp_path: Path) -> None:
    files = {"pyproject.toml": 'tool = "poetry"\n' + PROJECT}
    with pytest.raises(InvalidProjectFile, match=r"where=.tool., wanted=.a table."):
        _choose(tmp_path, files)


def test_project_beside_requirements_txt_is_not_installed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {"requirements.txt": "flask\n", "pyproject.toml": PROJECT}
    assert _choose(tmp_path, files) == Choice(PackageManager.PIP, "found requirements.txt")
    assert capsys.readouterr() == (SKIPPED_PROJECT, "")


def test_every_skipped_project_is_logged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {"Pipfile.lock": "{}", "pyproject.toml": PROJECT, "setup.cfg": "", "setup.py": ""}
    assert _choose(tmp_path, files).manager is PackageManager.PIPENV
    assert capsys.readouterr().out == (
        "Not installing the pyproject.toml [project] project: Pipfile.lock lists the "
        "dependencies (set BP_PYTHON_PACKAGE_MANAGER=pyproject to install the project "
        "instead)\n"
        "Not installing the setup.py project: Pipfile.lock lists the dependencies (set "
        "BP_PYTHON_PACKAGE_MANAGER=setuptools to install the project instead)\n"
    )


@pytest.mark.parametrize(
    ("files", "manager"),
    [
        ({"uv.lock": ""}, PackageManager.UV),
        ({"poetry.lock": ""}, PackageManager.POETRY),
    ],
)
def test_projects_of_uv_and_poetry_are_not_reported_as_skipped(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    manager: PackageManager,
) -> None:
    files = {**files, "pyproject.toml": PROJECT, "setup.py": ""}
    assert _choose(tmp_path, files).manager is manager
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    ("value", "manager"),
    [
        ("pip", PackageManager.PIP),
        ("requirements", PackageManager.PIP),
        ("requirements.txt", PackageManager.PIP),
        ("PIP", PackageManager.PIP),
        ("pip-tools", PackageManager.PIP_TOOLS),
        ("piptools", PackageManager.PIP_TOOLS),
        ("Pip-Compile", PackageManager.PIP_TOOLS),
        ("pipenv", PackageManager.PIPENV),
        ("Poetry", PackageManager.POETRY),
        ("UV", PackageManager.UV),
        ("pyproject", PackageManager.PYPROJECT),
        ("project", PackageManager.PYPROJECT),
        ("pyproject.toml", PackageManager.PYPROJECT),
        ("setuptools", PackageManager.SETUPTOOLS),
        ("Setup.py", PackageManager.SETUPTOOLS),
    ],
)
@pytest.mark.parametrize("setting", ["BP_PYTHON_PACKAGE_MANAGER", "BUILD_PYTHON_PACKAGE_MANAGER"])
def test_setting_chooses(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    setting: str,
    value: str,
    manager: PackageManager,
) -> None:
    everything = {
        "requirements.txt": "",
        "requirements.in": "",
        "Pipfile.lock": "{}",
        "poetry.lock": "",
        "uv.lock": "",
        "pyproject.toml": PROJECT,
        "setup.py": "",
    }
    choice = _choose(tmp_path, everything, {setting: f" {value} "})
    assert choice == Choice(manager, f"{setting}={value}")
    assert capsys.readouterr() == ("", "")


def test_first_setting_wins(tmp_path: Path) -> None:
    files = {"requirements.txt": "", "uv.lock": ""}
    env = {"BP_PYTHON_PACKAGE_MANAGER": "uv", "BUILD_PYTHON_PACKAGE_MANAGER": "pip"}
    assert _choose(tmp_path, files, env) == Choice(
        PackageManager.UV, "BP_PYTHON_PACKAGE_MANAGER=uv"
    )
    env = {"BP_PYTHON_PACKAGE_MANAGER": "  ", "BUILD_PYTHON_PACKAGE_MANAGER": "pip"}
    assert _choose(tmp_path, files, env) == Choice(
        PackageManager.PIP, "BUILD_PYTHON_PACKAGE_MANAGER=pip"
    )


@pytest.mark.parametrize("setting", ["BP_PYTHON_PACKAGE_MANAGER", "BUILD_PYTHON_PACKAGE_MANAGER"])
@pytest.mark.parametrize("value", ["conda", "none", "pip tools", "uv.lock"])
def test_unknown_setting(tmp_path: Path, setting: str, value: str) -> None:
    with pytest.raises(InvalidPackageManagerSetting) as caught:
        _choose(tmp_path, {"requirements.txt": ""}, {setting: value})
    error = caught.value
    assert (error.setting, error.value, error.missing_file) == (setting, value, None)


@pytest.mark.parametrize(
    ("value", "files", "missing"),
    [
        ("pip", {"requirements.in": ""}, "requirements.txt"),
        ("pip-tools", {"requirements.txt": ""}, "requirements.in"),
        ("pipenv", {"Pipfile": ""}, "Pipfile.lock"),
        ("poetry", {"pyproject.toml": POETRY_PROJECT}, "poetry.lock"),
        ("uv", {"pyproject.toml": PROJECT}, "uv.lock"),
        ("pyproject", {"pyproject.toml": POETRY_PROJECT}, "pyproject.toml with a [project] table"),
        ("project", {}, "pyproject.toml with a [project] table"),
        ("setuptools", {"pyproject.toml": PROJECT}, "setup.py or setup.cfg"),
    ],
)
def test_setting_naming_missing_files(
    tmp_path: Path, value: str, files: dict[str, str], missing: str
) -> None:
    with pytest.raises(InvalidPackageManagerSetting) as caught:
        _choose(tmp_path, files, {"BUILD_PYTHON_PACKAGE_MANAGER": value})
    error = caught.value
    assert (error.setting, error.value, error.missing_file) == (
        "BUILD_PYTHON_PACKAGE_MANAGER",
        value,
        missing,
    )


@pytest.mark.parametrize(
    ("manager", "expected"),
    [
        (PackageManager.PIP, True),
        (PackageManager.PIP_TOOLS, True),
        (PackageManager.PIPENV, True),
        (PackageManager.PYPROJECT, True),
        (PackageManager.SETUPTOOLS, True),
        (PackageManager.POETRY, False),
        (PackageManager.UV, False),
        (PackageManager.NONE, False),
    ],
)
def test_requirements_style(manager: PackageManager, expected: bool) -> None:
    assert manager.requirements_style is expected


def test_labels() -> None:
    assert [m.label for m in PackageManager] == [
        "pip (requirements.txt)",
        "pip-tools (requirements.in)",
        "Pipenv (Pipfile.lock)",
        "Poetry (poetry.lock)",
        "uv (uv.lock)",
        "pyproject.toml project",
        "setuptools project (setup.py/setup.cfg)",
        "no dependencies",
    ]
