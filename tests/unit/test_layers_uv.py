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
from tests.support.contexts import (  # noqa: F401 (the fixtures)
    build_context,
    clear_proxies,
    index_root,
)
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


# --- the uv a self-contained package carries ----------------------------------------------------

CARRIED_WHEEL_SHA = "c" * 64


def carry(buildpack_dir: Path, *, version: str = "0.13.9", arch: str = "amd64") -> Path:
    """A buildpack that carries a uv (a script answering ``--version``) and its record, the
    way ``make package`` writes them (literal paths: the layout is a contract)."""
    binary = buildpack_dir / "tools" / "uv" / "bin" / "uv"
    binary.parent.mkdir(parents=True)
    binary.write_text(f"#!/bin/sh\necho 'uv {version} (carried)'\n")
    binary.chmod(0o755)
    (buildpack_dir / "tools" / "uv" / "carried.toml").write_text(
        f'version = "{version}"\narch = "{arch}"\nwheel = "uv-{version}-py3-none-any.whl"\n'
        f'wheel-sha256 = "{CARRIED_WHEEL_SHA}"\nsha256 = "{sha256_of(binary)}"\n'
    )
    return binary


class Fetched(Exception):
    """download_wheel was called: the carried uv was not used."""


@pytest.fixture
def no_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    def fetch(*args: Any, **kwargs: Any) -> Path:
        raise Fetched()

    monkeypatch.setattr("python_cnb.layers.uv.download_wheel", fetch)


PINNED = ToolSpec("uv", "0.13.9", hashes=("0" * 64, CARRIED_WHEEL_SHA))
OFFLINE = IndexSettings(index_url="http://127.0.0.1:9/simple/", no_index=True)


def test_the_carried_uv_runs_in_place_and_nothing_is_fetched(
    tmp_path: Path, no_fetch: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """No layer copies it (it would be cached, restored and checked on every build); a uv
    layer an earlier build left (a fetched uv) is removed, so the cache does not keep it."""
    ctx = build_context(tmp_path)
    carried = carry(ctx.buildpack_dir)
    left = ctx.layers_dir / "uv"
    (left / "bin").mkdir(parents=True)
    (left / "bin" / "uv").write_text("#!/bin/sh\necho uv 0.13.8\n")
    (ctx.layers_dir / "uv.toml").write_text("[types]\ncache = true\nbuild = true\n")

    tool = uv.install_uv(ctx, no_python(tmp_path), PINNED, OFFLINE, ENV)

    assert (tool.binary, tool.version) == (carried, "0.13.9")
    assert not left.exists() and not (ctx.layers_dir / "uv.toml").exists()
    assert "Using uv 0.13.9 carried by the buildpack" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("carried", "spec"),
    [
        ({"version": "0.13.8"}, PINNED),
        ({"arch": "arm64"}, PINNED),
        ({}, ToolSpec("uv", "0.13.9", hashes=("0" * 64,))),
        ({}, ToolSpec("uv", "0.13.9", overridden=True)),
    ],
    ids=["other-version", "other-arch", "unpinned-wheel", "overridden"],
)
def test_a_carried_uv_that_is_not_the_wanted_one_is_not_used(
    tmp_path: Path, no_fetch: None, carried: dict[str, str], spec: ToolSpec
) -> None:
    ctx = build_context(tmp_path)
    carry(ctx.buildpack_dir, **carried)
    with pytest.raises(Fetched):
        uv.install_uv(ctx, no_python(tmp_path), spec, OFFLINE, ENV)


def test_a_damaged_carried_uv_is_not_used(
    tmp_path: Path, no_fetch: None, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = build_context(tmp_path)
    carry(ctx.buildpack_dir).write_text("#!/bin/sh\necho 'uv 0.13.9 (tampered)'\n")
    with pytest.raises(Fetched):
        uv.install_uv(ctx, no_python(tmp_path), PINNED, OFFLINE, ENV)
    assert "[Warning: The buildpack's own uv 0.13.9 is damaged]" in capsys.readouterr().out


def test_the_slim_package_fetches(tmp_path: Path, no_fetch: None) -> None:
    ctx = build_context(tmp_path)  # no tools/uv/ in the buildpack
    with pytest.raises(Fetched):
        uv.install_uv(ctx, no_python(tmp_path), PINNED, OFFLINE, ENV)


def test_an_unreadable_carried_record_means_fetching(tmp_path: Path, no_fetch: None) -> None:
    ctx = build_context(tmp_path)
    carry(ctx.buildpack_dir)
    (ctx.buildpack_dir / "tools" / "uv" / "carried.toml").write_text('version = "0.13.9"\n')
    with pytest.raises(Fetched):
        uv.install_uv(ctx, no_python(tmp_path), PINNED, OFFLINE, ENV)
