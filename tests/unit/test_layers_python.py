"""The python layer's keep-or-discard decision, with its reasons, against a real CPython.

The archives are the test mirror's (the machine's pyenv CPythons packed like
python-build-standalone), downloaded over HTTP from 127.0.0.1. One install is made per
module and copied into each test's layers directory.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest

from python_cnb.cnb import toml_file
from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.validate import SBOM_MEDIA_TYPES
from python_cnb.layers.python import InstalledPython, install_python
from python_cnb.python.distributions import Distribution, for_target, load_distributions
from python_cnb.sbom import EXTENSION
from python_cnb.support.download import DownloadFailed, ssl_context
from tests.support.contexts import build_context
from tests.support.servers import FileServer

TLS = ssl_context()
NOWHERE = "http://127.0.0.1:9/cpython.tar.gz"
"""Where a reused layer's archive may point: nothing listens there, nothing is fetched."""


def context(root: Path) -> BuildContext:
    ctx = build_context(root)
    declared = (SBOM_MEDIA_TYPES[EXTENSION],)
    return dataclasses.replace(
        ctx, buildpack=dataclasses.replace(ctx.buildpack, sbom_formats=declared)
    )


@pytest.fixture(scope="module")
def distributions(cpython_mirror: FileServer) -> tuple[Distribution, Distribution]:
    """The mirror's two newest lines, newest patch of each: (older, newer)."""
    offered = for_target(
        load_distributions(cpython_mirror.url("manifest.toml"), 30, TLS), "linux", "amd64"
    )
    newest: dict[str, Distribution] = {}
    for distribution in sorted(offered, key=lambda d: d.version):
        newest[distribution.version.line] = distribution
    if len(newest) < 2:
        pytest.fail(f"the test mirror offers fewer than two Python lines: {sorted(newest)}")
    older, newer = sorted(newest.values(), key=lambda d: d.version)[-2:]
    return older, newer


def install(
    ctx: BuildContext, distribution: Distribution, *, keep_cache: bool = True
) -> InstalledPython:
    return install_python(ctx, distribution, timeout=30, retries=0, tls=TLS, keep_cache=keep_cache)


@pytest.fixture(scope="module")
def installed(
    tmp_path_factory: pytest.TempPathFactory, distributions: tuple[Distribution, Distribution]
) -> Path:
    """A layers directory holding one fresh install of the older line."""
    root = tmp_path_factory.mktemp("template")
    install(context(root), distributions[0])
    return root / "layers"


@pytest.fixture
def ctx(tmp_path: Path, installed: Path) -> BuildContext:
    """A build whose lifecycle restored the python layer of a previous build."""
    ctx = context(tmp_path)
    shutil.rmtree(ctx.layers_dir)
    shutil.copytree(installed, ctx.layers_dir, symlinks=True)
    return ctx


def run(python: InstalledPython, code: str) -> str:
    return subprocess.run(
        python.command("-c", code), check=True, capture_output=True, text=True
    ).stdout


def test_a_fresh_install_is_verified_relocated_and_recorded(
    tmp_path: Path,
    distributions: tuple[Distribution, Distribution],
    capsys: pytest.CaptureFixture[str],
) -> None:
    distribution = distributions[0]
    ctx = context(tmp_path)
    python = install(ctx, distribution)
    log = capsys.readouterr().out
    assert f"Downloading CPython {distribution.version} from {distribution.uri}" in log
    assert f"Verified SHA-256 {distribution.sha256[:12]}…" in log
    assert f"Installed CPython {distribution.version}" in log
    assert "Using cached" not in log and "Discarding" not in log
    assert not python.reused
    assert python.executable == python.layout.executable
    assert run(python, "import sys; print(sys.prefix)").strip() == str(ctx.layers_dir / "python")
    assert not list(python.layout.site_packages.glob("pip*"))
    assert (python.layout.include / "Python.h").is_file()
    metadata = toml_file.read(ctx.layers_dir / "python.toml")["metadata"]
    assert metadata["python_version"] == str(distribution.version)
    assert metadata["checksum"] == distribution.sha256
    assert len(metadata["contents"]) == 64
    cpath = (ctx.layers_dir / "python" / "env.build" / "CPATH.prepend").read_text()
    assert cpath == str(python.layout.include)
    assert (ctx.layers_dir / f"python.sbom.{EXTENSION}").is_file()


def test_an_unchanged_interpreter_is_reused_without_a_download(
    ctx: BuildContext,
    distributions: tuple[Distribution, Distribution],
    capsys: pytest.CaptureFixture[str],
) -> None:
    distribution = distributions[0]
    python = install(ctx, distribution.with_uri(NOWHERE))
    log = capsys.readouterr().out
    assert log == f"Using cached Python {distribution.version}\n"
    assert python.reused
    assert run(python, "import sys; print(sys.version_info[:2])") == (
        f"({distribution.version.major}, {distribution.version.minor})\n"
    )


def test_another_version_discards_the_layer_and_says_why(
    ctx: BuildContext,
    distributions: tuple[Distribution, Distribution],
    capsys: pytest.CaptureFixture[str],
) -> None:
    older, newer = distributions
    python = install(ctx, newer)
    log = capsys.readouterr().out
    assert log.startswith(
        f"Discarding cached Python {older.version} since:\n"
        f"  - The Python version changed from {older.version} to {newer.version}\n"
    )
    assert f"Installed CPython {newer.version}" in log
    assert not python.reused
    assert not (ctx.layers_dir / "python" / "lib" / f"python{older.version.line}").exists()
    assert python.layout.stdlib.is_dir()


def test_another_archive_of_the_same_version_discards_the_layer(
    ctx: BuildContext,
    distributions: tuple[Distribution, Distribution],
    capsys: pytest.CaptureFixture[str],
) -> None:
    distribution = distributions[0]
    other = dataclasses.replace(distribution, sha256="0" * 64, uri=NOWHERE)
    with pytest.raises(DownloadFailed):  # nothing there: what matters is the decision
        install(ctx, other)
    log = capsys.readouterr().out
    assert log.startswith(
        f"Discarding cached Python {distribution.version} since:\n"
        "  - The CPython archive checksum changed from "
    )
    assert not (ctx.layers_dir / "python.toml").exists()


def test_a_changed_file_in_the_restored_interpreter_discards_it(
    ctx: BuildContext,
    distributions: tuple[Distribution, Distribution],
    capsys: pytest.CaptureFixture[str],
) -> None:
    distribution = distributions[0]
    restored = InstalledPython(
        ctx.layers_dir / "python", distribution.version, distribution, reused=True
    )
    planted = restored.layout.site_packages / "zzz_planted.pth"
    planted.write_text("import os\n")
    python = install(ctx, distribution)
    log = capsys.readouterr().out
    assert log.startswith(f"Discarding cached Python {distribution.version} since:\n  - ")
    assert "zzz_planted.pth" in log.splitlines()[1]
    assert f"Installed CPython {distribution.version}" in log
    assert not python.reused
    assert not planted.exists()


def test_a_clean_build_discards_a_valid_layer(
    ctx: BuildContext,
    distributions: tuple[Distribution, Distribution],
    capsys: pytest.CaptureFixture[str],
) -> None:
    distribution = distributions[0]
    python = install(ctx, distribution, keep_cache=False)
    log = capsys.readouterr().out
    assert log.startswith(
        f"Discarding cached Python {distribution.version} since:\n  - A clean build was requested\n"
    )
    assert f"Installed CPython {distribution.version}" in log
    assert not python.reused
