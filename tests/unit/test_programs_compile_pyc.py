"""The reproducible compiler script, run as the buildpack runs it (``python -s -B script``)."""

from __future__ import annotations

import importlib.util
import marshal
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from python_cnb.bytecode import COMPILER
from python_cnb.programs import compile_pyc
from tests.support.contexts import pythons

PYTHON = Path(sys.executable)


def _interpreters() -> list[Path]:
    """This machine's CPythons the buildpack supports (3.9+), else the running one."""
    return [binary for line, binary in pythons().items() if line >= (3, 9)] or [PYTHON]


def _run(*args: str, python: Path = PYTHON, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-s", "-B", str(COMPILER), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"},
    )


def _source(root: Path, name: str, text: str = "VALUE = 1\n") -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _pyc(source: Path) -> Path:
    return Path(importlib.util.cache_from_source(str(source)))


# --- the same bytes whatever the process compiled before -------------------------------------

MODULE = """\
class Environ:
    def key(self, key):
        if key in {"PYCNB_ALPHA_KEY", "PYCNB_BETA_KEY"}:
            return key

    def items(self):
        for key, value in self.environ.items():
            if key.startswith("HTTP_") and key not in {"HTTP_PYCNB_ALPHA", "HTTP_PYCNB_BETA"}:
                yield key, value
            elif key in {"PYCNB_ALPHA_KEY", "PYCNB_BETA_KEY"} and value:
                yield key, value
"""
"""Methods sharing a constant frozenset of strings (as werkzeug's ``EnvironHeaders``)."""

EARLIER = "value = environ['PYCNB_ALPHA_KEY']\n"
"""A module compiled (and kept, as a loaded module is) before, holding one of the strings."""

HISTORY = """\
import marshal, sys
sys.path.insert(0, sys.argv[1])
import compile_pyc
del sys.path[0]
earlier = compile(sys.argv[2], "earlier.py", "exec") if sys.argv[3] == "after" else None
module = sys.argv[4].encode()
stock = marshal.dumps(compile(module, "module.py", "exec", dont_inherit=True))
ours = compile_pyc.bytecode(module, "module.py")
sys.stdout.write(stock.hex() + " " + ours.hex())
"""


def _compiled(python: Path, history: str) -> tuple[str, str]:
    completed = subprocess.run(
        [str(python), "-s", "-B", "-c", HISTORY, str(COMPILER.parent), EARLIER, history, MODULE],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"},
    )
    stock, ours = completed.stdout.split()
    return stock, ours


@pytest.mark.parametrize("python", _interpreters(), ids=lambda p: p.name)
def test_bytecode_does_not_depend_on_what_was_compiled_before(python: Path) -> None:
    stock_fresh, ours_fresh = _compiled(python, "fresh")
    stock_after, ours_after = _compiled(python, "after")
    # CPython's own output differs (which is why a process pool gave different layers) ...
    assert stock_fresh != stock_after
    # ... ours does not.
    assert ours_fresh == ours_after


def _frozensets(code: types.CodeType) -> list[frozenset[str]]:
    found = [c for c in code.co_consts if isinstance(c, frozenset)]
    for inner in code.co_consts:
        if isinstance(inner, types.CodeType):
            found += _frozensets(inner)
    return found


def test_canonical_shares_one_frozenset_per_value() -> None:
    sets = _frozensets(compile_pyc.canonical(compile(MODULE, "module.py", "exec")))
    assert len(sets) == 3 and len({id(s) for s in sets}) == 2
    assert len(set(sets)) == 2


