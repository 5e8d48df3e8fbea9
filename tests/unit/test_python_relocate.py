"""Rewriting an unpacked CPython's build prefix and compilers to where it lives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from python_cnb.python.layout import PythonLayout
from python_cnb.python.relocate import build_prefix, relocate

SYSCONFIGDATA = "lib/python3.12/_sysconfigdata__linux_x86_64-linux-gnu.py"
SYSCONFIG_JSON = "lib/python3.12/_sysconfig_vars__linux_x86_64-linux-gnu.json"
MAKEFILE = "lib/python3.12/config-3.12-x86_64-linux-gnu/Makefile"
PYTHON_CONFIG_PY = "lib/python3.12/config-3.12-x86_64-linux-gnu/python-config.py"
PKGCONFIG = "lib/pkgconfig/python-3.12.pc"
PYTHON_CONFIG = "bin/python3.12-config"

BUILD_TIME_VARS: dict[str, Any] = {
    "prefix": "/install",
    "exec_prefix": "/install",
    "LIBDIR": "/install/lib",
    "INCLUDEPY": "/install/include/python3.12",
    "LIBPL": "/install/lib/python3.12/config-3.12-x86_64-linux-gnu",
    "CC": "clang -pthread",
    "CXX": "clang++ -pthread",
    "AR": "/tools/llvm/bin/llvm-ar",
    "LDSHARED": "clang -shared -L/tools/deps/lib",
    "LDCXXSHARED": "clang++ -shared",
    "BLDSHARED": "/tools/llvm/bin/clang -shared",
    "LINKCC": "clang",
    "CPP": "clang -E",
    "CONFIG_ARGS": "'--prefix=/install' '--libdir=/install/lib' 'LDFLAGS=-L/install/lib'",
    "CPPFLAGS": "-I/install/include -I/tools/deps/include",
    "LDFLAGS": "-L/install/lib -Wl,-rpath,/install/lib",
    "INSTALLER_NOTE": "built by /installer and /tools/install; see ./install and x/install",
    "CFLAGS": "-O3 -fuse-ld=clang",
    "CLANG_VERSION": "clang 18",
    "HOST_GNU_TYPE": "x86_64-unknown-linux-gnu",
    "Py_ENABLE_SHARED": 0,
    "SIZEOF_VOID_P": 8,
    "ABIFLAGS": "",
    "TZPATH": "/usr/share/zoneinfo:/install/share/zoneinfo",
    "LIBPC": "/install/lib/pkgconfig",
}


def _expected_vars(home: str) -> dict[str, Any]:
    return {
        **BUILD_TIME_VARS,
        "prefix": home,
        "exec_prefix": home,
        "LIBDIR": f"{home}/lib",
        "INCLUDEPY": f"{home}/include/python3.12",
        "LIBPL": f"{home}/lib/python3.12/config-3.12-x86_64-linux-gnu",
        "CC": "cc -pthread",
        "CXX": "c++ -pthread",
        "AR": "ar",
        "LDSHARED": "cc -shared -L/tools/deps/lib",
        "LDCXXSHARED": "c++ -shared",
        "BLDSHARED": "cc -shared",
        "LINKCC": "cc",
        "CPP": "cc -E",
        "CONFIG_ARGS": f"'--prefix={home}' '--libdir={home}/lib' 'LDFLAGS=-L{home}/lib'",
        "CPPFLAGS": f"-I{home}/include -I/tools/deps/include",
        "LDFLAGS": f"-L{home}/lib -Wl,-rpath,{home}/lib",
        "TZPATH": f"/usr/share/zoneinfo:{home}/share/zoneinfo",
        "LIBPC": f"{home}/lib/pkgconfig",
    }


MAKEFILE_TEXT = """\
prefix=\t\t/install
exec_prefix=\t${prefix}
LIBDIR=\t\t/install/lib
CC=\t\tclang -pthread
CONFIGURE_CPPFLAGS=\t-I/install/include
CONFIGURE_LDFLAGS=\t-L/install/lib -Wl,-rpath,/install/lib
INSTALL=\t/usr/bin/install -c
SRCDIRS=\t./install /installer
"""

PC_TEXT = """\
prefix=/install
exec_prefix=${prefix}
libdir=${exec_prefix}/lib
includedir=${prefix}/include

