"""uv's cache is checked against the RECORDs of the wheels it holds unpacked."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from python_cnb.layers.tool_cache import uv_cache_problems
from tests.support.wheels import make_wheel

ARCHIVE = "archive-v0/abc123"


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    root = tmp_path / "uv-cache"
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