def test_the_bytecode_loads_and_runs(tmp_path: Path) -> None:
    source = _source(tmp_path, "module.py", MODULE)
    assert _run(str(tmp_path), cwd=tmp_path).returncode == 0
    data = _pyc(source).read_bytes()
    assert data[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(data[4:8], "little") == compile_pyc.UNCHECKED_HASH
    assert data[8:16] == importlib.util.source_hash(source.read_bytes())
    check = (
        "import sys; sys.path.insert(0, sys.argv[1]); import module; "
        "env = module.Environ(); env.environ = {'PYCNB_BETA_KEY': 1, 'HTTP_X': 2, 'Y': 3}; "
        "assert env.key('PYCNB_ALPHA_KEY') and not env.key('Y'); "
        "assert sorted(env.items()) == [('HTTP_X', 2), ('PYCNB_BETA_KEY', 1)]; "
        "print(module.__spec__.cached)"
    )
    loaded = subprocess.run(
        [sys.executable, "-I", "-B", "-c", check, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == str(_pyc(source))


# --- the command line -------------------------------------------------------------------------


def test_directories_are_walked_and_pruned(tmp_path: Path) -> None:
    kept = _source(tmp_path, "app/pkg/mod.py")
    skipped = _source(tmp_path, "app/node_modules/x/mod.py")
    not_python = _source(tmp_path, "app/notes.txt")
    linked = tmp_path / "elsewhere"
    _source(linked, "outside.py")
    (tmp_path / "app" / "link").symlink_to(linked)
    stale = tmp_path / "app" / "__pycache__" / "old.py"
    _source(stale.parent, stale.name)

    result = _run("--exclude", r"(^|/)node_modules/", str(tmp_path / "app"), cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert _pyc(kept).is_file()
    assert not _pyc(skipped).exists()
    assert not (not_python.parent / "__pycache__" / "notes.cpython").exists()
    assert not (skipped.parent / "__pycache__").exists()
    assert not (linked / "__pycache__").exists()  # a linked directory is not followed
    assert not (stale.parent / "__pycache__").exists()


def test_strip_records_relative_paths(tmp_path: Path) -> None:
    source = _source(tmp_path, "lib/pkg/mod.py", "def f():\n    raise ValueError\n")
    assert (
        _run("--strip", str(tmp_path / "lib"), str(tmp_path / "lib"), cwd=tmp_path).returncode == 0
    )
    code = marshal.loads(_pyc(source).read_bytes()[16:])
    assert code.co_filename == "pkg/mod.py"


def test_a_list_of_files_and_a_file_of_any_name(tmp_path: Path) -> None:
    listed = [_source(tmp_path, "a.py"), _source(tmp_path, "b.py")]
    unlisted = _source(tmp_path, "c.py")
    application = _source(tmp_path, "wsgi/application", "def application(e, s):\n    return []\n")
    listing = tmp_path / "files.txt"
    listing.write_text("".join(f"{p}\n" for p in listed), encoding="utf-8")

    result = _run("--list", str(listing), "--file", str(application), cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert all(_pyc(p).is_file() for p in listed) and not _pyc(unlisted).exists()
    assert _pyc(application).is_file()  # wsgi/__pycache__/applicationcpython-3X.pyc


def test_errors_are_reported_and_the_rest_compiled(tmp_path: Path) -> None:
    good = [_source(tmp_path, f"good{i}.py") for i in range(6)]
    _source(tmp_path, "bad.py", "def broken(:\n")

    result = _run("--jobs", "0", str(tmp_path), cwd=tmp_path)

    assert result.returncode == 1
    assert "*** Error compiling" in result.stdout and "bad.py" in result.stdout
    assert "SyntaxError" in result.stdout
    assert all(_pyc(p).is_file() for p in good)
    assert not _pyc(tmp_path / "bad.py").exists()


def _unwritable(directory: Path) -> None:
    """No bytecode can be saved in ``directory`` (a file stands where __pycache__ would go:
    unlike a 0555 mode, that stops root too)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "__pycache__").write_text("")


def test_bytecode_that_cannot_be_written_is_not_a_compile_error(tmp_path: Path) -> None:
    writable = _source(tmp_path, "good.py")
    _unwritable(tmp_path / "ro")
    _source(tmp_path, "ro/mod.py")

    result = _run(str(tmp_path), cwd=tmp_path)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "*** Could not write the bytecode of" in result.stdout and "mod.py" in result.stdout
    assert "Error compiling" not in result.stdout and "Traceback" not in result.stderr
    assert _pyc(writable).is_file()


def test_a_compile_error_wins_over_bytecode_not_written(tmp_path: Path) -> None:
    _unwritable(tmp_path / "ro")
    _source(tmp_path, "ro/mod.py")
    _source(tmp_path, "bad.py", "def broken(:\n")
    result = _run("--jobs", "0", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert "*** Error compiling" in result.stdout and "*** Could not write" in result.stdout


def test_any_failure_is_that_files_alone(tmp_path: Path) -> None:
    """Null bytes (a ValueError or a SyntaxError, by version) fail only their file."""
    good = _source(tmp_path, "good.py")
    (tmp_path / "nul.py").write_bytes(b"x = 1\0\n")
    result = _run(str(tmp_path), cwd=tmp_path)
    assert result.returncode == 1 and "nul.py" in result.stdout, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert _pyc(good).is_file()


def test_a_pool_writes_the_same_bytes_as_one_process(tmp_path: Path) -> None:
    sources = [
        _source(tmp_path, f"m{i}.py", MODULE.replace("BETA", f"B{i % 3}")) for i in range(40)
    ]
    assert _run("--jobs", "1", str(tmp_path), cwd=tmp_path).returncode == 0
    one = {p: _pyc(p).read_bytes() for p in sources}
    assert _run("--jobs", "0", str(tmp_path), cwd=tmp_path).returncode == 0
    assert {p: _pyc(p).read_bytes() for p in sources} == one


def test_the_scripts_own_directory_shadows_nothing(tmp_path: Path) -> None:
    """The script lives among the buildpack's modules: none of them may replace the stdlib."""
    script_dir = tmp_path / "bp"
    script_dir.mkdir()
    shutil.copy(COMPILER, script_dir / COMPILER.name)
    (script_dir / "argparse.py").write_text("raise ImportError('shadowed')\n", encoding="utf-8")
    source = _source(tmp_path, "app/mod.py")
    result = subprocess.run(
        [sys.executable, "-s", "-B", str(script_dir / COMPILER.name), str(source.parent)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert _pyc(source).is_file()


def test_the_pyc_takes_the_sources_mode(tmp_path: Path) -> None:
    source = _source(tmp_path, "mod.py")
    source.chmod(0o444)
    assert _run(str(tmp_path), cwd=tmp_path).returncode == 0
    assert _pyc(source).stat().st_mode & 0o777 == 0o644
