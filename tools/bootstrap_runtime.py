"""A bootstrap CPython for the packaged buildpack (``BUNDLE_RUNTIME=1 make package``).

It runs the buildpack's own detect and build on build images that have no ``python3``. It
comes from the same place as the apps' interpreters: the buildpack's CPython list, or
``BP_CPYTHON_MANIFEST``, through ``BP_DEPENDENCY_MIRROR``, checksum-verified; the newest
supported version for this machine's architecture. It is trimmed (no pip, setuptools,
ensurepip, Tk, IDLE) and its standard library is compiled to hash-based bytecode.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Mapping, Optional

from python_cnb.archive import extract
from python_cnb.bytecode import compile_bytecode
from python_cnb.distributions import Distribution, apply_mirror, for_target, load_distributions
from python_cnb.download import download
from python_cnb.lifecycle.workspace import Target
from python_cnb.python_version import default_request, resolve

ROOT = Path(__file__).resolve().parents[1]
TRIMMED = ("idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data")


def choose(env: Mapping[str, str]) -> Distribution:
    """The distribution to bundle: the newest supported one for this architecture."""
    target = Target.host()
    distributions = for_target(
        load_distributions(env.get("BP_CPYTHON_MANIFEST"), 60), "linux", target.arch
    )
    version = resolve(
        default_request(),
        [d.version for d in distributions],
        target=target.arch,
        today=date.today(),
    )
    chosen = next(d for d in distributions if d.version == version)
    return chosen.with_uri(apply_mirror(chosen.uri, env, ()))


def _trim(home: Path, line: str) -> None:
    stdlib = home / "lib" / f"python{line}"
    for name in TRIMMED:
        shutil.rmtree(stdlib / name, ignore_errors=True)
    for path in (stdlib / "site-packages").glob("*"):
        if path.name != "README.txt":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for path in (home / "bin").iterdir():
        if not path.name.startswith("python"):
            path.unlink()
    shutil.rmtree(home / "include", ignore_errors=True)
    shutil.rmtree(home / "share", ignore_errors=True)


def prepare_runtime(cache: Path, env: Optional[Mapping[str, str]] = None) -> Path:
    """The bootstrap runtime directory, downloaded and prepared once per distribution."""
    env = os.environ if env is None else env
    distribution = choose(env)
    home = cache / distribution.sha256[:16]
    marker = home / ".python-cnb-runtime"
    if marker.is_file():
        return home
    shutil.rmtree(home, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "cpython.tar.gz"
        download(distribution.uri, archive, distribution.sha256)
        extract(archive, home, strip_components=1)
    line = f"{distribution.version.major}.{distribution.version.minor}"
    _trim(home, line)
    compile_bytecode(home / "bin" / f"python{line}", [home / "lib" / f"python{line}"], cwd=home)
    marker.write_text(f"{distribution.version} {distribution.sha256}\n")
    return home


def compile_package(runtime: Path, package_dir: Path) -> None:
    """Compile the buildpack's own code with the bundled runtime (faster detect and build)."""
    python = next((runtime / "bin").glob("python3.*[0-9]"))
    compile_bytecode(
        python, [package_dir / "src", package_dir / "vendor"], cwd=package_dir, strip=package_dir
    )
