"""The CPython layout value: every path into an interpreter or a venv of it."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from python_cnb.python.layout import PythonLayout
from python_cnb.python.version import PythonVersion

SRC = Path(__file__).resolve().parents[2] / "src" / "python_cnb"
HOME = Path("/layers/python")


def test_a_regular_build() -> None:
    layout = PythonLayout.of(HOME, PythonVersion(3, 12, 7))
    assert layout.abi == "3.12"
    assert layout.name == "python3.12"
    assert layout.executable == HOME / "bin/python3.12"
    assert layout.config_script == HOME / "bin/python3.12-config"
    assert layout.stdlib == HOME / "lib/python3.12"
    assert layout.site_packages == HOME / "lib/python3.12/site-packages"
    assert layout.include == HOME / "include/python3.12"
    assert layout.pkgconfig == HOME / "lib/pkgconfig"


def test_a_free_threaded_build_names_every_directory_with_its_abi_flag() -> None:
    layout = PythonLayout.of(HOME, PythonVersion(3, 13, 1), free_threaded=True)
    assert layout.abi == "3.13t"
    assert layout.executable == HOME / "bin/python3.13t"
    assert layout.config_script == HOME / "bin/python3.13t-config"
    assert layout.stdlib == HOME / "lib/python3.13t"
    assert layout.site_packages == HOME / "lib/python3.13t/site-packages"
    assert layout.include == HOME / "include/python3.13t"


def test_a_venv_of_the_interpreter_has_the_same_library_layout() -> None:
    venv = PythonLayout(HOME, "3.13t").at(Path("/layers/venv"))
    assert venv.site_packages == Path("/layers/venv/lib/python3.13t/site-packages")


def test_the_command_runs_isolated_and_writes_no_bytecode() -> None:
    assert PythonLayout(HOME, "3.12").command("-m", "pip") == [
        "/layers/python/bin/python3.12",
        "-I",
        "-B",
        "-m",
        "pip",
    ]


@pytest.mark.parametrize("abi", ["3.9", "3.12", "3.13t"])
def test_find_reads_the_layout_of_an_existing_prefix(tmp_path: Path, abi: str) -> None:
    (tmp_path / "lib" / f"python{abi}" / "site-packages").mkdir(parents=True)
    (tmp_path / "lib" / "pkgconfig").mkdir()
    assert PythonLayout.find(tmp_path) == PythonLayout(tmp_path, abi)


def test_find_reads_the_running_interpreters_venv_or_prefix() -> None:
    layout = PythonLayout.find(Path(sys.prefix))
    assert layout.site_packages.is_dir()
    assert layout.abi.startswith(f"{sys.version_info[0]}.{sys.version_info[1]}")


def test_find_without_a_library_directory_is_a_lookup_error(tmp_path: Path) -> None:
    with pytest.raises(LookupError):
        PythonLayout.find(tmp_path)


def test_no_module_but_the_layout_spells_cpythons_directory_names() -> None:
    """``python{version.line}`` or a ``python3*`` glob outside the layout value would break
    on a free-threaded build: every path into an interpreter goes through PythonLayout."""
    spelled = re.compile(r'python\{[^}]*line\}|python3\*|"python3\.\d+"')
    found = [
        f"{path.relative_to(SRC)}:{number}"
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "layout.py" and "programs" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if spelled.search(line)
    ]
    assert not found
