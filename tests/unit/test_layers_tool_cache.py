"""The tools' cache-only layers: kept or emptied (with the reason), and uv's checked against
the RECORDs of the wheels it holds unpacked."""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import pytest

from python_cnb.cnb import toml_file
from python_cnb.cnb.context import BuildContext
from python_cnb.layers.tool_cache import (
    SHOWN,
    UV_CACHE,
    prepare_tool_cache,
    uv_cache_problems,
    verify_uv_cache,
)
from tests.support.contexts import build_context
from tests.support.wheels import make_wheel

ARCHIVE = "archive-v0/abc123"


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    root = tmp_path / "layers" / UV_CACHE
    for index, name in enumerate(("tinypkg", "otherpkg")):
        wheel = make_wheel(tmp_path / "wheels", name, "1.0", payload=b"x = 1\n")
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(root / f"{ARCHIVE}{index}")
    (root / "wheels-v8" / "index").mkdir(parents=True)
    (root / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
    return root


def test_an_intact_cache_has_no_problems(cache: Path) -> None:
    assert uv_cache_problems(cache) == []


def test_a_deleted_file_is_found(cache: Path) -> None:
    (cache / f"{ARCHIVE}0" / "tinypkg" / "__init__.py").unlink()
    assert uv_cache_problems(cache) == [f"{ARCHIVE}0/tinypkg/__init__.py is missing"]


def test_a_tampered_file_is_found(cache: Path) -> None:
    module = cache / f"{ARCHIVE}1" / "otherpkg" / "__init__.py"
    module.write_text(module.read_text().replace("x = 1", "x = 2"))
    assert uv_cache_problems(cache) == [f"{ARCHIVE}1/otherpkg/__init__.py changed"]


def test_a_planted_file_is_found(cache: Path) -> None:
    (cache / f"{ARCHIVE}0" / "zzz_evil.pth").write_text("import os\n")
    assert uv_cache_problems(cache) == [f"{ARCHIVE}0/zzz_evil.pth is in no RECORD"]


def test_an_archive_without_record(cache: Path) -> None:
    (cache / f"{ARCHIVE}0" / "tinypkg-1.0.dist-info" / "RECORD").unlink()
    assert uv_cache_problems(cache) == [f"{ARCHIVE}0 has no RECORD"]


# -- the cache layer: kept for the same target, emptied with the reason otherwise -----------


def _prepare(ctx: BuildContext, *, keep_cache: bool = True) -> Path:
    return prepare_tool_cache(ctx, "pip-cache", "pip cache", keep_cache=keep_cache)


def _cached(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> BuildContext:
    """A build context whose layers hold a pip cache with a wheel in it (its log read)."""
    ctx = build_context(tmp_path)
    (_prepare(ctx) / "wheel.whl").write_bytes(b"cached")
    capsys.readouterr()
    return ctx


def test_a_first_build_gets_an_empty_cache_only_layer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = build_context(tmp_path)
    path = _prepare(ctx)
    assert path == ctx.layers_dir / "pip-cache"
    assert list(path.iterdir()) == []
    assert toml_file.loads((ctx.layers_dir / "pip-cache.toml").read_text()) == {
        "types": {"build": False, "cache": True, "launch": False},
        "metadata": {
            "os": "linux",
            "arch": "amd64",
            "distro_name": "ubuntu",
            "distro_version": "24.04",
        },
    }
    assert capsys.readouterr().out == ""  # nothing was cached, so nothing is discarded


def test_the_same_target_keeps_the_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = _cached(tmp_path, capsys)
    assert (_prepare(ctx) / "wheel.whl").read_bytes() == b"cached"
    assert capsys.readouterr().out == "Using cached pip cache\n"


def test_another_distribution_version_empties_the_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = _cached(tmp_path, capsys)
    other = dataclasses.replace(ctx, target=dataclasses.replace(ctx.target, distro_version="22.04"))
    assert list(_prepare(other).iterdir()) == []
    assert capsys.readouterr().out == (
        "Discarding cached pip cache since:\n"
        "  - The target distribution version changed from 24.04 to 22.04\n"
    )
    metadata = toml_file.loads((ctx.layers_dir / "pip-cache.toml").read_text())["metadata"]
    assert metadata["distro_version"] == "22.04"


def test_a_clean_build_empties_the_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = _cached(tmp_path, capsys)
    assert list(_prepare(ctx, keep_cache=False).iterdir()) == []
    assert capsys.readouterr().out == (
        "Discarding cached pip cache since:\n  - A clean build was requested\n"
    )


def test_a_cache_without_its_toml_is_not_trusted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A build that died before writing the TOML left a directory nobody vouches for."""
    ctx = build_context(tmp_path)
    (ctx.layers_dir / "pip-cache").mkdir()
    (ctx.layers_dir / "pip-cache" / "half-written").write_bytes(b"?")
    assert list(_prepare(ctx).iterdir()) == []
    assert capsys.readouterr().out == (
        "Discarding cached pip cache since:\n"
        "  - It has no metadata (an earlier build did not finish it)\n"
    )


# -- verify_uv_cache: a damaged uv cache is emptied before uv installs from it ---------------


def test_an_intact_uv_cache_is_left_alone(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = build_context(tmp_path)  # its layers hold the uv cache
    verify_uv_cache(ctx)
    assert uv_cache_problems(cache) == [] and (cache / "CACHEDIR.TAG").is_file()
    assert capsys.readouterr().out == ""


def test_a_damaged_uv_cache_is_emptied_and_the_first_problems_shown(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = build_context(tmp_path)  # its layers hold the uv cache
    for index in range(SHOWN + 2):
        (cache / f"{ARCHIVE}0" / f"planted{index}.pth").write_text("import os\n")
    verify_uv_cache(ctx)
    assert cache.is_dir() and list(cache.iterdir()) == []
    shown = "".join(
        f"  - {ARCHIVE}0/planted{index}.pth is in no RECORD\n" for index in range(SHOWN)
    )
    assert capsys.readouterr().out == (
        f"Discarding cached uv cache since:\n{shown}  - and 2 more\n"
    )
