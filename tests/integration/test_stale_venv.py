"""The venv is never stale: every input that decides what is installed is seen on a rebuild.

Each case builds, changes one input outside the text of the requirement files, rebuilds into
the same workspace, and checks that the new package or code is in the image and that the
log says why the venv was synced again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import CACHE
from tests.support.indexes import origin_wheel
from tests.support.lifecycle import Lifecycle

pytestmark = pytest.mark.integration

PIP = {"BP_PYTHON_INSTALLER": "pip"}
ENGINES = [pytest.param({}, id="uv"), pytest.param(PIP, id="pip")]
REUSED = "Using cached virtualenv (dependencies unchanged)"
UPDATING = "Updating cached virtualenv since:"


def _imported(lifecycle: Lifecycle, module: str, attribute: str = "VERSION") -> str:
    result = lifecycle.exec(["python", "-c", f"import {module}; print({module}.{attribute})"])
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def _rebuilt(lifecycle: Lifecycle, app: Path, env: dict[str, str], reason: str) -> str:
    result = lifecycle.build(app, env)
    assert REUSED not in result.output
    assert UPDATING in result.output
    assert f"- {reason}" in result.output, result.output
    return result.output


@pytest.mark.parametrize("engine", ENGINES)
def test_code_of_a_local_path_requirement(lifecycle: Lifecycle, engine: dict[str, str]) -> None:
    app = lifecycle.app("stale_local_path")
    lifecycle.build(app, engine)
    assert _imported(lifecycle, "mylib") == "one"
    assert REUSED in lifecycle.build(app, engine).output  # nothing changed: reused untouched

    (app / "mylib" / "mylib" / "__init__.py").write_text("VERSION = 'two'\n")
    output = _rebuilt(
        lifecycle, app, engine, "The local packages or find-links directories changed (mylib)"
    )
    assert "Reinstalling from local sources: mylib" in output
    assert _imported(lifecycle, "mylib") == "two"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_variable_in_a_version_specifier(lifecycle: Lifecycle, engine: dict[str, str]) -> None:
    app = lifecycle.app("stale_env_var")
    for version in ("1.0", "2.0"):
        origin_wheel(app / "wheels", "app", version)
    lifecycle.build(app, {"TINY_VERSION": "1.0", **engine})
    assert _imported(lifecycle, "tinypkg") == "1.0"

    _rebuilt(
        lifecycle,
        app,
        {"TINY_VERSION": "2.0", **engine},
        "The values of ${VAR} in the requirement files changed (TINY_VERSION)",
    )
    assert _imported(lifecycle, "tinypkg") == "2.0"


@pytest.mark.parametrize("engine", ENGINES)
def test_an_included_file_named_by_a_variable(lifecycle: Lifecycle, engine: dict[str, str]) -> None:
    app = lifecycle.app("stale_include_var")
    for version in ("1.0", "2.0"):
        origin_wheel(app / "wheels", "app", version)
    env = {"REQ_FILE": "reqs/tiny.txt", **engine}
    lifecycle.build(app, env)
    assert _imported(lifecycle, "tinypkg") == "1.0"

    (app / "reqs" / "tiny.txt").write_text("tinypkg==2.0\n")
    _rebuilt(lifecycle, app, env, "The dependency files changed (requirements.txt, reqs/tiny.txt)")
    assert _imported(lifecycle, "tinypkg") == "2.0"


def _vendored(lifecycle: Lifecycle) -> Path:
    """The app with its packages vendored, uv included (the build is offline)."""
    app = lifecycle.app("stale_vendored")
    (app / "vendor").mkdir()
    for wheel in (CACHE / "index" / "files").glob("uv-0.13.9-*.whl"):
        shutil.copyfile(wheel, app / "vendor" / wheel.name)
    origin_wheel(app / "vendor", "first")
    return app


def test_a_vendored_wheel_replaced_by_a_newer_version(lifecycle: Lifecycle) -> None:
    app = _vendored(lifecycle)
    lifecycle.build(app)
    assert _imported(lifecycle, "tinypkg") == "1.0"

    (app / "vendor" / "tinypkg-1.0-py3-none-any.whl").unlink()
    origin_wheel(app / "vendor", "second", "2.0")
    _rebuilt(lifecycle, app, {}, "The local packages or find-links directories changed (vendor)")
    assert _imported(lifecycle, "tinypkg") == "2.0"


def test_a_vendored_wheel_rebuilt_at_the_same_version(lifecycle: Lifecycle) -> None:
    app = _vendored(lifecycle)
    lifecycle.build(app)
    assert _imported(lifecycle, "tinypkg", "ORIGIN") == "first"

    origin_wheel(app / "vendor", "second")  # same file name, other contents
    output = _rebuilt(
        lifecycle, app, {}, "The local packages or find-links directories changed (vendor)"
    )
    assert "Reinstalling from local sources: tinypkg" in output
    assert _imported(lifecycle, "tinypkg", "ORIGIN") == "second"


def _find_links(root: Path, *versions: str) -> str:
    for version in versions:
        origin_wheel(root, "links", version)
    return str(root)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fixture", ["stale_dynamic_deps", "stale_setup_py_deps"])
def test_dependencies_read_from_a_file_by_the_build_backend(
    lifecycle: Lifecycle, tmp_path: Path, fixture: str, engine: dict[str, str]
) -> None:
    app = lifecycle.app(fixture)
    env = {"PIP_FIND_LINKS": _find_links(tmp_path / "links", "1.0", "2.0"), **engine}
    lifecycle.build(app, env)
    assert _imported(lifecycle, "tinypkg") == "1.0"
    assert REUSED in lifecycle.build(app, env).output  # nothing changed: reused untouched

    (app / "deps.txt").write_text("tinypkg==2.0\n")
    _rebuilt(lifecycle, app, env, "The resolved requirement set changed")
    assert _imported(lifecycle, "tinypkg") == "2.0"


@pytest.mark.parametrize("engine", ENGINES)
def test_the_platforms_find_links_setting(
    lifecycle: Lifecycle, tmp_path: Path, engine: dict[str, str]
) -> None:
    app = lifecycle.app("stale_find_links_setting")
    lifecycle.build(app, {"PIP_FIND_LINKS": _find_links(tmp_path / "old", "1.0"), **engine})
    assert _imported(lifecycle, "tinypkg") == "1.0"

    _rebuilt(
        lifecycle,
        app,
        {"PIP_FIND_LINKS": _find_links(tmp_path / "new", "2.0"), **engine},
        "The package index settings changed",
    )
    assert _imported(lifecycle, "tinypkg") == "2.0"
