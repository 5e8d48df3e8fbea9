"""Which source decides the Python version, and what happens to the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from python_cnb.app.files import AppFiles
from python_cnb.app.project_files import InvalidProjectFile, OutsideApp
from python_cnb.config.settings import Settings
from python_cnb.errors import project_file_problem
from python_cnb.python.requested import (
    first_request,
    read_requested_python_version,
    version_sources,
)
from python_cnb.python.version import (
    DEFAULT_ORIGIN,
    InvalidPythonVersion,
    RequestedPythonVersion,
)

ALL_SETTINGS = {
    "BP_PYTHON_VERSION": "3.14",
    "BP_CPYTHON_VERSION": "3.13",
    "BUILD_RUNTIMES": "3.12",
}


def _app(tmp_path: Path, python_version: str | None = "3.11\n", runtime: str | None = None) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    if python_version is not None:
        (app / ".python-version").write_text(python_version, encoding="utf-8")
    if runtime is not None:
        (app / "runtime.txt").write_text(runtime, encoding="utf-8")
    return app


def _requested(app: Path, env: dict[str, str]) -> RequestedPythonVersion:
    return read_requested_python_version(
        AppFiles(app), Settings.from_env(env).python_version_settings
    )


@pytest.mark.parametrize(
    ("unset", "text", "origin"),
    [
        ((), "3.14", "BP_PYTHON_VERSION"),
        (("BP_PYTHON_VERSION",), "3.13", "BP_CPYTHON_VERSION"),
        (("BP_PYTHON_VERSION", "BP_CPYTHON_VERSION"), "3.12", "BUILD_RUNTIMES"),
        (tuple(ALL_SETTINGS), "3.11", ".python-version"),
    ],
)
def test_precedence(tmp_path: Path, unset: tuple[str, ...], text: str, origin: str) -> None:
    app = _app(tmp_path, "3.11\n", "python-3.10.4\n")
    env = {name: value for name, value in ALL_SETTINGS.items() if name not in unset}
    requested = _requested(app, env)
    assert (requested.text, requested.origin) == (text, origin)


def test_runtime_txt_then_default(tmp_path: Path) -> None:
    app = _app(tmp_path, None, "python-3.10.4\n")
    assert _requested(app, {}) == RequestedPythonVersion("3.10.4", "runtime.txt", "==3.10.4")
    (app / "runtime.txt").unlink()
    assert _requested(app, {}) == RequestedPythonVersion("", DEFAULT_ORIGIN, "")
    assert _requested(app, {"BP_PYTHON_VERSION": "  "}).is_default


def test_nothing_logged_when_sources_agree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = _app(tmp_path, "3.12\n", "python-3.12\n")
    requested = _requested(app, {"BP_PYTHON_VERSION": "3.12.x"})
    assert (requested.origin, requested.specifier) == ("BP_PYTHON_VERSION", "==3.12.*")
    assert capsys.readouterr() == ("", "")


def test_disagreeing_weaker_sources_are_logged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = _app(tmp_path, "3.11\n", "python-3.10.4\n")
    requested = _requested(app, ALL_SETTINGS)
    assert requested.origin == "BP_PYTHON_VERSION"
    assert capsys.readouterr().out == (
        "Ignoring BP_CPYTHON_VERSION (3.13): BP_PYTHON_VERSION takes precedence\n"
        "Ignoring BUILD_RUNTIMES (3.12): BP_PYTHON_VERSION takes precedence\n"
        "Ignoring .python-version (3.11): BP_PYTHON_VERSION takes precedence\n"
        "Ignoring runtime.txt (3.10.4): BP_PYTHON_VERSION takes precedence\n"
    )


def test_invalid_weaker_sources_are_logged_not_raised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = _app(tmp_path, "system\n", "3.12.7\n")
    env = {"BP_PYTHON_VERSION": "3.12", "BUILD_RUNTIMES": "pypy3.10"}
    assert _requested(app, env).origin == "BP_PYTHON_VERSION"
    assert capsys.readouterr().out == (
        "Ignoring BUILD_RUNTIMES, which is not valid: BP_PYTHON_VERSION decides\n"
        "Ignoring .python-version, which is not valid: BP_PYTHON_VERSION decides\n"
        "Ignoring runtime.txt, which is not valid: BP_PYTHON_VERSION decides\n"
    )


def test_python_version_file_beats_an_invalid_runtime_txt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = _app(tmp_path, "3.12\n", "3.12\n")
    assert _requested(app, {}).origin == ".python-version"
    assert capsys.readouterr().out == (
        "Ignoring runtime.txt, which is not valid: .python-version decides\n"
    )


@pytest.mark.parametrize(
    ("env", "python_version", "origin", "text"),
    [
        ({"BP_PYTHON_VERSION": "latest"}, "3.12\n", "BP_PYTHON_VERSION", "latest"),
        ({"BP_CPYTHON_VERSION": "3.12.x.1"}, "3.12\n", "BP_CPYTHON_VERSION", "3.12.x.1"),
        ({"BUILD_RUNTIMES": "python3"}, "3.12\n", "BUILD_RUNTIMES", "python3"),
        ({}, "system\n", ".python-version", "system"),
    ],
)
def test_the_strongest_source_must_be_valid(
    tmp_path: Path, env: dict[str, str], python_version: str, origin: str, text: str
) -> None:
    app = _app(tmp_path, python_version, "python-3.12.7\n")
    with pytest.raises(InvalidPythonVersion) as caught:
        _requested(app, env)
    assert (caught.value.origin, caught.value.text) == (origin, text)


def test_an_invalid_runtime_txt_alone_raises(tmp_path: Path) -> None:
    app = _app(tmp_path, None, "3.12.7\n")
    with pytest.raises(InvalidPythonVersion) as caught:
        _requested(app, {})
    assert (caught.value.origin, caught.value.text) == ("runtime.txt", "3.12.7")


def test_version_sources_order(tmp_path: Path) -> None:
    app = _app(tmp_path, "3.11\n", "python-3.10.4\n")
    sources = version_sources(
        AppFiles(app), [("BP_PYTHON_VERSION", "3.14"), ("BUILD_RUNTIMES", "3.12")]
    )
    found = [source() for source in sources]
    # Settings first, then .python-version and runtime.txt; weaker sources may follow.
    assert [r.origin if r else None for r in found[:4]] == [
        "BP_PYTHON_VERSION",
        "BUILD_RUNTIMES",
        ".python-version",
        "runtime.txt",
    ]
    assert all(r is None for r in found[4:])


def test_first_request_skips_silent_sources_and_calls_each_once() -> None:
    calls: list[str] = []
    found = RequestedPythonVersion("3.12", "second", "==3.12.*")

    def silent() -> RequestedPythonVersion | None:
        calls.append("silent")
        return None

    def second() -> RequestedPythonVersion | None:
        calls.append("second")
        return found

    def third() -> RequestedPythonVersion | None:
        calls.append("third")
        return None

    assert first_request([silent, second, third]) is found
    assert calls == ["silent", "second", "third"]
    assert first_request([]) == RequestedPythonVersion("", DEFAULT_ORIGIN, "")


@pytest.mark.parametrize(
    ("lock", "reason"),
    [
        (
            '{"_meta": {"requires": {"python_version": 3.12}}}',
            "_meta.requires.python_version must be a string, but it is a number: 3.12",
        ),
        ('{"_meta": []}', "_meta must be a table, but it is an array: []"),
        ('{"_meta": {"requires": "3.12"}}', "_meta.requires must be a table, but it is a string"),
    ],
)
def test_wrong_typed_pipfile_lock_requires(tmp_path: Path, lock: str, reason: str) -> None:
    """LOW-6: `python_version = 3.12` (a number) meant no Python constraint at all."""
    app = _app(tmp_path, python_version=None)
    (app / "Pipfile.lock").write_text(lock, encoding="utf-8")
    with pytest.raises(InvalidProjectFile) as caught:
        _requested(app, {})
    assert caught.value.file == "Pipfile.lock"
    assert project_file_problem(caught.value.problem).startswith(reason)


def test_invalid_pipfile_next_to_its_lock_is_an_error(tmp_path: Path) -> None:
    """LOW-6: pipenv reads the Pipfile beside the lock; a broken one was never reported."""
    app = _app(tmp_path)
    (app / "Pipfile.lock").write_text('{"_meta": {}, "default": {}}', encoding="utf-8")
    (app / "Pipfile").write_text("[packages\nflask = '*'\n", encoding="utf-8")
    with pytest.raises(InvalidProjectFile) as caught:
        _requested(app, {})
    assert caught.value.file == "Pipfile"


def test_invalid_pipfile_without_a_lock_is_only_logged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = _app(tmp_path)
    (app / "Pipfile").write_text("[packages\n", encoding="utf-8")
    assert _requested(app, {}).origin == ".python-version"
    assert "Ignoring Pipfile, which cannot be parsed" in capsys.readouterr().out


def test_version_file_outside_the_app_is_refused(tmp_path: Path) -> None:
    """LOW-7: a .python-version that is a symlink out of the app is not read."""
    app = _app(tmp_path, python_version=None)
    (tmp_path / "elsewhere").write_text("3.12\n", encoding="utf-8")
    (app / ".python-version").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OutsideApp):
        _requested(app, {})
