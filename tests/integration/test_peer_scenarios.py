"""The scenarios the Heroku, Paketo and Google Python buildpacks test, on python-cnb's own
fixture apps (tests/integration/README.md maps every peer scenario to the test covering it).

Each docstring names the peer scenario it mirrors. Where python-cnb deliberately does
otherwise (it builds what Heroku refuses, or refuses what Heroku builds), the test holds
python-cnb's behaviour and says how it differs."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.support.assertions import assert_one_error_block
from tests.support.lifecycle import Lifecycle

pytestmark = pytest.mark.integration


# --- Detection and the choice of package manager ----------------------------------------------


def test_a_directory_without_python_is_not_detected(lifecycle: Lifecycle) -> None:
    """Heroku detect_test.rs `detect_rejects_non_python_projects` (fixture `empty`)."""
    result = lifecycle.build(lifecycle.app("not_python"), expect_success=False)
    assert "No Python app found" in result.output
    assert "Installing Python" not in result.output


def test_an_empty_pyproject_toml(lifecycle: Lifecycle) -> None:
    """Heroku package_manager_test.rs `no_package_manager_detected` (an empty
    pyproject.toml): Heroku fails asking for requirements.txt, poetry.lock or uv.lock.
    python-cnb builds it as an app with no dependencies, on the newest Python, and warns
    that it has no web process."""
    result = lifecycle.build(lifecycle.app("pyproject_empty"))
    assert "Python app detected (pyproject.toml)" in result.output
    assert "Using no dependencies: found no dependency file" in result.output
    assert "No Python version requested: using the newest available" in result.output
    assert "[Warning: No web process]" in result.output


def test_three_package_managers(lifecycle: Lifecycle) -> None:
    """Heroku package_manager_test.rs `multiple_package_managers_detected`: requirements.txt,
    poetry.lock and uv.lock side by side fail, naming all three, before Python is installed.
    python-cnb also offers the setting that picks one (Heroku says to delete the others)."""
    result = lifecycle.build(lifecycle.app("several_lock_files"), expect_success=False)
    block = assert_one_error_block(result, "Several package managers' files were found")
    assert "  - requirements.txt (pip)\n  - poetry.lock (poetry)\n  - uv.lock (uv)" in block
    assert "set BP_PYTHON_PACKAGE_MANAGER to pip or poetry or uv" in block
    assert "Installing Python" not in result.output


def test_python_home_and_virtual_env_are_refused(lifecycle: Lifecycle) -> None:
    """Heroku checks_test.rs `checks_reject_forbidden_env_vars`: PYTHONHOME and VIRTUAL_ENV
    set for the build fail it, both named in one block."""
    result = lifecycle.build(
        lifecycle.app("empty_requirements"),
        {"PYTHONHOME": "/invalid", "VIRTUAL_ENV": "/invalid"},
        expect_success=False,
    )
    block = assert_one_error_block(result, "Environment variables that would redirect the install")
    assert "  - PYTHONHOME=/invalid: Python would load its standard library from elsewhere" in block
    assert "  - VIRTUAL_ENV=/invalid: the buildpack creates the app's virtualenv" in block


# --- The Python version --------------------------------------------------------------------


INVALID = "Invalid Python version in .python-version"
VERSION_FILES = [
    pytest.param(
        b"// a comment in another language's syntax\n3.12\n2.7\n",
        INVALID,
        "comments in .python-version start with #, not //",
        id="several",
    ),
    pytest.param(b"\n\n", INVALID, "it contains no version", id="no-version"),
    pytest.param(
        b"3.12\xff\n", INVALID, "it is not UTF-8 text (byte 0xff at offset 4)", id="not-utf-8"
    ),
    pytest.param(
        b"3.99\n", "Python 3.99 is not available", "Its lines: 3.13, 3.12, 3.11, 3.10.", id="3.99"
    ),
    pytest.param(
        b"3.9\n",
        "Python 3.9 is not available",
        "Python 3.9 reached its end-of-life on 2025-10-31",
        id="end-of-life",
    ),
    pytest.param(b">= 3.10\n", INVALID, "it must be a version like 3.12 or 3.12.7", id="range"),
]


@pytest.mark.parametrize(("content", "title", "said"), VERSION_FILES)
def test_python_version_files_heroku_refuses(
    lifecycle: Lifecycle, content: bytes, title: str, said: str
) -> None:
    """Heroku python_version_test.rs `python_version_file_multiple_versions`,
    `python_version_file_no_version`, `python_version_file_io_error` (invalid UTF-8),
    `python_version_non_existent_major` (3.99) and `python_version_eol` (3.9); and Google's
    `sample-python`, whose .python-version holds a range (`>= 3.10`). Differs: Google accepts
    the range; python-cnb takes ranges from BP_PYTHON_VERSION or requires-python only."""
    app = lifecycle.app("empty_requirements")
    (app / ".python-version").write_bytes(content)
    result = lifecycle.build(app, expect_success=False)
    block = assert_one_error_block(result, title)
    assert said in block
    assert "Installing Python" not in result.output


def test_runtime_txt_next_to_python_version(lifecycle: Lifecycle) -> None:
    """Heroku python_version_test.rs `runtime_txt` (fixture
    `runtime_txt_and_python_version_file`): Heroku refuses runtime.txt altogether. Differs:
    python-cnb reads runtime.txt (Kato's format) and says .python-version wins."""
    app = lifecycle.app("empty_requirements")
    (app / ".python-version").write_text("3.11\n")
    (app / "runtime.txt").write_text("python-3.12\n")
    result = lifecycle.build(app)
    assert "Ignoring runtime.txt (3.12): .python-version takes precedence" in result.output
    assert "Selected Python 3.11." in result.output


def test_requires_python_alone_chooses_the_python(lifecycle: Lifecycle) -> None:
    """Heroku uv_test.rs `uv_no_python_version_file`: a uv project whose requires-python
    (==3.12.*) excludes the default Python and that has no .python-version. Heroku fails
    ("No Python version was specified"); python-cnb installs the newest 3.12 it has."""
    result = lifecycle.build(lifecycle.app("uv_requires_python"))
    assert "Python ==3.12.* requested by pyproject.toml (requires-python)" in result.output
    assert "Selected Python 3.12." in result.output
    ran = lifecycle.exec(["python", "job.py"])
    assert ran.stdout == "job on Python 3.12\n", ran.stderr


@pytest.mark.parametrize(
    ("file", "content", "said"),
    [
        pytest.param(
            ".python-version",
            "3.13\n",
            ".python-version selects Python 3.13.0",
            id="python-version",
        ),
        pytest.param(
            "runtime.txt", "python-3.11\n", "runtime.txt selects Python 3.11.7", id="runtime-txt"
        ),
    ],
)
def test_a_version_file_contradicting_requires_python(
    lifecycle: Lifecycle, file: str, content: str, said: str
) -> None:
    """Heroku uv_test.rs `uv_mismatched_python_version` and `uv_runtime_txt`, poetry_test.rs
    `poetry_mismatched_python_version`: the requested Python is outside requires-python.
    Heroku lets uv fail (or refuses runtime.txt); python-cnb fails before installing Python."""
    app = lifecycle.app("uv_requires_python")
    (app / file).write_text(content)
    result = lifecycle.build(app, expect_success=False)
    version = said.rsplit(" ", 1)[1]
    block = assert_one_error_block(result, f"Python {version} contradicts uv.lock")
    assert f'{said}, but uv.lock allows only:\n    "==3.12.*"' in block
    assert "Installing Python" not in result.output


# --- Installing --------------------------------------------------------------------------------


def test_an_invalid_requirement_line(lifecycle: Lifecycle) -> None:
    """Heroku pip_test.rs `pip_install_error`: a requirements.txt line that is no
    requirement (`an-invalid-requirement!`) fails the build with the installer's reason."""
    app = lifecycle.app("empty_requirements")
    (app / "requirements.txt").write_text("an-invalid-requirement!\n")
    result = lifecycle.build(app, expect_success=False)
    block = assert_one_error_block(result, "'uv pip compile requirements.txt' failed")
    assert "error: Couldn't parse requirement in " in block
    # The installer's whole reason is in the log above the block, once: the line it refused.
    assert result.output.count("               an-invalid-requirement!\n") == 1


def test_a_c_extension_compiles_against_the_buildpacks_python(lifecycle: Lifecycle) -> None:
    """The "compiled" half of Heroku's `pip_editable_git_compiled` (and the Poetry and uv
    ones): a package built from source finds Python.h in the buildpack's CPython."""
    result = lifecycle.build(lifecycle.app("c_extension"))
    assert "Built fastsum @ file://" in result.output
    ran = lifecycle.exec(["python", "main.py"])
    assert ran.stdout == "sum: 10\n", ran.stderr


def test_package_manager_change_and_gunicorn_on_every_interface(lifecycle: Lifecycle) -> None:
    """Heroku pip_test.rs `pip_cache_invalidation_package_manager_changed` (a uv app, then a
    pip app in the same cache), on the layout of Google's `sample-python`: `.python-version`
    (an exact line here: python-cnb refuses the sample's range, see above), a
    requirements.txt with comments and a range, and a Procfile running
    `gunicorn --bind :$PORT ...`; the web process answers HTTP (Google and Paketo curl it)."""
    lifecycle.build(lifecycle.app("uv_app"))
    result = lifecycle.build(lifecycle.app("gunicorn_bind_all"))
    # Differs: Heroku discards the venv; python-cnb syncs it to the new list (uv_app's idna
    # goes), which leaves exactly what a fresh venv would hold.
    assert (
        "Updating cached virtualenv since:\n  - The package manager changed from uv to pip"
        in result.output
    )
    assert "Removed: idna 3.20" in result.output
    assert not (lifecycle.site_packages() / "idna").exists()
    assert "web (default): gunicorn --bind :$PORT --workers 1" in result.output
    web = lifecycle.start(env={"BIND_HOST": ""})
    status, body = web.wait_for_http("/")
    assert (status, body) == (200, "served on every interface")


# --- Django ------------------------------------------------------------------------------------


def test_django_behind_symlinks_then_without_manage_py(lifecycle: Lifecycle) -> None:
    """Heroku django_test.rs `django_staticfiles_latest_django`: manage.py and
    requirements.txt are symlinks into backend/ (a monorepo), and the build's own settings
    reach collectstatic; then `django_no_manage_py`: Django installed, no manage.py at all."""
    app = lifecycle.app("django_symlinked")
    result = lifecycle.build(app, {"COLLECTED_BY": "the-build"})
    assert "Dependencies from backend/requirements.txt" in result.output
    assert "Running 'manage.py collectstatic --noinput'" in result.output
    collected = lifecycle.workspace.app / "backend" / "collected" / "the-build" / "shop.css"
    assert collected.read_text() == "h1 { font-weight: normal; }\n"
    # The web process is the project's, where the link points (it was none at all).
    [web] = json.loads(lifecycle.workspace.image_metadata.read_text())["processes"]
    assert (web["command"], web["args"]) == (
        ["gunicorn", "--chdir", "backend"],
        ["shop.wsgi:application", "--access-logfile", "-"],
    )

    (app / "manage.py").unlink()
    (app / "backend" / "manage.py").unlink()
    shutil.rmtree(app / "backend" / "shop")
    again = lifecycle.build(app)
    assert (
        "Skipping collectstatic: Django is installed, but no manage.py is in the app root or "
        "one level down" in again.output
    )
    assert "Running 'manage.py collectstatic" not in again.output


@pytest.mark.parametrize("env", [{}, {"BP_PYTHON_INSTALLER": "pip"}], ids=["uv", "pip"])
def test_emptying_requirements_txt_empties_the_venv(
    lifecycle: Lifecycle, env: dict[str, str]
) -> None:
    """Heroku's advice for an app with no dependencies is an empty requirements.txt, which
    its python_version fixtures use throughout. Emptying one that listed a package printed
    uv's "No requirements found (hint: use `--allow-empty-requirements` to clear the
    environment)" and left the package in the cached venv."""
    app = lifecycle.app("empty_requirements")
    (app / "requirements.txt").write_text("six==1.17.0\n")
    lifecycle.build(app, env)
    assert (lifecycle.site_packages() / "six.py").is_file()
    (app / "requirements.txt").write_text("")
    result = lifecycle.build(app, env)
    assert "No requirements found" not in result.output
    venv = lifecycle.layer("venv")
    assert not list(venv.rglob("six.py")) and not list(venv.rglob("six-*.dist-info"))
    assert not list(venv.rglob("six.*.pyc"))  # the bytecode python-cnb compiled for it too
    again = lifecycle.build(app, env)  # so the next build keeps the venv
    assert "Using cached virtualenv (dependencies unchanged)" in again.output
