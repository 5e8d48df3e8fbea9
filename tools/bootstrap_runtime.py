"""The bootstrap CPython of the self-contained buildpack (``make package``), one per target.

It runs the buildpack's own detect and build on build images that have no ``python3``. It
comes from the same place as the apps' interpreters: the buildpack's CPython list, or
``BP_CPYTHON_MANIFEST``, through ``BP_DEPENDENCY_MIRROR``, checksum-verified; the newest
supported version built for the target's architecture. A runtime whose ELF machine is not
the target's is refused (a foreign interpreter dies with ``Exec format error``).

**Trimming.** The bootstrap keeps only what detect and build import: the static import
closure of every shipped module (``src/python_cnb`` and ``vendor/``), computed with the
stdlib's :mod:`modulefinder` (which also sees imports inside functions), plus what the
interpreter needs to start under ``-E -s -S`` (the ``encodings``
package, which codec look-ups import by name, and the ``sysconfig`` data it loads by
name). Test, debugging and interactive tools that stdlib modules import only in their
``_test()`` functions or ``__main__`` blocks (:data:`EXCLUDED`) are not followed. Kept: the
interpreter, ``libpython``, those modules and their extension modules, compiled to
unchecked-hash bytecode; dropped: everything else (pip, Tk, IDLE, headers, most of the
standard library). The analysis and the compiling run on an interpreter of the same
``X.Y`` that runs here: the runtime itself for this machine's architecture, else the
manifest's build of the same version for this machine (the standard library is the same
source on every architecture).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Mapping, Optional, Sequence

from python_cnb.bytecode import compile_bytecode
from python_cnb.config.settings import mirror_settings
from python_cnb.python.distributions import (
    Distribution,
    apply_mirror,
    for_target,
    load_distributions,
)
from python_cnb.python.version import default_request, resolve
from python_cnb.support.archive import extract
from python_cnb.support.download import download
from tools.locks import exclusive

ROOT = Path(__file__).resolve().parents[1]

ELF_MACHINES = {"amd64": 62, "arm64": 183}
"""ELF ``e_machine`` of each OCI architecture (EM_X86_64, EM_AARCH64)."""
_ELF_NAMES = {62: "x86-64", 183: "AArch64", 3: "i386", 40: "ARM", 243: "RISC-V"}
_MACHINE_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}

EXCLUDED = (
    "doctest",
    "unittest",
    "pdb",
    "pydoc",
    "pydoc_data",
    "xmlrpc",
    "_pyrepl",
    "idlelib",
    "tkinter",
    "turtle",
    "turtledemo",
    "ensurepip",
    "lib2to3",
    "_multibytecodec",
    "_codecs_cn",
    "_codecs_hk",
    "_codecs_iso2022",
    "_codecs_jp",
    "_codecs_kr",
    "_codecs_tw",
)
"""Not followed: tools that stdlib modules import only in ``_test()``, ``__main__`` or
interactive code (``heapq`` -> ``doctest`` -> ``unittest`` -> ``asyncio``, ``pickle`` ->
``pdb`` -> ``pydoc`` -> ``http.server``, ``multiprocessing.connection`` -> ``xmlrpc``):
never imported during detect or build, and a third of the closure otherwise. And the East
Asian multibyte codecs (1.3 MB of extension modules): detect and build decode UTF-8 only;
asking for such a codec gives "unknown encoding"."""

STARTUP = ("encodings",)
"""Imported by the interpreter itself at start-up (by name, so no import analysis sees it)."""

MARKER = ".python-cnb-pristine"


class BootstrapError(Exception):
    """A runtime that cannot be bundled for a target."""


@dataclass(frozen=True)
class Closure:
    """What the analysis found: module name -> file (None: built in), and names it could
    not import (optional or platform-specific imports, or extension modules of another
    architecture)."""

    modules: Mapping[str, Optional[str]]
    missing: tuple[str, ...]


# --- architectures ------------------------------------------------------------------------------


def host_arch() -> str:
    """This machine's OCI architecture."""
    machine = platform.machine().lower()
    return _MACHINE_ARCH.get(machine, machine)


def elf_machine(path: Path) -> Optional[int]:
    """The ELF header's ``e_machine`` of ``path``, or None when it is not an ELF file."""
    with path.open("rb") as f:
        header = f.read(20)
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    return int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")


def machine_name(machine: Optional[int]) -> str:
    """``AArch64 (183)``."""
    if machine is None:
        return "not an ELF file"
    return f"{_ELF_NAMES.get(machine, 'machine')} ({machine})"


def interpreter(home: Path) -> Path:
    """The real interpreter of a runtime: ``bin/python3.X`` (``python3`` links to it)."""
    found = sorted(
        p
        for p in (home / "bin").glob("python3.*")
        if re.fullmatch(r"python3\.\d+", p.name) and not p.is_symlink()
    )
    if not found:
        raise BootstrapError(f"{home} has no bin/python3.X interpreter")
    return found[-1]


