"""One app per package manager: built, launched, answering HTTP, and reused untouched on a
rebuild; then a dependency change applied incrementally."""

from __future__ import annotations

import pytest

from tests.support.lifecycle import Lifecycle

pytestmark = pytest.mark.integration

PIP = {"BP_PYTHON_INSTALLER": "pip"}

APPS = [
    pytest.param("flask-app", "pip (requirements.txt)", "Hello from python-cnb!", {}, id="pip"),
    pytest.param(
        "pip_tools_app", "pip-tools (requirements.in)", "the pip_tools fixture", {}, id="pip-tools"
    ),
    pytest.param("pipenv_app", "Pipenv (Pipfile.lock)", "the pipenv fixture", {}, id="pipenv"),
    pytest.param("poetry_app", "Poetry (poetry.lock)", "the poetry fixture", {}, id="poetry"),
    pytest.param("uv_app", "uv (uv.lock)", "the uv fixture", {}, id="uv"),
    pytest.param(
        "pyproject_app", "pyproject.toml project", "the pyproject fixture", {}, id="pyproject"
    ),
    pytest.param(
        "setuptools_app", "setuptools project", "the setuptools fixture", {}, id="setuptools"
    ),
    pytest.param(
        "flask-app", "pip (requirements.txt)", "Hello from python-cnb!", PIP, id="pip-engine-pip"
    ),
    pytest.param(
        "pip_tools_app",
        "pip-tools (requirements.in)",
        "the pip_tools fixture",
        PIP,
        id="pip-engine-pip-tools",
    ),
    pytest.param(
        "pipenv_app", "Pipenv (Pipfile.lock)", "the pipenv fixture", PIP, id="pip-engine-pipenv"
    ),
]


@pytest.mark.parametrize(("fixture", "label", "body", "env"), APPS)
def test_builds_serves_and_reuses_the_venv(
    lifecycle: Lifecycle, fixture: str, label: str, body: str, env: dict[str, str]
) -> None:
    app = lifecycle.app(fixture)
    first = lifecycle.build(app, env)
    assert f"Using {label}" in first.output
    assert "Creating virtual environment" in first.output
    if env == PIP:
        assert "pip-sync" in first.output and "uv pip" not in first.output
    web = lifecycle.start()
    status, text = web.wait_for_http("/")
    assert status == 200 and body in text
    web.stop()
    # Build tools never reach the image.
    layers = sorted(p.name for p in lifecycle.layer("venv").parent.iterdir())
    assert layers == ["python", "runtime", "venv"]
    for tool in ("pip", "uv", "poetry", "pip-sync", "pip-compile"):
        assert not (lifecycle.layer("venv") / "bin" / tool).exists()
    # Development dependencies stay out (six is a dev dependency of the locked fixtures).
    assert not (lifecycle.site_packages() / "six.py").exists()
    venv_sha = lifecycle.image_layer("venv")["sha"]

    again = lifecycle.build(app, env)

    assert "Using cached virtualenv (dependencies unchanged)" in again.output
    ran = again.output.split("[Installing dependencies")[1].split("[Compiling")[0]
    if fixture in ("pyproject_app", "setuptools_app"):
        # A project's dependencies are what its build backend says: resolved every build,
        # and the venv kept untouched when the result is the same.
        assert "Running 'uv pip compile" in ran and "uv pip sync" not in ran
    else:
        assert "Running '" not in ran
    assert lifecycle.image_layer("venv")["sha"] == venv_sha


CHANGES = [
    pytest.param("pip_tools_app", {}, id="pip-tools"),
    pytest.param("pip_tools_app", PIP, id="pip-engine-pip-tools"),
    pytest.param("pipenv_app", {}, id="pipenv"),
    pytest.param("pipenv_app", PIP, id="pip-engine-pipenv"),
    pytest.param("poetry_app", {}, id="poetry"),
    pytest.param("uv_app", {}, id="uv"),
    pytest.param("pyproject_app", {}, id="pyproject"),
]


@pytest.mark.parametrize(("fixture", "env"), CHANGES)
def test_dependency_change_is_applied_incrementally(
    lifecycle: Lifecycle, fixture: str, env: dict[str, str]
) -> None:
    """idna leaves, six arrives, everything else stays as it was."""
    app = lifecycle.app(fixture)
    lifecycle.build(app, env)
    assert (lifecycle.site_packages() / "idna").is_dir()
    lifecycle.apply_changes(app, fixture)

    result = lifecycle.build(app, env)

    assert "Using cached Python 3." in result.output
    assert "Updating cached virtualenv since:\n  - The dependency files changed" in result.output
    assert "Creating virtual environment" not in result.output
    assert "Added: six 1.17.0" in result.output
    assert "Removed: idna 3.20" in result.output
    assert "Unchanged (not reinstalled): " in result.output
    assert not (lifecycle.site_packages() / "idna").exists()
    assert (lifecycle.site_packages() / "six.py").is_file()
    # The tools say the same: only six was installed, only idna uninstalled.
    if "uv pip sync" in result.output or "uv sync" in result.output:
        assert " + six==1.17.0" in result.output and " - idna==3.20" in result.output
        assert " + flask" not in result.output
    elif "poetry sync" in result.output:
        assert "Package operations: 1 install, 0 updates, 1 removal" in result.output
    else:
        assert "Successfully installed six-1.17.0" in result.output
        assert "Successfully uninstalled idna-3.20" in result.output
    assert lifecycle.start().wait_for_http("/")[0] == 200


def test_pip_requirements_change_is_incremental(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("flask-app")
    lifecycle.build(app)
    (app / "requirements.txt").write_text("Flask==3.1.3\nsix==1.17.0\n")

    result = lifecycle.build(app)

    assert "Added: six 1.17.0" in result.output
    assert "Removed: gunicorn 27.0.1" in result.output
    assert "Unchanged (not reinstalled): 7 packages" in result.output
    assert not (lifecycle.layer("venv") / "bin" / "gunicorn").exists()


def test_installer_change_rebuilds_from_scratch(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("pip_tools_app")
    lifecycle.build(app)
    result = lifecycle.build(app, PIP)
    assert (
        "Discarding cached virtualenv since:\n  - The installer changed from uv 0.13.9 to pip"
        in result.output
    )
    assert "Creating virtual environment" in result.output


def test_python_change_rebuilds_from_scratch(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("uv_app")
    lifecycle.build(app)
    (app / ".python-version").write_text("3.13\n")
    result = lifecycle.build(app)
    changed = "The Python version changed from 3.12.1 to 3.13.0"
    assert f"Discarding cached Python 3.12.1 since:\n  - {changed}" in result.output
    assert f"Discarding cached virtualenv since:\n  - {changed}" in result.output
    assert (
        lifecycle.exec(["python", "-c", "import flask, sys; print(sys.version_info[:2])"]).stdout
        == "(3, 13)\n"
    )
