"""Which Python gets installed, from which source; and the errors for versions we refuse."""

from __future__ import annotations

import pytest

from tests.support.assertions import assert_one_error_block
from tests.support.lifecycle import Lifecycle

pytestmark = pytest.mark.integration


def test_default_is_newest_available(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(lifecycle.app("procfile_multiple"))
    assert "No Python version requested: using the newest available" in result.output
    assert "Selected Python 3.13.0" in result.output
    assert "Tip: pin the version with a .python-version file containing 3.13" in result.output
    assert (
        lifecycle.exec(["python", "-c", "import sys; print(sys.version_info[:3])"]).stdout
        == "(3, 13, 0)\n"
    )


def test_runtime_txt_in_kato_format(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(lifecycle.app("runtime_txt"))
    assert "Python 3.11.7 requested by runtime.txt" in result.output
    assert "Installed CPython 3.11.7" in result.output


@pytest.mark.parametrize("setting", ["BP_PYTHON_VERSION", "BP_CPYTHON_VERSION", "BUILD_RUNTIMES"])
def test_platform_setting_beats_files(lifecycle: Lifecycle, setting: str) -> None:
    result = lifecycle.build(lifecycle.app("flask-app"), {setting: "3.11"})
    assert f"Python 3.11 requested by {setting}" in result.output
    assert "Ignoring .python-version (3.12): " + setting + " takes precedence" in result.output
    assert "Selected Python 3.11.7" in result.output


def test_exact_patch_and_outdated_warning(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("runtime_txt")
    (app / "runtime.txt").unlink()
    (app / ".python-version").write_text("3.12.1\n")
    result = lifecycle.build(app)
    assert "Selected Python 3.12.1" in result.output
    assert "[Warning:" not in result.output  # 3.12.1 is the newest 3.12 the mirror has


def test_garbled_version_file(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(lifecycle.app("python_version_invalid"), expect_success=False)
    block = assert_one_error_block(result, "Invalid Python version in .python-version")
    assert 'The file .python-version contains:\n    "3.x"' in block
    assert "it must be a version like 3.12 or 3.12.7" in block


def test_unknown_version_lists_available(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(
        lifecycle.app("flask-app"), {"BP_PYTHON_VERSION": "3.12.99"}, expect_success=False
    )
    block = assert_one_error_block(result, "Requested Python version is not available")
    assert 'BP_PYTHON_VERSION asks for Python:\n    "3.12.99"' in block
    assert "Available versions: 3.13.0, 3.12.1, 3.11.7." in block


def test_end_of_life_version(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("runtime_txt")
    (app / "runtime.txt").write_text("python-3.8.18\n")
    result = lifecycle.build(app, expect_success=False)
    block = assert_one_error_block(result, "Python 3.8 has reached end-of-life")
    assert 'runtime.txt asks for Python:\n    "3.8.18"' in block
    assert "stopped receiving security fixes on 2024-10-07" in block
    assert "BP_PYTHON_ALLOW_EOL=true" in block


def test_end_of_life_allowed_when_asked(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(
        lifecycle.app("runtime_txt"), {"BP_PYTHON_VERSION": "3.10", "BP_PYTHON_ALLOW_EOL": "true"}
    )
    assert "Selected Python 3.10.13" in result.output


def test_failed_build_leaves_cache_valid(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("flask-app")
    lifecycle.build(app)
    image_before = lifecycle.workspace.image_metadata.read_text()
    cache_before = lifecycle.workspace.cache_metadata.read_text()

    (app / ".python-version").write_text("three point twelve\n")
    lifecycle.build(app, expect_success=False)
    assert lifecycle.workspace.image_metadata.read_text() == image_before
    assert lifecycle.workspace.cache_metadata.read_text() == cache_before

    (app / ".python-version").write_text("3.12\n")
    result = lifecycle.build(app)
    assert "Using cached Python 3.12.1" in result.output
    assert "Using cached virtualenv" in result.output
