"""Which Python gets installed, from which source; the errors for versions we refuse; and the
end-of-life policy (warning, grace period, BP_PYTHON_ALLOW_EOL).

The test mirror (tests/conftest.py) offers 3.10.13, 3.11.7, 3.12.1 and 3.13.0 through
BP_CPYTHON_MANIFEST. Every build here pins the day the end-of-life policy is applied on with
PYTHON_CNB_TODAY (a test hook, not a setting): 2026-12-01 unless a test says otherwise, when
3.10 (end-of-life 2026-10-31) is in its grace period."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.support.assertions import assert_one_error_block
from tests.support.lifecycle import Lifecycle

pytestmark = pytest.mark.integration

TODAY = "2026-12-01"


@pytest.fixture(autouse=True)
def pinned_today(lifecycle: Lifecycle) -> Iterator[None]:
    lifecycle.platform_env["PYTHON_CNB_TODAY"] = TODAY
    yield


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


def test_missing_patch_lists_the_lines_patches(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(
        lifecycle.app("flask-app"), {"BP_PYTHON_VERSION": "3.12.99"}, expect_success=False
    )
    block = assert_one_error_block(result, "Python 3.12.99 is not available")
    assert 'BP_PYTHON_VERSION asks for Python:\n    "3.12.99"' in block
    assert "There is no such CPython release for linux/" in block
    assert "The 3.12 releases available, newest first: 3.12.1. The newest is 3.12.1." in block
    assert "Set BP_PYTHON_VERSION=3.12." in block
    assert "Or add CPython 3.12.99 to the manifest BP_CPYTHON_MANIFEST points at." in block


def test_unknown_range_lists_the_newest_patch_of_each_line(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(
        lifecycle.app("flask-app"), {"BP_PYTHON_VERSION": ">=3.14"}, expect_success=False
    )
    block = assert_one_error_block(result, "Requested Python version is not available")
    assert "Available lines, with their newest patch: 3.13.0, 3.12.1, 3.11.7, 3.10.13." in block


def test_line_the_manifest_does_not_have(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("runtime_txt")
    (app / "runtime.txt").write_text("python-3.6.6\n")  # Kato's demo app
    result = lifecycle.build(app, expect_success=False)
    block = assert_one_error_block(result, "Python 3.6 is not available")
    assert 'runtime.txt asks for Python:\n    "3.6.6"' in block
    assert "The CPython manifest BP_CPYTHON_MANIFEST points at has no Python 3.6 for" in block
    assert "Its lines: 3.13, 3.12, 3.11, 3.10." in block
    assert "reached its end-of-life on 2021-12-23" in block
    assert "The nearest line available is 3.10." in block
    assert "Write in runtime.txt:\n           python-3.11" in block
    assert "BP_PYTHON_ALLOW_EOL" not in block  # it cannot help


def test_grace_period_builds_with_a_loud_warning(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("runtime_txt")
    (app / "runtime.txt").write_text("python-3.10.13\n")
    result = lifecycle.build(app)
    assert (
        "End-of-life dates are checked against 2026-12-01, from PYTHON_CNB_TODAY" in result.output
    )
    assert "Selected Python 3.10.13" in result.output
    assert "[Warning: Python 3.10 has reached end-of-life: builds fail after 2027-01-31]" in (
        result.output
    )
    assert "Write in runtime.txt:\n    python-3.13" in result.output
    assert "Installed CPython 3.10.13" in result.output


def test_after_the_grace_period_only_allow_eol_builds_and_it_warns_every_time(
    lifecycle: Lifecycle,
) -> None:
    app = lifecycle.app("runtime_txt")
    (app / "runtime.txt").write_text("python-3.10.13\n")
    later = {"PYTHON_CNB_TODAY": "2027-02-01"}
    result = lifecycle.build(app, later, expect_success=False)
    block = assert_one_error_block(result, "Python 3.10 has reached end-of-life")
    assert "grace period of 3 months, until 2027-01-31" in block
    assert "Write in runtime.txt:\n           python-3.11" in block
    assert "set BP_PYTHON_ALLOW_EOL=true: every build will warn" in block

    warning = "[Warning: Python 3.10 is past end-of-life: built only because BP_PYTHON_ALLOW_EOL"
    allowed = {**later, "BP_PYTHON_ALLOW_EOL": "true"}
    first = lifecycle.build(app, allowed)
    assert "Selected Python 3.10.13" in first.output
    assert warning in first.output
    again = lifecycle.build(app, allowed)
    assert "Using cached Python 3.10.13" in again.output
    assert warning in again.output


def test_warning_six_months_before_end_of_life(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(lifecycle.app("runtime_txt"), {"PYTHON_CNB_TODAY": "2027-06-01"})
    assert "Selected Python 3.11.7" in result.output
    assert "[Warning: Python 3.11 reaches end-of-life on 2027-10-31]" in result.output
    assert "with a warning, for 3 months (until 2028-01-31)" in result.output


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


def test_without_a_manifest_the_packaged_list_offers_every_patch(lifecycle: Lifecycle) -> None:
    """The packaged buildpack reads src/python_cnb/data/cpython.toml (no download needed)."""
    result = lifecycle.build(
        lifecycle.app("flask-app"),
        {"BP_PYTHON_VERSION": "3.12.99"},
        unset=["BP_CPYTHON_MANIFEST"],
        expect_success=False,
    )
    block = assert_one_error_block(result, "Python 3.12.99 is not available")
    assert "The 3.12 releases available, newest first: 3.12.14, 3.12.13, 3.12.12," in block
    assert "3.12.1, 3.12.0. The newest is 3.12.14." in block
    assert "BP_CPYTHON_MANIFEST" not in block
