"""Bad dependency configurations fail before anything is installed, with one clear block;
failed installs never leave a half-synced venv behind."""

from __future__ import annotations

import hashlib

import pytest

from tests.conftest import CACHE
from tests.support.assertions import assert_one_error_block
from tests.support.lifecycle import Lifecycle

pytestmark = pytest.mark.integration


def test_several_package_managers(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("uv_app")
    (app / "requirements.txt").write_text("Flask==3.1.3\n")
    result = lifecycle.build(app, expect_success=False)
    block = assert_one_error_block(result, "Several package managers' files were found")
    assert "  - requirements.txt (pip)\n  - uv.lock (uv)" in block
    assert "set BP_PYTHON_PACKAGE_MANAGER to pip or uv" in block
    assert "Installing Python" not in result.output


def test_explicit_package_manager_resolves_the_ambiguity(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("uv_app")
    (app / "requirements.txt").write_text("Flask==3.1.3\n")
    result = lifecycle.build(app, {"BUILD_PYTHON_PACKAGE_MANAGER": "uv"})
    assert "Using uv (uv.lock): BUILD_PYTHON_PACKAGE_MANAGER=uv" in result.output


@pytest.mark.parametrize(
    ("fixture", "lock", "command"),
    [("pipenv_app", "Pipfile.lock", "pipenv lock"), ("poetry_app", "poetry.lock", "poetry lock")],
)
def test_lock_file_missing(lifecycle: Lifecycle, fixture: str, lock: str, command: str) -> None:
    app = lifecycle.app(fixture)
    (app / lock).unlink()
    result = lifecycle.build(app, expect_success=False)
    block = assert_one_error_block(result, f"{lock} is missing")
    assert f"Run `{command}` in the app directory." in block


def test_unknown_package_manager_setting(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(
        lifecycle.app("flask-app"), {"BP_PYTHON_PACKAGE_MANAGER": "conda"}, expect_success=False
    )
    block = assert_one_error_block(result, "Invalid value for BP_PYTHON_PACKAGE_MANAGER")
    assert (
        '"conda"' in block and "pip, pip-tools, pipenv, poetry, uv, pyproject, setuptools" in block
    )


def test_package_manager_setting_without_its_files(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(
        lifecycle.app("flask-app"), {"BP_PYTHON_PACKAGE_MANAGER": "poetry"}, expect_success=False
    )
    block = assert_one_error_block(
        result, "BP_PYTHON_PACKAGE_MANAGER names files the app does not have"
    )
    assert "installs from poetry.lock, which the app does not have" in block


@pytest.mark.parametrize(
    ("fixture", "lock", "command", "added"),
    [
        ("uv_app", "uv.lock", "uv lock", '"itsdangerous==2.2.0", '),
        ("poetry_app", "poetry.lock", "poetry lock", '"itsdangerous (==2.2.0)", '),
    ],
)
def test_lock_file_out_of_date(
    lifecycle: Lifecycle, fixture: str, lock: str, command: str, added: str
) -> None:
    """A dependency added to pyproject.toml without re-locking."""
    app = lifecycle.app(fixture)
    pyproject = app / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"idna', added + '"idna', 1))
    result = lifecycle.build(app, expect_success=False)
    block = assert_one_error_block(result, f"{lock} is out of date")
    assert f"Run `{command}`." in block


def test_python_version_from_requires_python(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("pyproject_app")
    pyproject = app / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'requires-python = ">=3.11"', 'requires-python = ">=3.11,<3.13"'
        )
    )
    result = lifecycle.build(app)
    assert "Python >=3.11,<3.13 requested by pyproject.toml (requires-python)" in result.output
    assert "Selected Python 3.12.1" in result.output


def test_python_version_from_pipfile_lock(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("pipenv_app")
    (app / ".python-version").unlink()
    result = lifecycle.build(app)
    assert "Python 3.12 requested by Pipfile.lock (python_version)" in result.output
    assert "Selected Python 3.12.1" in result.output


def test_python_version_contradicting_the_lock(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(
        lifecycle.app("pipenv_app"), {"BP_PYTHON_VERSION": "3.13"}, expect_success=False
    )
    block = assert_one_error_block(
        result, "Python 3.13.0 contradicts Pipfile.lock (python_version)"
    )
    selects = "BP_PYTHON_VERSION selects Python 3.13.0, but Pipfile.lock (python_version)"
    assert f'{selects} allows only:\n    "==3.12.*"' in block
    assert "Installing Python" not in result.output


def test_forbidden_settings_listed_together(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(
        lifecycle.app("flask-app"),
        {"PIP_TARGET": "/tmp/elsewhere", "VIRTUAL_ENV": "/opt/venv", "UV_PYTHON": "3.11"},
        expect_success=False,
    )
    block = assert_one_error_block(result, "Environment variables that would redirect the install")
    assert "  - PIP_TARGET=/tmp/elsewhere: pip would install outside the app's virtualenv" in block
    assert "  - UV_PYTHON=3.11: uv must use the buildpack's Python" in block
    assert "  - VIRTUAL_ENV=/opt/venv: the buildpack creates the app's virtualenv" in block
    assert "Determining package manager" not in result.output


def test_invalid_pyproject(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("pyproject_app")
    (app / "pyproject.toml").write_text("[project\nname = 'x'\n")
    result = lifecycle.build(app, expect_success=False)
    assert "pyproject.toml cannot be parsed" in assert_one_error_block(
        result, "Invalid pyproject.toml"
    )


def _hashed_line(name: str, version: str) -> str:
    """``name==version --hash=...`` for every file of that release in the local index."""
    files = sorted((CACHE / "index" / "files").glob(f"{name.replace('-', '_')}-{version}-*"))
    hashes = " ".join(f"--hash=sha256:{hashlib.sha256(f.read_bytes()).hexdigest()}" for f in files)
    return f"{name}=={version} {hashes}"


def test_conflicting_set_fails_the_check(lifecycle: Lifecycle) -> None:
    """A hashed requirements.txt is installed as it is; here it lacks Flask's blinker."""
    app = lifecycle.app("flask-app")
    pins = [
        ("flask", "3.1.3"),
        ("werkzeug", "3.1.9"),
        ("jinja2", "3.1.6"),
        ("markupsafe", "3.0.4"),
        ("itsdangerous", "2.2.0"),
        ("click", "8.5.1"),
        ("gunicorn", "27.0.1"),
        ("packaging", "26.3"),
    ]
    (app / "requirements.txt").write_text("\n".join(_hashed_line(*pin) for pin in pins) + "\n")
    result = lifecycle.build(app, expect_success=False)
    block = assert_one_error_block(result, "The installed packages have conflicting requirements")
    assert (
        "flask 3.1.3 requires blinker, but it's not installed." in block.lower()
        or "blinker" in block
    )
    assert "BP_PYTHON_CHECK_DEPENDENCIES=false" in block

    skipped = lifecycle.build(app, {"BP_PYTHON_CHECK_DEPENDENCIES": "false"})
    assert "Skipping the dependency check (BP_PYTHON_CHECK_DEPENDENCIES=false)" in skipped.output


def test_failed_install_keeps_the_previous_venv(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("flask-app")
    lifecycle.build(app)
    good = (app / "requirements.txt").read_text()
    (app / "requirements.txt").write_text(good + "no-such-package-anywhere==1.0\n")
    lifecycle.build(app, expect_success=False)

    (app / "requirements.txt").write_text(good)
    result = lifecycle.build(app)
    assert "Using cached virtualenv (dependencies unchanged)" in result.output
    assert lifecycle.start().wait_for_http("/")[0] == 200


def test_clean_build_reuses_nothing(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("flask-app")
    lifecycle.build(app)
    result = lifecycle.build(app, {"BUILD_NO_CACHE": "true"})
    assert "Clean build requested (BUILD_NO_CACHE): no cached layer is reused" in result.output
    assert (
        "Discarding cached Python 3.12.1 since:\n  - A clean build was requested" in result.output
    )
    assert "Discarding cached uv 0.13.9 since:\n  - A clean build was requested" in result.output
    assert "Discarding cached virtualenv since:\n  - A clean build was requested" in result.output
    assert "Installed CPython 3.12.1" in result.output


def test_tool_version_pin(lifecycle: Lifecycle) -> None:
    """Kato's version setting pins the package manager's tool; the index must serve it."""
    app = lifecycle.app("uv_app")
    same = lifecycle.build(app, {"BUILD_PYTHON_PACKAGE_MANAGER_VERSION": "0.13.9"})
    assert "(build only, SHA-256 verified)" in same.output  # the pinned version keeps its hashes

    other = lifecycle.build(
        app, {"BUILD_PYTHON_PACKAGE_MANAGER_VERSION": "0.13.8"}, expect_success=False
    )
    block = assert_one_error_block(other, "Could not install uv 0.13.8")
    assert "No matching distribution found for uv==0.13.8" in block
    assert "Check the package index settings" in block


def test_imports_without_a_dependency_file_fail_naming_them(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(lifecycle.app("undeclared_imports"), expect_success=False)
    block = assert_one_error_block(result, "The app imports flask, but declares no dependencies")
    assert "    flask  (app.py:5)" in block
    assert "Found requirments.txt: did you mean requirements.txt?" in block
    assert "requirements.txt" in block and "BP_PYTHON_ALLOW_UNDECLARED_IMPORTS=true" in block
    assert "    os  (" not in block  # the standard library is not listed


def test_a_conda_environment_is_named(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(lifecycle.app("conda_environment"), expect_success=False)
    block = assert_one_error_block(result, "The app imports yaml, but declares no dependencies")
    assert "Found environment.yml: conda is not supported" in block


def test_undeclared_imports_may_be_allowed(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(
        lifecycle.app("undeclared_imports"), {"BP_PYTHON_ALLOW_UNDECLARED_IMPORTS": "true"}
    )
    assert "The app imports flask, which nothing installs" in result.output


def test_a_standard_library_app_still_builds(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(lifecycle.app("script_only"))
    assert "The app imports the standard library only: nothing to install" in result.output


def test_a_package_that_fails_to_build_from_source_is_named(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(lifecycle.app("source_build_fails"), expect_success=False)
    block = assert_one_error_block(
        result, "brokenext could not be built from source for Python 3.12.1"
    )
    # The header, or the compiler on a machine without one: either is the build image's lack.
    assert "python_cnb_missing_library.h" in block or "gcc" in block
    assert "this is a build-image problem, not a bug in the app" in block
    assert "because .python-version asks for it" in block
    assert "Or upgrade brokenext to a release that ships wheels for Python 3.12." in block
