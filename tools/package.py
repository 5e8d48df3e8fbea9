"""Assemble and archive the packaged buildpack (``make package``).

    python -m tools.package [--out dist] [--bundle-runtime]

The buildpack directory holds exactly what detect and build need: ``buildpack.toml``,
``bin/``, ``libexec/``, ``src/python_cnb`` (without the lifecycle runner, a dev tool) and
``vendor/`` (the runtime dependencies, pure-Python wheels installed with pip). With
``--bundle-runtime`` (``BUNDLE_RUNTIME=1``) it also carries a bootstrap CPython under
``runtime/`` so build images without python3 work. The ``.tgz`` is reproducible: sorted
entries, fixed timestamps and owners, normalised modes, gzip without a timestamp.

The library and its vendored dependencies carry bytecode (unchecked-hash ``.pyc``, so it is
reproducible and never rewritten) for every CPython 3.9-3.13 found on this machine (pyenv's,
or ``python3.X`` on PATH; ``PACKAGE_BYTECODE_PYTHONS`` lists interpreters explicitly, or
``none``): whichever of them a build image's ``python3`` is, detect and build start without
compiling the buildpack first (about 50 ms of each phase otherwise).
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Mapping, Optional, Sequence

from python_cnb.bytecode import compile_bytecode
from python_cnb.cnb import toml_file

ROOT = Path(__file__).resolve().parents[1]
EPOCH = 315532801  # 1980-01-01T00:00:01Z, as the lifecycle normalises
_EXCLUDED_PACKAGES = ("lifecycle",)


def _copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(
        source,
        target,
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".installed", "bin"),
    )


def version() -> str:
    """The buildpack version from buildpack.toml."""
    return str(toml_file.read(ROOT / "buildpack.toml")["buildpack"]["version"])


def ensure_vendor() -> Path:
    """The vendored runtime dependencies (``make vendor``)."""
    vendor = ROOT / "vendor"
    if not (vendor / ".installed").is_file():
        subprocess.run(["make", "-C", str(ROOT), "vendor"], check=True)
    return vendor


BYTECODE_VERSIONS = ("3.9", "3.10", "3.11", "3.12", "3.13")


def bytecode_pythons(env: Optional[Mapping[str, str]] = None) -> list[Path]:
    """The interpreters to compile the buildpack's code with (see the module docstring)."""
    env = os.environ if env is None else env
    listed = env.get("PACKAGE_BYTECODE_PYTHONS", "").split()
    if listed:
        return [] if listed == ["none"] else [Path(p) for p in listed]
    pyenv = Path(env.get("PYENV_ROOT", "/root/.pyenv")) / "versions"
    found = []
    for line in BYTECODE_VERSIONS:
        builds = sorted(
            pyenv.glob(f"{line}.*/bin/python{line}"),
            key=lambda p: [int(x) if x.isdigit() else 0 for x in p.parents[1].name.split(".")],
        )
        on_path = shutil.which(f"python{line}", path=env.get("PATH", ""))
        if builds:
            found.append(builds[-1])
        elif on_path:
            found.append(Path(on_path))
    return found


def compile_library(target: Path, pythons: Sequence[Path]) -> None:
    """Bytecode of ``src`` and ``vendor`` for each interpreter, side by side in __pycache__."""
    for python in pythons:
        compile_bytecode(python, [target / "src", target / "vendor"], cwd=target, strip=target)


def assemble(
    target: Path,
    *,
    runtime: Optional[Path] = None,
    pythons: Optional[Sequence[Path]] = None,
) -> Path:
    """Write the buildpack directory to ``target`` (replacing it) and return it."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copyfile(ROOT / "buildpack.toml", target / "buildpack.toml")
    for name in ("README.md", "LICENSE"):
        if (ROOT / name).is_file():
            shutil.copyfile(ROOT / name, target / name)
    for directory in ("bin", "libexec"):
        shutil.copytree(ROOT / directory, target / directory)
    _copy_tree(ROOT / "src" / "python_cnb", target / "src" / "python_cnb")
    for excluded in _EXCLUDED_PACKAGES:
        shutil.rmtree(target / "src" / "python_cnb" / excluded)
    _copy_tree(ensure_vendor(), target / "vendor")
    if runtime is not None:
        shutil.copytree(
            runtime,
            target / "runtime",
            symlinks=True,
            ignore=shutil.ignore_patterns(".python-cnb-runtime"),
        )
        from tools.bootstrap_runtime import compile_package

        compile_package(target / "runtime", target)
    compile_library(target, bytecode_pythons() if pythons is None else pythons)
    return target


def _normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime = EPOCH
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if info.isfile() or info.isdir():
        info.mode = 0o755 if info.isdir() or info.mode & 0o111 else 0o644
    return info


def archive(directory: Path, output: Path) -> Path:
    """A reproducible ``.tgz`` of ``directory`` (its contents at the archive root)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for root, dirs, files in os.walk(directory):
            dirs.sort()
            for name in sorted(dirs + files):
                path = Path(root, name)
                tar.add(
                    path,
                    arcname=str(path.relative_to(directory)),
                    recursive=False,
                    filter=_normalise,
                )
    output.parent.mkdir(parents=True, exist_ok=True)
    with (
        output.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as stream,
    ):
        stream.write(buffer.getvalue())
    return output


def main(argv: Optional[list[str]] = None) -> int:
    """Assemble and archive; print the paths."""
    parser = argparse.ArgumentParser(prog="python -m tools.package", description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument(
        "--bundle-runtime",
        action="store_true",
        default=os.environ.get("BUNDLE_RUNTIME", "") not in ("", "0", "false"),
        help="also bundle a bootstrap CPython under runtime/ (BUNDLE_RUNTIME=1)",
    )
    options = parser.parse_args(argv)
    runtime = None
    if options.bundle_runtime:
        from tools.bootstrap_runtime import prepare_runtime

        runtime = prepare_runtime(ROOT / ".cache" / "runtime")
    name = f"python-cnb-{version()}" + ("-runtime" if runtime is not None else "")
    directory = assemble(options.out / name, runtime=runtime)
    tgz = archive(directory, options.out / f"{name}.tgz")
    print(f"buildpack directory: {directory}\narchive: {tgz}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