def check_arch(home: Path, arch: str) -> None:
    """Refuse a runtime any of whose ELF files is not built for ``arch``."""
    expected = ELF_MACHINES.get(arch)
    if expected is None:
        raise BootstrapError(f"no bootstrap runtime can be bundled for architecture {arch!r}")
    python = interpreter(home)
    wrong = [(python, elf_machine(python))] if elf_machine(python) != expected else []
    for path in sorted(home.rglob("*")):
        if path.is_file() and not path.is_symlink() and path != python:
            machine = elf_machine(path)
            if machine is not None and machine != expected:
                wrong.append((path, machine))
    if wrong:
        listed = "\n".join(f"  {p.relative_to(home)}: {machine_name(m)}" for p, m in wrong[:5]) + (
            f"\n  ... and {len(wrong) - 5} more" if len(wrong) > 5 else ""
        )
        raise BootstrapError(
            f"Refusing to bundle the runtime {home} for linux/{arch}: its ELF files are not "
            f"built for {machine_name(expected)}:\n{listed}\n"
            f"On linux/{arch} they would fail with 'Exec format error'. Bundle the manifest's "
            f'linux/{arch} CPython (arch = "{arch}" in buildpack.toml or BP_CPYTHON_MANIFEST).'
        )


def runs_here(home: Path) -> bool:
    """Whether this machine can run the runtime's interpreter."""
    return elf_machine(interpreter(home)) == ELF_MACHINES.get(host_arch())


# --- choosing and fetching ----------------------------------------------------------------------


def distributions(env: Mapping[str, str]) -> tuple[Distribution, ...]:
    """The CPython list: ``BP_CPYTHON_MANIFEST`` if set, else the buildpack's own."""
    return load_distributions(env.get("BP_CPYTHON_MANIFEST"), 60)


def choose(env: Mapping[str, str], arch: Optional[str] = None) -> Distribution:
    """The distribution to bundle for linux/``arch``: the newest supported one."""
    arch = arch or host_arch()
    available = for_target(distributions(env), "linux", arch)
    if not available:
        raise BootstrapError(f"the CPython list has no build for linux/{arch}")
    version = resolve(
        default_request(), [d.version for d in available], target=arch, today=date.today()
    )
    chosen = next(d for d in available if d.version == version)
    return chosen.with_uri(apply_mirror(chosen.uri, mirror_settings(env), ()))


def same_version_here(distribution: Distribution, env: Mapping[str, str]) -> Optional[Distribution]:
    """The list's build of ``distribution``'s version for this machine, if any."""
    for candidate in for_target(distributions(env), "linux", host_arch()):
        if candidate.version == distribution.version:
            return candidate.with_uri(apply_mirror(candidate.uri, mirror_settings(env), ()))
    return None


def fetch(distribution: Distribution, cache: Path) -> Path:
    """The distribution downloaded (checksum-verified) and extracted, once, untouched."""
    home = cache / f"{distribution.arch}-{distribution.sha256[:16]}"
    with exclusive(cache / f"{home.name}.lock"):
        if (home / MARKER).is_file():
            return home
        shutil.rmtree(home, ignore_errors=True)
        with tempfile.TemporaryDirectory() as tmp:
            archive = Path(tmp) / "cpython.tar.gz"
            download(distribution.uri, archive, distribution.sha256)
            extract(archive, home, strip_components=1)
        (home / MARKER).write_text(
            f"{distribution.version} linux/{distribution.arch} {distribution.sha256}\n"
        )
    return home


def prepare_runtime(
    cache: Path, env: Optional[Mapping[str, str]] = None, arch: Optional[str] = None
) -> Path:
    """The untrimmed runtime for linux/``arch`` (default: this machine), fetched once."""
    return fetch(choose(os.environ if env is None else env, arch), cache)


def line_of(home: Path) -> str:
    """``3.13`` for a runtime whose interpreter is ``bin/python3.13``."""
    return interpreter(home).name.removeprefix("python")


# --- trimming -----------------------------------------------------------------------------------

_CLOSURE_SCRIPT = """
import json, modulefinder, sys
options = json.loads(sys.argv[1])
finder = modulefinder.ModuleFinder(path=options["path"], excludes=options["excludes"])
for name in options["roots"]:
    finder.import_hook(name)
json.dump({"modules": {n: m.__file__ for n, m in finder.modules.items()},
           "missing": sorted(finder.badmodules)}, sys.stdout)
"""


def module_names(top: Path) -> list[str]:
    """The dotted names of the ``.py`` modules under ``top`` (a ``sys.path`` entry)."""
    names = []
    for path in sorted(top.rglob("*.py")):
        parts = path.relative_to(top).with_suffix("").parts
        if "__pycache__" in parts or any(p.endswith(".dist-info") for p in parts):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and all(p.isidentifier() for p in parts):
            names.append(".".join(parts))
    return names


