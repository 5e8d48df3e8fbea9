"""The tool venv layer: made with the interpreter, the tool set installed hash-checked from
an index on 127.0.0.1, then kept or discarded (with its reasons) on the next build.

The interpreter is the one running the tests, standing in for the python layer's; pip is the
real one ``venv`` installs into the tool venv.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import sys
from pathlib import Path
from typing import Iterator, Sequence

import pytest

from python_cnb.cnb import toml_file
from python_cnb.cnb.context import BuildContext
from python_cnb.config.index import IndexSettings
from python_cnb.config.tool_specs import ToolSpec
from python_cnb.layers import tools
from python_cnb.layers.python import InstalledPython
from python_cnb.layers.tools import ToolInstallFailed, ToolLayer, ToolVenv, tool_venv_layer
from python_cnb.python.distributions import Distribution
from python_cnb.python.version import PythonVersion
from tests.support.contexts import build_context
from tests.support.recorded import RecordedCommands
from tests.support.wheels import make_wheel, sha256_of
from tools import local_index

PROJECT = "demo-tool"
VERSION = PythonVersion.parse(platform.python_version())
DISTRIBUTION = Distribution(VERSION, "https://example.com/cpython", "0" * 64, "linux", "amd64")
DEMO = ToolLayer("demo", "Demo", layout="1")
ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PIP_CONFIG_FILE": os.devnull}


def this_python(distribution: Distribution = DISTRIBUTION) -> InstalledPython:
    python = InstalledPython(Path(sys.base_prefix), VERSION, distribution, reused=True)
    if not python.executable.is_file():
        pytest.skip(f"this interpreter is not at {python.executable}")
    return python


@pytest.fixture
def index(tmp_path: Path) -> Iterator[local_index.IndexServer]:
    root = tmp_path / "index"
    make_wheel(root / "files", PROJECT, "1.0", payload=b"VALUE = 1\n")
    with local_index.serve(root) as server:
        yield server


def spec_for(tmp_path: Path, index: local_index.IndexServer, name: str = "demo.txt") -> ToolSpec:
    """A hashed requirement set pinning the index's one wheel, as data/tools/*.txt do."""
    wheel = index.root / "files" / f"{PROJECT.replace('-', '_')}-1.0-py3-none-any.whl"
    requirements = tmp_path / name
    requirements.write_text(f"{PROJECT}==1.0 --hash=sha256:{sha256_of(wheel)}\n")
    return ToolSpec(PROJECT, "1.0", requirements=requirements)


@pytest.fixture
def ctx(tmp_path: Path) -> BuildContext:
    return build_context(tmp_path)


def spy(monkeypatch: pytest.MonkeyPatch, *, fake: Sequence[str] = ()) -> RecordedCommands:
    commands = RecordedCommands(fake=fake)
    monkeypatch.setattr(tools, "run_quiet", commands)
    return commands


def layer(ctx: BuildContext, python: InstalledPython, spec: ToolSpec, index: str) -> ToolVenv:
    return tool_venv_layer(ctx, python, DEMO, spec, IndexSettings(index), ENV)