Name: Python
Libs.private: -ldl -L/install/lib
Cflags: -I${includedir}/python3.12
"""

CONFIG_TEXT = """\
#!/bin/sh
prefix_build="/install"
prefix_real=$(installed_prefix "$0")
LIBPL=$(echo "/install/lib/python3.12/config" | sed "s#$prefix_build#$prefix_real#")
"""


def _sysconfigdata(variables: dict[str, Any]) -> str:
    header = "# system configuration generated and used by the sysconfig module\n"
    return f"{header}build_time_vars = {variables!r}\n"


def _install_tree(home: Path) -> Path:
    files = {
        SYSCONFIGDATA: _sysconfigdata(BUILD_TIME_VARS),
        SYSCONFIG_JSON: json.dumps(BUILD_TIME_VARS),
        MAKEFILE: MAKEFILE_TEXT,
        PYTHON_CONFIG_PY: "PREFIX = '/install'\n",
        PKGCONFIG: PC_TEXT,
        PYTHON_CONFIG: CONFIG_TEXT,
        "lib/python3.12/os.py": "# /install/lib must stay: not a metadata file\n",
    }
    for name, text in files.items():
        path = home / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (home / "bin" / "python3-config").symlink_to("python3.12-config")
    (home / "lib" / "pkgconfig" / "python3.pc").symlink_to("python-3.12.pc")
    return home


def _load_sysconfigdata(path: Path) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    variables = namespace["build_time_vars"]
    assert isinstance(variables, dict)
    return variables


def test_relocate(tmp_path: Path) -> None:
    home = _install_tree(tmp_path / "layers" / "python")
    changed = relocate(PythonLayout(home, "3.12"))
    assert changed == [
        home / SYSCONFIGDATA,
        home / SYSCONFIG_JSON,
        home / PYTHON_CONFIG,
        home / PKGCONFIG,
        home / MAKEFILE,
        home / PYTHON_CONFIG_PY,
    ]
    expected = _expected_vars(str(home))
    assert _load_sysconfigdata(home / SYSCONFIGDATA) == expected
    assert json.loads((home / SYSCONFIG_JSON).read_text(encoding="utf-8")) == expected
    assert (home / MAKEFILE).read_text(encoding="utf-8") == (
        MAKEFILE_TEXT.replace("\t/install", f"\t{home}")
        .replace("-I/install", f"-I{home}")
        .replace("-L/install", f"-L{home}")
        .replace(",/install", f",{home}")
    )
    assert (home / PKGCONFIG).read_text(encoding="utf-8") == (
        PC_TEXT.replace("=/install", f"={home}").replace("-L/install", f"-L{home}")
    )
    assert (home / PYTHON_CONFIG).read_text(encoding="utf-8") == (
        CONFIG_TEXT.replace('"/install', f'"{home}')
    )
    assert (home / PYTHON_CONFIG_PY).read_text(encoding="utf-8") == f"PREFIX = '{home}'\n"
    assert (home / "lib/python3.12/os.py").read_text(encoding="utf-8") == (
        "# /install/lib must stay: not a metadata file\n"
    )
    assert (home / "bin" / "python3-config").is_symlink()
    assert build_prefix(PythonLayout(home, "3.12")) == str(home)


def test_relocate_is_idempotent(tmp_path: Path) -> None:
    home = _install_tree(tmp_path / "python")
    assert relocate(PythonLayout(home, "3.12"))
    before = {path: path.read_bytes() for path in home.rglob("*") if path.is_file()}
    assert relocate(PythonLayout(home, "3.12")) == []
    assert {path: path.read_bytes() for path in home.rglob("*") if path.is_file()} == before


def test_rewritten_sysconfigdata_is_importable(tmp_path: Path) -> None:
    home = _install_tree(tmp_path / "python")
    relocate(PythonLayout(home, "3.12"))
    text = (home / SYSCONFIGDATA).read_text(encoding="utf-8")
    assert text.startswith("# system configuration, relocated by python-cnb\nbuild_time_vars = {")
    assert _load_sysconfigdata(home / SYSCONFIGDATA)["prefix"] == str(home)


def test_nothing_to_do_when_the_prefix_is_already_the_path(tmp_path: Path) -> None:
    home = tmp_path / "python"
    variables = {**BUILD_TIME_VARS, "prefix": str(home)}
    (home / "lib" / "python3.12").mkdir(parents=True)
    (home / SYSCONFIGDATA).write_text(_sysconfigdata(variables), encoding="utf-8")
    (home / "lib" / "pkgconfig").mkdir()
    (home / PKGCONFIG).write_text(PC_TEXT, encoding="utf-8")
    assert relocate(PythonLayout(home, "3.12")) == []
    assert (home / SYSCONFIGDATA).read_text(encoding="utf-8") == _sysconfigdata(variables)
    assert (home / PKGCONFIG).read_text(encoding="utf-8") == PC_TEXT


def test_nothing_to_do_without_sysconfigdata(tmp_path: Path) -> None:
    home = tmp_path / "python"
    (home / "lib" / "pkgconfig").mkdir(parents=True)
    (home / PKGCONFIG).write_text(PC_TEXT, encoding="utf-8")
    assert build_prefix(PythonLayout(home, "3.12")) is None
    assert relocate(PythonLayout(home, "3.12")) == []
    assert relocate(PythonLayout(tmp_path / "missing", "3.12")) == []


def test_build_prefix(tmp_path: Path) -> None:
    home = _install_tree(tmp_path / "python")
    assert build_prefix(PythonLayout(home, "3.12")) == "/install"
    (home / SYSCONFIGDATA).write_text("build_time_vars = {'prefix': ''}\n", encoding="utf-8")
    assert build_prefix(PythonLayout(home, "3.12")) is None
    (home / SYSCONFIGDATA).write_text("other = {'prefix': '/x'}\n", encoding="utf-8")
    assert build_prefix(PythonLayout(home, "3.12")) is None


@pytest.mark.parametrize("name", ["py th on", "back\\1slash", "a&b$c"])
def test_unusual_install_paths(tmp_path: Path, name: str) -> None:
    home = _install_tree(tmp_path / name)
    relocate(PythonLayout(home, "3.12"))
    assert _load_sysconfigdata(home / SYSCONFIGDATA)["LIBDIR"] == f"{home}/lib"
    assert (home / PKGCONFIG).read_text(encoding="utf-8").startswith(f"prefix={home}\n")


def test_non_utf8_bytes_in_text_files_are_kept(tmp_path: Path) -> None:
    home = _install_tree(tmp_path / "python")
    (home / MAKEFILE).write_bytes(b"prefix=\t/install\n# caf\xe9\n")
    relocate(PythonLayout(home, "3.12"))
    assert (home / MAKEFILE).read_bytes() == f"prefix=\t{home}\n# caf".encode() + b"\xe9\n"
