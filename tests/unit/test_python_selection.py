"""The "Determining Python version" step: the request, the manifest, the choice among the
distributions themselves, the lock veto, the warnings and the mirror."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from python_cnb.app.files import AppFiles
from python_cnb.cnb.context import BuildContext
from python_cnb.config.settings import Settings
from python_cnb.python.distributions import Distribution
from python_cnb.python.selection import by_version, determine_python
from python_cnb.python.version import LockedPythonMismatch, PythonVersion
from python_cnb.support.download import ssl_context
from tests.support.contexts import build_context

ENTRY = """
[[dependencies]]
id = "cpython"
version = "{version}"
uri = "https://example.com/cpython-{version}-{arch}.tar.gz"
checksum = "sha256:{checksum}"
os = "linux"
arch = "{arch}"
"""


def manifest(path: Path, *entries: tuple[str, str, str]) -> Path:
    path.write_text(
        "".join(ENTRY.format(version=v, arch=a, checksum=c * 64) for v, a, c in entries)
    )
    return path


def step(ctx: BuildContext, lock_files: tuple[str, ...] = ()) -> Distribution:
    settings = Settings.from_env(ctx.env)
    return determine_python(
        ctx, AppFiles(ctx.app_dir, ctx.env), settings, (), lock_files, ssl_context()
    ).distribution


@pytest.fixture
def ctx(tmp_path: Path) -> BuildContext:
    ctx = build_context(tmp_path)
    path = manifest(
        tmp_path / "manifest.toml",
        ("3.12.1", "amd64", "a"),
        ("3.12.3", "amd64", "b"),
        ("3.12.3", "amd64", "c"),  # listed twice: the first one counts
        ("3.12.9", "arm64", "d"),  # another architecture: never offered
        ("3.13.0", "amd64", "e"),
    )
    env = {
        "BP_CPYTHON_MANIFEST": str(path),
        "PYTHON_CNB_TODAY": "2025-06-01",
    }
    return dataclasses.replace(ctx, env=env)


def test_by_version_keeps_the_first_of_a_version() -> None:
    first = Distribution(PythonVersion(3, 12, 3), "u1", "1" * 64, "linux", "amd64")
    second = dataclasses.replace(first, uri="u2")
    assert by_version([first, second]) == {PythonVersion(3, 12, 3): first}


def test_the_chosen_distribution_is_returned_itself(
    ctx: BuildContext, capsys: pytest.CaptureFixture[str]
) -> None:
    (ctx.app_dir / ".python-version").write_text("3.12\n")
    distribution = step(ctx)
    assert distribution.version == PythonVersion(3, 12, 3)
    assert distribution.sha256 == "b" * 64
    assert distribution.arch == "amd64"
    log = capsys.readouterr().out
    assert "Python 3.12 requested by .python-version\n" in log
    assert "Selected Python 3.12.3\n" in log


def test_an_older_patch_gets_the_newer_patch_warning(
    ctx: BuildContext, capsys: pytest.CaptureFixture[str]
) -> None:
    (ctx.app_dir / ".python-version").write_text("3.12.1\n")
    assert step(ctx).sha256 == "a" * 64
    log = capsys.readouterr().out
    assert "Python 3.12.1 is not the newest 3.12 release" in log
    assert "Python 3.12.3 is available, with fixes 3.12.1 lacks." in log


def test_no_request_gets_the_newest_and_a_tip(
    ctx: BuildContext, capsys: pytest.CaptureFixture[str]
) -> None:
    assert step(ctx).version == PythonVersion(3, 13, 0)
    log = capsys.readouterr().out
    assert "No Python version requested: using the newest available\n" in log
    assert "Tip: pin the version with a .python-version file containing 3.13\n" in log


def test_a_lock_file_vetoes_the_choice(ctx: BuildContext) -> None:
    (ctx.app_dir / "uv.lock").write_text('version = 1\nrequires-python = ">=3.13"\n')
    (ctx.app_dir / ".python-version").write_text("3.12\n")
    with pytest.raises(LockedPythonMismatch):
        step(ctx, ("uv.lock",))
    assert step(ctx, ()).version == PythonVersion(3, 12, 3)  # not installed from: no veto


def test_the_mirror_rewrites_the_chosen_uri(ctx: BuildContext) -> None:
    ctx = dataclasses.replace(
        ctx, env={**ctx.env, "BP_DEPENDENCY_MIRROR": "https://mirror.example.org/{originalHost}"}
    )
    (ctx.app_dir / ".python-version").write_text("3.13\n")
    assert step(ctx).uri == "https://mirror.example.org/example.com/cpython-3.13.0-amd64.tar.gz"