def test_a_fresh_venv_gets_the_tool_set_hash_checked_with_its_own_pip(
    ctx: BuildContext,
    tmp_path: Path,
    index: local_index.IndexServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    commands = spy(monkeypatch)
    spec = spec_for(tmp_path, index)
    venv = layer(ctx, this_python(), spec, index.url)
    assert capsys.readouterr().out == ""  # nothing was restored: nothing to say
    assert venv.fresh
    assert venv.home == ctx.layers_dir / "demo"
    assert (
        venv.layout.site_packages == venv.home / "lib" / f"python{VERSION.line}" / "site-packages"
    )
    assert (
        (venv.layout.site_packages / "demo_tool" / "__init__.py")
        .read_text()
        .endswith("VALUE = 1\n")
    )
    assert (venv.layout.site_packages / "pip").is_dir()
    make, install = commands.commands
    assert make[-3:] == ["venv", "--clear", str(venv.home)]
    assert install[:4] == [str(venv.python), "-I", "-m", "pip"]
    assert "--require-hashes" in install
    assert install[install.index("--index-url") + 1] == index.url
    metadata = toml_file.read(ctx.layers_dir / "demo.toml")
    assert metadata["types"] == {"build": True, "launch": False, "cache": True}
    assert metadata["metadata"] == {
        "python_version": str(VERSION),
        "python_checksum": DISTRIBUTION.sha256,
        "arch": "amd64",
        "tool": spec.fingerprint,
        "layout": "1",
    }


def test_an_unchanged_tool_venv_is_reused_and_nothing_runs(
    ctx: BuildContext,
    tmp_path: Path,
    index: local_index.IndexServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = spec_for(tmp_path, index)
    layer(ctx, this_python(), spec, index.url)
    capsys.readouterr()
    commands = spy(monkeypatch)
    venv = layer(ctx, this_python(), spec, index.url)
    assert capsys.readouterr().out == "Using cached Demo 1.0\n"
    assert not venv.fresh
    assert commands.commands == []
    assert (venv.layout.site_packages / "demo_tool").is_dir()


def test_another_tool_set_discards_the_venv(
    ctx: BuildContext,
    tmp_path: Path,
    index: local_index.IndexServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = spec_for(tmp_path, index)
    layer(ctx, this_python(), first, index.url)
    capsys.readouterr()
    second = spec_for(tmp_path, index, "other.txt")
    assert first.requirements is not None and second.requirements is not None
    second.requirements.write_text("# regenerated\n" + first.requirements.read_text())
    venv = layer(ctx, this_python(), second, index.url)
    assert capsys.readouterr().out == (
        "Discarding cached Demo 1.0 since:\n"
        f"  - The tool set changed from {first.fingerprint} to {second.fingerprint}\n"
    )
    assert venv.fresh
    assert (venv.layout.site_packages / "demo_tool").is_dir()


def test_another_interpreter_discards_the_venv(
    ctx: BuildContext,
    tmp_path: Path,
    index: local_index.IndexServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = spec_for(tmp_path, index)
    layer(ctx, this_python(), spec, index.url)
    capsys.readouterr()
    rebuilt = dataclasses.replace(DISTRIBUTION, sha256="1" * 64)
    venv = layer(ctx, this_python(rebuilt), spec, index.url)
    assert capsys.readouterr().out == (
        "Discarding cached Demo 1.0 since:\n"
        f"  - The CPython archive checksum changed from {'0' * 12}… to {'1' * 12}…\n"
    )
    assert venv.fresh


def test_with_uv_the_venv_has_no_pip_and_uv_installs(
    ctx: BuildContext,
    tmp_path: Path,
    index: local_index.IndexServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    uv = tmp_path / "uv"
    commands = spy(monkeypatch, fake=(str(uv),))
    spec = spec_for(tmp_path, index)
    settings = IndexSettings(index.url, trusted_hosts=("127.0.0.1",))
    venv = tool_venv_layer(ctx, this_python(), DEMO, spec, settings, ENV, uv=uv)
    make, install = commands.commands
    assert make[-4:] == ["venv", "--without-pip", "--clear", str(venv.home)]
    assert not (venv.layout.site_packages / "pip").exists()
    requirements = install[install.index("-r") + 1]
    assert install == [
        str(uv),
        "pip",
        "install",
        "--python",
        str(venv.home / "bin" / "python"),
        "--no-progress",
        "--require-hashes",
        "-r",
        requirements,
        "--index-url",
        index.url,
        "--allow-insecure-host",
        "127.0.0.1",
    ]


def test_a_failed_install_is_the_tools_and_leaves_no_layer_to_reuse(
    ctx: BuildContext,
    tmp_path: Path,
    index: local_index.IndexServer,
) -> None:
    spec = spec_for(tmp_path, index)
    assert spec.requirements is not None
    spec.requirements.write_text(f"{PROJECT}==1.0 --hash=sha256:{'ab' * 32}\n")
    with pytest.raises(ToolInstallFailed) as caught:
        layer(ctx, this_python(), spec, index.url)
    assert (caught.value.tool, caught.value.version, caught.value.offline) == (
        PROJECT,
        "1.0",
        False,
    )
    assert "HASH" in caught.value.output.upper()
    assert not (ctx.layers_dir / "demo.toml").exists()
