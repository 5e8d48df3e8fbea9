"""``download_wheel``: uv's pinned wheel straight from the index, else with the bundled pip.

The index is the repository's local one on 127.0.0.1; pip, when it runs, is the real bundled
pip of this interpreter.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from python_cnb.config.index import IndexSettings
from python_cnb.config.tool_specs import ToolSpec
from python_cnb.layers import uv
from python_cnb.layers.python import InstalledPython
from python_cnb.layers.tools import ToolInstallFailed
from python_cnb.layers.uv import bundled_pip, download_wheel
from python_cnb.python.distributions import Distribution
from python_cnb.python.version import PythonVersion
from tests.support.contexts import INDEX_PROJECT as PROJECT
from tests.support.contexts import INDEX_WHEEL as WHEEL
from tests.support.contexts import clear_proxies, index_root  # noqa: F401 (the fixtures)
from tests.support.recorded import RecordedCommands
from tests.support.wheels import sha256_of
from tools import local_index

VERSION = PythonVersion.parse(platform.python_version())
DISTRIBUTION = Distribution(VERSION, "https://example.com/cpython", "0" * 64, "linux", "amd64")
ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PIP_CONFIG_FILE": os.devnull}


def this_python() -> InstalledPython:
    """The interpreter running the tests, as if it were the python layer's (for real pip)."""
    python = InstalledPython(Path(sys.base_prefix), VERSION, DISTRIBUTION, reused=True)
    try:
        bundled_pip(python)
    except IndexError:
        pytest.skip("this interpreter has no bundled pip wheel (ensurepip)")
    return python


def no_python(tmp_path: Path) -> InstalledPython:
    """An interpreter that does not exist: anything that runs it fails."""
    return InstalledPython(tmp_path / "no-python", VERSION, DISTRIBUTION, reused=True)


@pytest.fixture
def index(root: Path) -> Iterator[local_index.IndexServer]:
    with local_index.serve(root) as server:
        yield server


@pytest.fixture
def destination(tmp_path: Path) -> Path:
    """Like install_uv's temporary directory: it exists."""
    directory = tmp_path / "download"
    directory.mkdir()
    return directory


@pytest.fixture
def spec(root: Path) -> ToolSpec:
    return ToolSpec(PROJECT, "1.0", hashes=("0" * 64, sha256_of(root / "files" / WHEEL)))


def spy_pip(monkeypatch: pytest.MonkeyPatch, *, passthrough: bool) -> RecordedCommands:
    pip = RecordedCommands(run=passthrough)
    monkeypatch.setattr("python_cnb.layers.uv.run_quiet", pip)
    return pip


def test_direct_fetch_runs_no_pip(
    index: local_index.IndexServer,
    spec: ToolSpec,
    root: Path,
    tmp_path: Path,
    destination: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pip = spy_pip(monkeypatch, passthrough=False)
    wheel = download_wheel(
        no_python(tmp_path), spec, destination, IndexSettings(index.url), ENV, tmp_path
    )
    assert wheel == destination / "wheels" / WHEEL
    assert wheel.read_bytes() == (root / "files" / WHEEL).read_bytes()
    assert pip.commands == []
    assert not (destination / "requirement.txt").exists()
    assert [(path, status) for _, path, status in index.requests] == [
        (f"/simple/{PROJECT}/", 200),
        (f"/files/{WHEEL}", 200),
    ]


def test_pip_when_the_direct_fetch_returns_none(
    index: local_index.IndexServer,
    spec: ToolSpec,
    root: Path,
    tmp_path: Path,
    destination: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(uv, "fetch_pinned", lambda *args: calls.append(args))
    pip = spy_pip(monkeypatch, passthrough=True)
    wheel = download_wheel(
        this_python(), spec, destination, IndexSettings(index.url), ENV, tmp_path
    )
    assert [call[:2] for call in calls] == [(PROJECT, spec.hashes)]
    assert wheel == destination / "wheels" / WHEEL
    assert wheel.read_bytes() == (root / "files" / WHEEL).read_bytes()
    [command] = pip.commands
    assert command[command.index("--index-url") + 1] == index.url
    assert "--require-hashes" in command
    assert (destination / "requirement.txt").read_text() == (
        f"{PROJECT}==1.0 --hash=sha256:{'0' * 64} --hash=sha256:{spec.hashes[1]}\n"
    )
    assert (f"/files/{WHEEL}", 200) in [(path, status) for _, path, status in index.requests]


def test_pip_for_settings_only_pip_knows(
    index: local_index.IndexServer,
    spec: ToolSpec,
    tmp_path: Path,
    destination: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A trusted host: the real fetch_pinned declines, without a request; pip downloads."""
    pip = spy_pip(monkeypatch, passthrough=True)
    settings = IndexSettings(index.url, trusted_hosts=("127.0.0.1",))
    wheel = download_wheel(this_python(), spec, destination, settings, ENV, tmp_path)
    assert wheel.name == WHEEL
    [command] = pip.commands
    assert command[-2:] == ["--trusted-host", "127.0.0.1"]


def test_pip_failure_after_no_direct_match(
    index: local_index.IndexServer,
    tmp_path: Path,
    destination: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No file with the pinned hash: the direct fetch finds none, pip refuses the file."""
    pip = spy_pip(monkeypatch, passthrough=True)
    spec = ToolSpec(PROJECT, "1.0", hashes=("ab" * 32,))
    with pytest.raises(ToolInstallFailed) as caught:
        download_wheel(this_python(), spec, destination, IndexSettings(index.url), ENV, tmp_path)
    assert len(pip.commands) == 1
    assert (caught.value.tool, caught.value.version, caught.value.offline) == (
        PROJECT,
        "1.0",
        False,
    )
    assert "HASH" in caught.value.output.upper()
    assert not list((destination / "wheels").glob("*"))


def test_overridden_version_goes_to_pip_unhashed(
    index: local_index.IndexServer,
    tmp_path: Path,
    destination: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A platform override pins no hash: nothing to look up directly."""
    monkeypatch.setattr(uv, "fetch_pinned", lambda *args: pytest.fail("direct fetch tried"))
    pip = spy_pip(monkeypatch, passthrough=True)
    spec = ToolSpec(PROJECT, "1.0", hashes=("ab" * 32,), overridden=True)
    wheel = download_wheel(
        this_python(), spec, destination, IndexSettings(index.url), ENV, tmp_path
    )
    assert wheel.name == WHEEL
    [command] = pip.commands
    assert "--require-hashes" not in command
    assert (destination / "requirement.txt").read_text() == f"{PROJECT}==1.0\n"
