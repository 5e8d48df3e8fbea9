"""Compiling to unchecked hash-based bytecode with the running interpreter."""

from __future__ import annotations

import importlib.util
import py_compile
import subprocess
import sys
from pathlib import Path

import pytest

from python_cnb import bytecode
from python_cnb.bytecode import (
    SOURCE_DATE_EPOCH,
    compile_bytecode,
    compile_site_packages,
    compile_source_file,
    only_not_written,
    package_sources,
)
from python_cnb.support.commands import CommandFailed
from tests.support.contexts import require_python

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


def test_bytecode_not_written_is_told_apart_from_a_compile_error(tmp_path: Path) -> None:
    (tmp_path / "__pycache__").write_text("")  # no bytecode can be saved here, even by root
    _source(tmp_path, "mod.py")
    with pytest.raises(CommandFailed) as caught:
        compile_bytecode(PYTHON, [tmp_path], cwd=tmp_path)
    assert only_not_written(caught.value)
    _source(tmp_path, "lib/bad.py", "def broken(:\n")
    with pytest.raises(CommandFailed) as caught:
        compile_bytecode(PYTHON, [tmp_path], cwd=tmp_path)
    assert not only_not_written(caught.value)


# --- a source file without .py (wsgi/application) ---------------------------------------------

LOAD = """\
import sys
from importlib.machinery import SourceFileLoader
import importlib.util
loader = SourceFileLoader("wsgi_application", sys.argv[1])
spec = importlib.util.spec_from_loader("wsgi_application", loader)
module = importlib.util.module_from_spec(spec)
loader.exec_module(module)
print(module.VALUE)
"""
"""Loads a file as the cartridge shim does, writing bytecode as any import would."""


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def _load(source: Path) -> str:
    completed = subprocess.run(
        [sys.executable, "-I", "-c", LOAD, str(source)],
        capture_output=True,
        text=True,
        check=True,
        cwd=source.parent,
    )
    return completed.stdout.strip()


def test_compile_source_file_writes_where_the_loader_looks(tmp_path: Path) -> None:
    source = _source(tmp_path, "wsgi/application", "VALUE = 'compiled'\n")
    compile_source_file(PYTHON, source, cwd=tmp_path)
    pyc = _pyc(source)
    assert pyc.parent == tmp_path / "wsgi" / "__pycache__"
    assert _flags(pyc) == UNCHECKED_HASH


def test_loading_a_compiled_source_file_writes_nothing(tmp_path: Path) -> None:
    source = _source(tmp_path, "wsgi/application", "VALUE = 'compiled'\n")
    compile_source_file(PYTHON, source, cwd=tmp_path)
    before = _files(tmp_path)
    source.write_text("VALUE = 'edited'\n", encoding="utf-8")  # unchecked: the .pyc is used
    assert _load(source) == "compiled"
    assert _files(tmp_path) == before


def test_loading_an_uncompiled_source_file_writes_bytecode(tmp_path: Path) -> None:
    """What the build avoids: without it, every start compiles (and writes, if it can)."""
    source = _source(tmp_path, "wsgi/application", "VALUE = 'source'\n")
    before = _files(tmp_path)
    assert _load(source) == "source"
    assert _files(tmp_path) - before == {_pyc(source)}


def test_compile_source_file_is_reproducible(tmp_path: Path) -> None:
    source = _source(tmp_path, "wsgi/application")
    compile_source_file(PYTHON, source, cwd=tmp_path)
    first = _pyc(source).read_bytes()
    compile_source_file(PYTHON, source, cwd=tmp_path)
    assert _pyc(source).read_bytes() == first


def test_compile_source_file_syntax_error(tmp_path: Path) -> None:
    source = _source(tmp_path, "wsgi/application", "def broken(:\n")
    with pytest.raises(CommandFailed) as caught:
        compile_source_file(PYTHON, source, cwd=tmp_path)
    assert caught.value.display == "compile bytecode (application)"
    assert "SyntaxError" in caught.value.output
    assert not _pyc(source).exists()


def test_site_packages_test_suites_get_no_bytecode(tmp_path: Path) -> None:
    site = tmp_path / "tests" / "venv" / "lib" / "python3.12" / "site-packages"  # "tests" above
    kept = [_source(site, "pkg/__init__.py"), _source(site, "pkg/testing/helpers.py")]
    skipped = [_source(site, "pkg/tests/test_core.py"), _source(site, "pkg/sub/tests/conftest.py")]
    compile_site_packages(PYTHON, site, cwd=tmp_path)
    assert all(_pyc(source).is_file() for source in kept)
    assert not any(_pyc(source).exists() for source in skipped)
    assert package_sources([*kept, *skipped, site / "pkg" / "data.json"]) == kept


@pytest.mark.parametrize(("count", "option"), [(0, "1"), (149, "1"), (150, "0")])
def test_a_process_pool_only_for_many_files(
    count: int, option: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []

    def run_quiet(argv: list[str], **kwargs: object) -> str:
        seen.append(argv)
        return ""

    monkeypatch.setattr(bytecode, "run_quiet", run_quiet)
    files = [_source(tmp_path, f"m{i}.py") for i in range(count)]
    bytecode.compile_bytecode(PYTHON, [tmp_path], cwd=tmp_path)
    bytecode.compile_files(PYTHON, files or [tmp_path / "x.py"], cwd=tmp_path)
    assert [argv[argv.index("--jobs") + 1] for argv in seen] == [option, option if count else "1"]


def test_bytecode_is_the_same_whatever_the_hash_seed(tmp_path: Path) -> None:
    """3.9 marshals a constant frozenset in hash order: the seed is fixed for the compiler."""
    python = require_python("3.9")  # its constant frozensets follow the hash seed
    assert bytecode.compiler_command(python) == [
        str(python),
        "-s",
        "-B",
        str(bytecode.COMPILER),
    ]
    words = ", ".join(f'"word{i}"' for i in range(40))
    results = set()
    for attempt in range(4):
        source = _source(
            tmp_path / str(attempt), "module.py", f"def f(x):\n    return x in {{{words}}}\n"
        )
        compile_bytecode(python, [source.parent], cwd=tmp_path, strip=source.parent)
        results.add(next(source.parent.glob("__pycache__/module.cpython-39.pyc")).read_bytes())
    assert len(results) == 1
