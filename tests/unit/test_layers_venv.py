"""The venv layer: files that belong to no installed distribution, and uv's install stamp."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from python_cnb.layers.venv import _drop_uv_cache_info, files_outside_records
from tests.support.wheels import make_wheel

SITE = "lib/python3.12/site-packages"


def install(venv: Path, wheel: Path) -> None:
    """Unpack a wheel into site-packages, as an installer does (RECORD included)."""
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(venv / SITE)


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    root = tmp_path / "venv"
    (root / "bin").mkdir(parents=True)
    (root / SITE).mkdir(parents=True)
    (root / "pyvenv.cfg").write_text("home = /layers/python/bin\n")
    (root / ".lock").write_text("")
    (root / "lib64").symlink_to("lib")
    for name in ("python", "python3", "python3.12"):
        (root / "bin" / name).symlink_to("/layers/python/bin/python3.12")
    for name in ("activate", "activate.csh", "activate.fish", "Activate.ps1"):
        (root / "bin" / name).write_text("")
    install(root, make_wheel(tmp_path / "wheels", "tinypkg", "1.0"))
    (root / SITE / "tinypkg" / "__pycache__").mkdir()
    (root / SITE / "tinypkg" / "__pycache__" / "__init__.cpython-312.pyc").write_bytes(b"pyc")
    return root


def test_a_clean_venv_has_nothing_outside_the_records(venv: Path) -> None:
    assert files_outside_records(venv) == []


def test_a_planted_pth_belongs_to_no_package(venv: Path) -> None:
    (venv / SITE / "zzz_evil.pth").write_text("import os\n")
    assert files_outside_records(venv) == [f"{SITE}/zzz_evil.pth"]


def test_what_an_uninstall_leaves_is_found(venv: Path) -> None:
    """Bytecode of a removed distribution's module, and a planted script."""
    (venv / SITE / "tinypkg-1.0.dist-info" / "RECORD").unlink()
    (venv / "bin" / "backdoor").write_text("#!/bin/sh\n")
    assert files_outside_records(venv) == [
        "bin/backdoor",
        f"{SITE}/tinypkg-1.0.dist-info/METADATA",
        f"{SITE}/tinypkg-1.0.dist-info/WHEEL",
        f"{SITE}/tinypkg/__init__.py",
        f"{SITE}/tinypkg/__pycache__/__init__.cpython-312.pyc",
    ]


def test_bytecode_of_an_unlisted_module_is_not_owned(venv: Path) -> None:
    (venv / SITE / "tinypkg" / "__pycache__" / "planted.cpython-312.pyc").write_bytes(b"x")
    assert files_outside_records(venv) == [f"{SITE}/tinypkg/__pycache__/planted.cpython-312.pyc"]


def test_uv_cache_info_and_its_record_line_are_dropped(venv: Path) -> None:
    dist_info = venv / SITE / "tinypkg-1.0.dist-info"
    (dist_info / "uv_cache.json").write_text('{"timestamp":{"secs_since_epoch":1}}')
    record = dist_info / "RECORD"
    before = record.read_text()
    record.write_text(before + "tinypkg-1.0.dist-info/uv_cache.json,sha256=abc,36\n")

    _drop_uv_cache_info(venv / SITE)

    assert not (dist_info / "uv_cache.json").exists()
    assert record.read_text() == before
    assert files_outside_records(venv) == []