def closure(python: Path, home: Path, package_dir: Path) -> Closure:
    """The import closure of the package's modules against the runtime's standard library,
    computed by ``python`` (a runnable interpreter of the runtime's ``X.Y``)."""
    stdlib = home / "lib" / f"python{line_of(home)}"
    sources = [package_dir / "src", package_dir / "vendor"]
    roots = [name for top in sources for name in module_names(top)]
    roots += [*STARTUP, *(f"encodings.{n}" for n in module_names(stdlib / "encodings"))]
    options = {
        "path": [*map(str, sources), str(stdlib), str(stdlib / "lib-dynload")],
        "excludes": list(EXCLUDED),
        "roots": roots,
    }
    proc = subprocess.run(
        [str(python), "-I", "-S", "-B", "-c", _CLOSURE_SCRIPT, json.dumps(options)],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    if proc.returncode != 0:
        raise BootstrapError(f"the import analysis with {python} failed:\n{proc.stderr}")
    data = json.loads(proc.stdout)
    return Closure(data["modules"], tuple(data["missing"]))


def kept_files(home: Path, found: Closure) -> list[Path]:
    """The runtime's files (relative) a trimmed copy keeps, sorted."""
    line = line_of(home)
    stdlib = home / "lib" / f"python{line}"
    dynload = stdlib / "lib-dynload"
    keep = {Path("bin") / f"python{line}"}
    keep.update(
        p.relative_to(home)
        for p in (home / "lib").glob(f"libpython{line}*.so.*")
        if p.is_file() and not p.is_symlink()
    )
    for file in found.modules.values():
        if file and Path(file).is_relative_to(stdlib):
            keep.add(Path(file).relative_to(home))
    # Extension modules by name: the analysing interpreter may be another architecture's
    # build (other file suffixes) or have them built in.
    names = {name.split(".")[0] for name in (*found.modules, *found.missing)}
    names.difference_update(EXCLUDED)
    if dynload.is_dir():
        for path in dynload.iterdir():
            if path.suffix == ".so" and path.name.split(".")[0] in names:
                keep.add(path.relative_to(home))
    keep.update(p.relative_to(home) for p in (stdlib / "encodings").glob("*.py"))
    if "sysconfig" in found.modules:  # it imports its data module by a computed name
        for pattern in ("_sysconfigdata_*.py", "_sysconfig_vars_*.json"):
            keep.update(p.relative_to(home) for p in stdlib.glob(pattern))
    for name in ("os.py", "LICENSE.txt"):  # os.py: how the interpreter finds its prefix
        if (stdlib / name).is_file():
            keep.add((stdlib / name).relative_to(home))
    return sorted(keep)


def trim(home: Path, dest: Path, found: Closure) -> None:
    """Copy the kept part of runtime ``home`` to ``dest`` (replaced)."""
    shutil.rmtree(dest, ignore_errors=True)
    line = line_of(home)
    for rel in kept_files(home, found):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(home / rel, dest / rel)
    (dest / "lib" / f"python{line}" / "lib-dynload").mkdir(parents=True, exist_ok=True)
    (dest / "bin" / "python3").symlink_to(f"python{line}")


def compile_runtime(python: Path, runtime: Path) -> None:
    """Unchecked-hash bytecode of the trimmed standard library (``-B``: never written later)."""
    compile_bytecode(python, [runtime / "lib"], cwd=runtime, strip=runtime)


def tree_size(path: Path, *, bytecode: bool = True) -> int:
    """Bytes of the regular files under ``path`` (without ``.pyc`` unless ``bytecode``)."""
    return sum(
        p.lstat().st_size
        for p in path.rglob("*")
        if p.is_file()
        and not p.is_symlink()
        and p.name != MARKER
        and (bytecode or p.suffix != ".pyc")
    )


def analysis_python(
    home: Path,
    distribution: Optional[Distribution],
    env: Mapping[str, str],
    cache: Path,
    pythons: Sequence[Path] = (),
) -> Path:
    """An interpreter of ``home``'s ``X.Y`` that runs here (see the module docstring)."""
    if runs_here(home):
        return interpreter(home)
    line = line_of(home)
    if distribution is not None:
        here = same_version_here(distribution, env)
        if here is not None:
            return interpreter(fetch(here, cache))
    for python in pythons:
        if python.name == f"python{line}":
            return python
    raise BootstrapError(
        f"Cannot analyse or compile the linux/{distribution.arch if distribution else '?'} "
        f"CPython {line} on this {host_arch()} machine: its interpreter cannot run here, and "
        f"no CPython {line} that runs here was found (in the CPython list, or among "
        "PACKAGE_BYTECODE_PYTHONS / pyenv / PATH)."
    )
