"""Where things are inside a CPython prefix (an installed interpreter, or a venv of one).

The one place that knows CPython's directory names: ``bin/python3.X``, ``lib/python3.X``,
``include/python3.X``. A free-threaded build adds its ABI flag to each of them
(``bin/python3.13t``, ``lib/python3.13t/``), so the layout is keyed by that name, the ABI
(``3.12``, ``3.13t``), rather than by the version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from python_cnb.python.version import PythonVersion

_ABI = re.compile(r"python(3\.\d+t?)")


@dataclass(frozen=True)
class PythonLayout:
    """The paths of a CPython prefix at ``home`` whose library directory is
    ``lib/python<abi>``."""

    home: Path
    abi: str
    """``3.12``, or ``3.13t`` for a free-threaded build."""

    @classmethod
    def of(cls, home: Path, version: PythonVersion, *, free_threaded: bool = False) -> PythonLayout:
        """The layout of ``version`` installed at ``home``."""
        return cls(home, version.line + ("t" if free_threaded else ""))

    @classmethod
    def find(cls, home: Path) -> PythonLayout:
        """The layout of an existing prefix (a venv, say), read from its ``lib`` directory.

        Raises ``LookupError`` when ``home`` holds no ``lib/python3.X`` directory."""
        names = sorted(p.name for p in (home / "lib").glob("python3.*") if p.is_dir())
        for name in names:
            match = _ABI.fullmatch(name)
            if match:
                return cls(home, match.group(1))
        raise LookupError(f"no lib/python3.X directory in {home}")

    def at(self, home: Path) -> PythonLayout:
        """The same interpreter's layout at another prefix: a venv made with it."""
        return PythonLayout(home, self.abi)

    @property
    def name(self) -> str:
        """``python3.X`` (``python3.13t``): the executable's and the library's name."""
        return f"python{self.abi}"

    @property
    def bin(self) -> Path:
        return self.home / "bin"

    @property
    def executable(self) -> Path:
        """``<home>/bin/python3.X``."""
        return self.bin / self.name

    @property
    def config_script(self) -> Path:
        """``<home>/bin/python3.X-config``."""
        return self.bin / f"{self.name}-config"

    @property
    def lib(self) -> Path:
        return self.home / "lib"

    @property
    def stdlib(self) -> Path:
        """``<home>/lib/python3.X``: the standard library."""
        return self.lib / self.name

    @property
    def site_packages(self) -> Path:
        """``<home>/lib/python3.X/site-packages``."""
        return self.stdlib / "site-packages"

    @property
    def include(self) -> Path:
        """``<home>/include/python3.X``: the C headers."""
        return self.home / "include" / self.name

    @property
    def pkgconfig(self) -> Path:
        """``<home>/lib/pkgconfig``."""
        return self.lib / "pkgconfig"

    def command(self, *args: str) -> list[str]:
        """``<executable> -I -B <args>``: isolated, and writing no bytecode on import (only
        :mod:`python_cnb.programs.compile_pyc` writes ``.pyc`` files into a layer, and only
        hash-based ones)."""
        return [str(self.executable), "-I", "-B", *args]
