"""Compiling to unchecked hash-based bytecode with the running interpreter."""

from __future__ import annotations

import importlib.util
import py_compile
import sys
from pathlib import Path

import pytest

from python_cnb.bytecode import SOURCE_DATE_EPOCH, compile_bytecode, interpreter_command
from python_cnb.subprocess_runner import CommandFailed

PYTHON = Path(sys.executable)
UNCHECKED_HASH = 0b01
CHECKED_HASH = 0b11
TIMESTAMP = 0


def _flags(pyc: Path) -> int:
    """The PEP 552 flags word of a .pyc header."""
    data = pyc.read_bytes()
    assert data[:4] == importlib.util.MAGIC_NUMBER
    return int.from_bytes(data[4:8], "little")


def _pyc(source: Path) -> Path:
    return Path(importlib.util.cache_from_source(str(source)))


def _source(root: Path, name: str, text: str = "VALUE = 1\n") -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_interpreter_command() -> None:
    assert interpreter_command(Path("/layers/python/bin/python3.12"), "-m", "pip") == [
        "/layers/python/bin/python3.12",
        "-I",
        "-B",
        "-m",
        "pip",
    ]


def test_source_date_epoch_is_the_lifecycle_timestamp() -> None:
    assert SOURCE_DATE_EPOCH == "315532801"


def test_compiles_unchecked_hash_pycs(tmp_path: Path) -> None:
    module = _source(tmp_path / "lib", "module.py")
    nested = _source(tmp_path / "lib", "pkg/sub.py")
    compile_bytecode(PYTHON, [tmp_path / "lib"], cwd=tmp_path)
    for source in (module, nested):
        assert _flags(_pyc(source)) == UNCHECKED_HASH


def test_recompiles_an_existing_timestamp_pyc(tmp_path: Path) -> None:
    module = _source(tmp_path, "module.py")
    py_compile.compile(
        str(module), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP
    )
    assert _flags(_pyc(module)) == TIMESTAMP
    compile_bytecode(PYTHON, [tmp_path], cwd=tmp_path)
    assert _flags(_pyc(module)) == UNCHECKED_HASH


def test_output_is_reproducible(tmp_path: Path) -> None:
    module = _source(tmp_path, "module.py")
    compile_bytecode(PYTHON, [tmp_path], cwd=tmp_path)
    first = _pyc(module).read_bytes()
    compile_bytecode(PYTHON, [tmp_path], cwd=tmp_path)
    assert _pyc(module).read_bytes() == first


def test_exclude(tmp_path: Path) -> None:
    kept = _source(tmp_path, "lib/module.py")
    skipped = _source(tmp_path, "lib/tests/test_module.py")
    compile_bytecode(PYTHON, [tmp_path / "lib"], cwd=tmp_path, exclude=r"(/|^)tests/")
    assert _pyc(kept).is_file()
    assert not _pyc(skipped).exists()


def test_a_syntax_error_fails(tmp_path: Path) -> None:
    _source(tmp_path, "good.py")
    _source(tmp_path, "bad.py", "def broken(:\n")
    with pytest.raises(CommandFailed) as caught:
        compile_bytecode(PYTHON, [tmp_path], cwd=tmp_path, display="compileall app")
    assert caught.value.display == "compileall app"
    assert caught.value.exit_code == 1
    assert "bad.py" in caught.value.output
    assert _flags(_pyc(tmp_path / "good.py")) == UNCHECKED_HASH
