"""What unit tests build their inputs from: a BuildContext, a fixture app, the test Pythons.

One builder each, so that a change to ``BuildContext`` or ``InstalledPython`` is made here
once; and interpreters are discovered, never named by a machine path, so that a test needing
a CPython line this machine lacks skips and says which one.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional

import pytest

from python_cnb.cnb.buildpack_toml import BuildpackDescriptor
from python_cnb.cnb.context import BuildContext, Target
from python_cnb.cnb.plan import BuildpackPlan
from python_cnb.layers.python import InstalledPython
from python_cnb.python.distributions import Distribution
from python_cnb.python.version import PythonVersion
from python_cnb.support.simple_index import PROXY_VARIABLES
from tests.support.wheels import make_wheel

RUNNING = PythonVersion(*sys.version_info[:3])
"""The version of the interpreter running the tests."""
TARGET = Target("linux", "amd64", distro_name="ubuntu", distro_version="24.04")


def build_context(
    tmp_path: Path,
    *,
    app_dir: Optional[Path] = None,
    layers_dir: Optional[Path] = None,
    env: Optional[Mapping[str, str]] = None,
    servers: Optional[Mapping[str, str]] = None,
    version: str = "0.1.0",
    sbom_formats: tuple[str, ...] = (),
) -> BuildContext:
    """A build context whose directories (``app``, ``layers``, ``platform``, ``buildpack``
    under ``tmp_path`` unless given) exist; ``servers`` is the descriptor's
    ``[metadata.servers]`` table, ``version`` and ``sbom_formats`` the buildpack's."""
    ctx = BuildContext(
        app_dir=app_dir or tmp_path / "app",
        layers_dir=layers_dir or tmp_path / "layers",
        platform_dir=tmp_path / "platform",
        buildpack_dir=tmp_path / "buildpack",
        plan=BuildpackPlan(),
        target=TARGET,
        buildpack=BuildpackDescriptor(
            api="0.10",
            id="python-cnb/python",
            version=version,
            sbom_formats=sbom_formats,
            metadata={} if servers is None else {"servers": dict(servers)},
        ),
        env={} if env is None else dict(env),
    )
    for directory in (ctx.app_dir, ctx.layers_dir, ctx.platform_dir, ctx.buildpack_dir):
        directory.mkdir(parents=True, exist_ok=True)
    return ctx


def installed_python(
    tmp_path: Path,
    version: Optional[PythonVersion] = None,
    *,
    checksum: str = "0" * 64,
    reused: bool = True,
) -> InstalledPython:
    """The python layer's result, its home at ``tmp_path/python``.

    Without ``version``, it is the interpreter running the tests (``bin/python3.X`` links to
    it, so code that runs it works); with one, nothing is there to run.
    """
    home = tmp_path / "python"
    if version is None:
        version = RUNNING
        (home / "bin").mkdir(parents=True, exist_ok=True)
        link = home / "bin" / f"python{version.line}"
        if not link.is_symlink():
            link.symlink_to(Path(sys.executable).resolve())
    distribution = Distribution(
        version, "https://example.com/cpython.tar.gz", checksum, "linux", "amd64"
    )
    return InstalledPython(home, version, distribution, reused=reused)


def write_app(tmp_path: Path, files: Mapping[str, str], *, name: str = "app") -> Path:
    """``tmp_path/<name>`` holding ``files`` (relative path -> text; parents made)."""
    app = tmp_path / name
    app.mkdir(parents=True, exist_ok=True)
    for relative, text in files.items():
        path = app / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return app


# -- the test interpreters -------------------------------------------------------------------

_PYENV_VERSION = re.compile(r"(3)\.(\d+)\.(\d+)$")
"""A pyenv build of a CPython 3 release (not ``3.13-dev``, ``3.13.0t`` or ``pypy3.10``)."""
_LINES = tuple((3, minor) for minor in range(6, 20))


def pyenv_root(env: Optional[Mapping[str, str]] = None) -> Path:
    """``$PYENV_ROOT``, else what ``pyenv root`` says, else pyenv's default, ``~/.pyenv``."""
    env = os.environ if env is None else env
    if env.get("PYENV_ROOT"):
        return Path(env["PYENV_ROOT"])
    pyenv = shutil.which("pyenv", path=env.get("PATH"))
    if pyenv is not None:
        result = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False)
        if result.returncode == 0 and result.stdout.strip():
            return Path(result.stdout.strip())
    return Path.home() / ".pyenv"


def _pyenv_builds(root: Path) -> Iterator[tuple[tuple[int, int, int], Path]]:
    for home in (root / "versions").glob("*"):
        match = _PYENV_VERSION.match(home.name)
        if match is None:
            continue
        major, minor, micro = (int(part) for part in match.groups())
        binary = home / "bin" / f"python{major}.{minor}"
        if binary.is_file():
            yield (major, minor, micro), binary


@functools.cache
def pythons() -> Mapping[tuple[int, int], Path]:
    """One CPython 3 per line on this machine, as ``{(3, 12): .../python3.12}``, oldest first.

    pyenv's newest build of a line wins; otherwise a ``python3.X`` binary on PATH (resolved,
    so that a venv's link names its base interpreter, which runs without the venv).
    """
    found: dict[tuple[int, int], tuple[tuple[int, int, int], Path]] = {}
    for version, binary in _pyenv_builds(pyenv_root()):
        line = version[:2]
        if line not in found or found[line][0] < version:
            found[line] = (version, binary)
    chosen = {line: binary for line, (_, binary) in found.items()}
    for line in _LINES:
        on_path = _on_path(f"python{line[0]}.{line[1]}")
        if line not in chosen and on_path is not None:
            chosen[line] = on_path.resolve()
    return dict(sorted(chosen.items()))


def _on_path(name: str) -> Optional[Path]:
    """The first executable ``name`` on PATH that is a binary: a pyenv shim or another
    wrapper script is no interpreter a test may link or copy."""
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(directory or ".", name)
        if candidate.is_file() and os.access(candidate, os.X_OK):
            with candidate.open("rb") as file:
                if file.read(2) != b"#!":
                    return candidate
    return None


def python(line: str) -> Optional[Path]:
    """This machine's CPython ``line`` (``"3.9"``), or None."""
    major, minor = (int(part) for part in line.split("."))
    return pythons().get((major, minor))


def missing(line: str) -> str:
    """The reason a test that needs CPython ``line`` skips."""
    return f"needs a CPython {line}: none under {pyenv_root() / 'versions'} or on PATH"


def needs_python(line: str) -> Any:
    """A mark: skip the test unless this machine has CPython ``line``."""
    return pytest.mark.skipif(python(line) is None, reason=missing(line))


def require_python(line: str) -> Path:
    """CPython ``line``, or skip the calling test saying which one it needs."""
    found = python(line)
    if found is None:
        pytest.skip(missing(line))
    return found


# -- a package index's fixtures --------------------------------------------------------------
# A module gets them by importing them (``clear_proxies`` is then autouse there); tests ask
# for them by their fixture names, ``no_proxies`` and ``root``.

INDEX_PROJECT = "demo-tool"
INDEX_WHEEL = "demo_tool-1.0-py3-none-any.whl"


@pytest.fixture(name="no_proxies", autouse=True)
def clear_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's proxy variables would make every direct fetch give up."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(name="root")
def index_root(tmp_path: Path) -> Path:
    """An index root (``tmp_path/index``) holding demo-tool 1.0 and other-project 2.0."""
    index = tmp_path / "index"
    make_wheel(index / "files", INDEX_PROJECT, "1.0")
    make_wheel(index / "files", "other-project", "2.0")
    return index
