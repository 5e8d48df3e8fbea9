"""The app's constraints on its build tools' versions ([tool.uv] required-version, uv.toml,
[tool.poetry] requires-poetry) and the platform's version setting, built with the runner
from the test index, which holds uv 0.13.7 and Poetry 2.5.0 beside the pinned releases."""

from __future__ import annotations

from pathlib import Path

from tests.support.assertions import assert_one_error_block
from tests.support.lifecycle import Lifecycle

OVERRIDE = "BP_PYTHON_PACKAGE_MANAGER_VERSION"


def _constrain(app: Path, old: str, new: str) -> None:
    pyproject = app / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert old in text
    pyproject.write_text(text.replace(old, new), encoding="utf-8")


def test_uv_required_version_chooses_uv(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("uv_required_version")
    result = lifecycle.build(app)
    shown = 'required-version = "<0.13.9" (pyproject.toml line 14)'
    assert f"Using uv 0.13.7, the newest release that satisfies {shown}" in result.output
    assert "Installed uv 0.13.7 from uv-0.13.7-" in result.output
    assert (
        "uv 0.13.7 from uv-0.13.7-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl "
        "(build only)" in result.output
    )  # not hash-checked: no hash is known
    assert lifecycle.start().wait_for_http("/")[0] == 200

    # Allowing the pinned uv brings it back: the cached uv is discarded, saying why.
    _constrain(app, '"<0.13.9"', '">=0.13"')
    result = lifecycle.build(app)
    assert 'uv 0.13.9, the pinned version, satisfies required-version = ">=0.13"' in result.output
    assert "Discarding cached uv 0.13.9 since:" in result.output
    assert "uv 0.13.7 (unpinned)" in result.output
    assert "(build only, SHA-256 verified)" in result.output


def test_uv_toml_constrains_a_pip_app(lifecycle: Lifecycle) -> None:
    """uv is the engine of requirement sets: its constraint applies there too."""
    app = lifecycle.app("flask_noprocfile")
    (app / "uv.toml").write_text('# the app\'s uv settings\nrequired-version = "==0.13.7"\n')
    result = lifecycle.build(app)
    assert (
        'Using uv 0.13.7, the newest release that satisfies required-version = "==0.13.7" '
        "(uv.toml line 2)"
    ) in result.output


def test_the_version_setting_pins_uv_for_a_pip_app(lifecycle: Lifecycle) -> None:
    """It was ignored when uv installs a requirement set (issue 12)."""
    result = lifecycle.build(lifecycle.app("flask_noprocfile"), {OVERRIDE: "0.13.7"})
    assert f"Using uv 0.13.7 ({OVERRIDE}; not hash-checked)" in result.output
    assert "Installed uv 0.13.7 from uv-0.13.7-" in result.output


def test_a_version_setting_the_constraint_refuses(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(
        lifecycle.app("uv_required_version"), {OVERRIDE: "0.13.9"}, expect_success=False
    )
    block = assert_one_error_block(result, f"{OVERRIDE}=0.13.9 does not satisfy required-version")
    assert "pyproject.toml line 14:" in block
    assert 'required-version = "<0.13.9"' in block
    assert f"Unset {OVERRIDE}" in block


def test_no_uv_release_satisfies_the_constraint(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("uv_required_version")
    _constrain(app, '"<0.13.9"', '">=0.14"')
    result = lifecycle.build(app, expect_success=False)
    block = assert_one_error_block(result, "No uv release satisfies required-version")
    assert "pyproject.toml line 14:" in block and ">=0.14" in block
    assert "the package index lists: 0.13.9, 0.13.7" in block
    assert f"Or set {OVERRIDE}" in block


def test_an_invalid_constraint_names_its_line(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("uv_required_version")
    _constrain(app, '"<0.13.9"', '"latest"')
    result = lifecycle.build(app, expect_success=False)
    block = assert_one_error_block(result, "Invalid required-version in pyproject.toml")
    assert "pyproject.toml line 14:" in block and "latest" in block
    assert "PEP 440 version specifier" in block


def test_requires_poetry_chooses_poetry(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("poetry_requires_poetry")
    result = lifecycle.build(app)
    assert (
        'Using poetry 2.5.0, the newest release that satisfies requires-poetry = "<2.5.1" '
        "(pyproject.toml line 11)"
    ) in result.output
    assert "Installed Poetry 2.5.0 (build only)" in result.output
    assert lifecycle.start().wait_for_http("/")[0] == 200


def test_a_failing_tool_names_what_chose_its_version(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(lifecycle.app("uv_app"), {OVERRIDE: "0.13.8"}, expect_success=False)
    block = assert_one_error_block(result, "Could not install uv 0.13.8")
    assert f"{OVERRIDE}=0.13.8 chose uv 0.13.8, not the version the buildpack pins" in block
