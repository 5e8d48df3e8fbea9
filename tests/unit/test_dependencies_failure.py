"""Reading why an install failed from the installer's output."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from python_cnb.config.index import IndexSettings
from python_cnb.dependencies.failure import (
    Diagnosis,
    PackageBuildFailed,
    WheelSupport,
    diagnose,
    explain,
    wheel_support,
)
from python_cnb.support.commands import CommandFailed
from python_cnb.support.simple_index import project_files
from tests.support.servers import FileServer

UV_GREENLET = """\
Resolved 3 packages in 10ms
  \u00d7 Failed to build `greenlet==3.0.1`
  ├─▶ The build backend returned an error
  ╰─▶ Call to `setuptools.build_meta.build_wheel` failed (exit status: 1)
      src/greenlet/greenlet.cpp:9:10: fatal error: Python.h: No such file or directory
      help: `greenlet` (v3.0.1) was included because `app` depends on `greenlet==3.0.1`
"""
PIP_MYSQL = """\
Collecting mysqlclient==2.2.4
  Building wheel for mysqlclient (pyproject.toml) ... error
  /bin/sh: 1: mysql_config: not found
  Exception: Can not find valid pkg-config name.
  ERROR: Failed building wheel for mysqlclient
Failed to build mysqlclient
"""
PIP_NO_GCC = """\
  Building wheel for brokenext (setup.py) ... error
  error: command 'gcc' failed: No such file or directory
  ERROR: Failed building wheel for brokenext
"""


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (
            UV_GREENLET,
            Diagnosis(
                "greenlet",
                "Python.h",
                "src/greenlet/greenlet.cpp:9:10: fatal error: Python.h: No such file or directory",
                "3.0.1",
            ),
        ),
        (
            PIP_MYSQL,
            Diagnosis("mysqlclient", "mysql_config", "/bin/sh: 1: mysql_config: not found"),
        ),
        (
            PIP_NO_GCC,
            Diagnosis("brokenext", "gcc", "error: command 'gcc' failed: No such file or directory"),
        ),
        (
            "  \u00d7 Failed to build `app @ file:///workspace`\n",
            Diagnosis("app", None, "\u00d7 Failed to build `app @ file:///workspace`"),
        ),
        ("error: No solution found when resolving dependencies\n", None),
    ],
)
def test_diagnose(output: str, expected: Diagnosis | None) -> None:
    assert diagnose(output) == expected


def test_explain_keeps_other_failures() -> None:
    failure = CommandFailed("uv pip sync", 1, "error: network unreachable")
    assert explain(failure, "3.13.9", "3.13", None) is failure
    explained = explain(CommandFailed("uv pip sync", 1, PIP_MYSQL), "3.13.9", "3.13", None)
    assert isinstance(explained, PackageBuildFailed)
    assert (explained.package, explained.missing, explained.python) == (
        "mysqlclient",
        "mysql_config",
        "3.13.9",
    )


_LINUX = "manylinux_2_17_x86_64.manylinux2014_x86_64"
GREENLET_FILES = (
    "greenlet-3.0.1.tar.gz",
    *(f"greenlet-3.0.1-cp3{m}-cp3{m}-{_LINUX}.whl" for m in range(8, 13)),
    "greenlet-3.0.1-cp313-cp313-musllinux_1_1_x86_64.whl",  # not this platform's
    "greenlet-3.0.1-cp312-cp312-win_amd64.whl",
    "greenlet-3.1.0-cp313-cp313-manylinux_2_17_aarch64.whl",  # another machine
    f"greenlet-3.1.1-cp313-cp313-{_LINUX}.whl",
    f"greenlet-3.2.0-cp313-cp313-{_LINUX}.whl",
    f"greenlet-3.0.2rc1-cp313-cp313-{_LINUX}.whl",  # a pre-release is not proposed
)


@pytest.fixture
def index(tmp_path: Path) -> Iterator[FileServer]:
    """A PEP 503 index on 127.0.0.1 whose greenlet page lists ``GREENLET_FILES``."""
    page = tmp_path / "simple" / "greenlet"
    page.mkdir(parents=True)
    links = "".join(f'<a href="../../files/{name}">{name}</a>\n' for name in GREENLET_FILES)
    (page / "index.html").write_text(f"<html><body>{links}</body></html>", encoding="utf-8")
    with FileServer(tmp_path) as server:
        yield server


def _lookup(server: FileServer) -> IndexSettings:
    return IndexSettings(index_url=server.url("simple/"))


def test_wheels_for_other_pythons_are_read_from_the_index_page(index: FileServer) -> None:
    files = project_files("Greenlet", _lookup(index), {})
    assert files is not None
    assert wheel_support(files, "greenlet", "3.0.1", "3.13", "amd64") == WheelSupport(
        "3.0.1", ("3.8", "3.9", "3.10", "3.11", "3.12"), "3.1.1"
    )
    # On arm64 only 3.1.0 has a wheel for 3.13; and 3.0.1 none at all: nothing to say.
    assert wheel_support(files, "greenlet", "3.0.1", "3.13", "arm64") is None
    # A release with a wheel for the chosen Python failed for another reason.
    assert wheel_support(files, "greenlet", "3.0.1", "3.12", "amd64") is None


def test_an_abi3_or_pure_wheel_fits_every_later_python() -> None:
    from python_cnb.support.simple_index import IndexFile

    abi3 = [IndexFile(f"pkg-1.0-cp39-abi3-{_LINUX}.whl", "u", None)]
    assert wheel_support(abi3, "pkg", "1.0", "3.13", "amd64") is None
    pure = [IndexFile("pkg-1.0-py3-none-any.whl", "u", None)]
    assert wheel_support(pure, "pkg", "1.0", "3.13", "amd64") is None


def test_explain_names_the_pythons_the_release_has_wheels_for(index: FileServer) -> None:
    settings = _lookup(index)
    failure = CommandFailed("uv pip sync", 1, UV_GREENLET)
    explained = explain(
        failure, "3.13.9", "3.13", None, lookup=lambda p: project_files(p, settings, {})
    )
    assert isinstance(explained, PackageBuildFailed)
    assert explained.wheels == WheelSupport(
        "3.0.1", ("3.8", "3.9", "3.10", "3.11", "3.12"), "3.1.1"
    )
    # pip's output names no version: the requirement's pin gives it.
    pip = CommandFailed("pip-sync", 1, "ERROR: Failed building wheel for greenlet\n")
    explained = explain(
        pip,
        "3.13.9",
        "3.13",
        None,
        lookup=lambda p: project_files(p, settings, {}),
        pins={"greenlet": "3.0.1"},
    )
    assert isinstance(explained, PackageBuildFailed) and explained.wheels is not None
    # A project the index does not have (a local path): nothing more to say.
    unknown = CommandFailed("uv pip sync", 1, "  \u00d7 Failed to build `brokenext==1.0`\n")
    explained = explain(
        unknown, "3.13.9", "3.13", None, lookup=lambda p: project_files(p, settings, {})
    )
    assert isinstance(explained, PackageBuildFailed) and explained.wheels is None
