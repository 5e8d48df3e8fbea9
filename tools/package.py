"""Assemble and archive the packaged buildpack (``make package``, ``make package-slim``).

    python -m tools.package [--out dist] [--slim] [--target linux/amd64 ...]

**Self-contained (the default).** For each ``[[targets]]`` entry of buildpack.toml, a
buildpack that needs nothing from the build image but ``/bin/sh`` and glibc: it carries a
trimmed bootstrap CPython of that target's architecture under ``runtime/`` (see
:mod:`tools.bootstrap_runtime`). The output is pack's multi-platform layout plus one archive
per target::

    dist/python-cnb-<v>/buildpack.toml       every target; what pack reads
    dist/python-cnb-<v>/linux/amd64/          bin/ libexec/ src/ vendor/ runtime/ README.md
    dist/python-cnb-<v>/linux/arm64/          the same, with an arm64 runtime
    dist/python-cnb-<v>-linux-amd64.tgz       buildpack.toml declaring linux/amd64 only + files
    dist/python-cnb-<v>-linux-arm64.tgz

The platform directories hold no ``buildpack.toml``: ``pack buildpack package --path
dist/python-cnb-<v> [--target linux/arm64]`` copies the root one into each platform
directory it packages and deletes it afterwards (it would overwrite one of ours, then
remove it). Each ``.tgz`` is the buildpack pack makes of one platform directory, with a
``buildpack.toml`` that declares only its own target, so that a builder never matches it on
another architecture: for ``pack build --buildpack`` and ``pack builder create``.

It also carries the pinned uv binary of its target under ``tools/uv/`` (see
:func:`carry_uv`): the wheel is fetched from the package index (``PIP_INDEX_URL``, default
PyPI) and checked against that target's SHA-256 in buildpack.toml's
``[metadata.tools.uv]``; the build then copies that binary into its ``uv`` layer instead of
fetching uv, so an offline build needs no uv wheel among the app's vendored packages.

**Slim (``--slim``, ``BUNDLE_RUNTIME=0``).** No runtime: detect and build run on the build
image's ``python3`` (3.9 or newer), so one directory serves every target:
``dist/python-cnb-<v>-slim/`` (``buildpack.toml`` at its root) and its ``.tgz``. Its library
carries bytecode for every CPython 3.9-3.13 found on this machine (pyenv's, or ``python3.X``
on PATH; ``PACKAGE_BYTECODE_PYTHONS`` lists interpreters explicitly, or ``none``), so
detect and build start without compiling the buildpack first (about 50 ms of each phase
otherwise). The self-contained packages carry bytecode for their own runtime only.

Every buildpack directory holds exactly what detect and build need: ``bin/``, ``libexec/``,
``src/python_cnb`` and ``vendor/`` (the runtime dependencies, pure-Python wheels installed
with pip); the lifecycle runner, ``src/python_cnb_lifecycle``, is a dev tool and never shipped.
The archives are reproducible: sorted entries, fixed timestamps and owners, normalised modes,
gzip without a timestamp.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

from python_cnb.buildpack_error import BuildpackError
from python_cnb.bytecode import compile_bytecode
from python_cnb.cnb import NORMALIZED_MTIME, toml_file
from python_cnb.config.index import IndexSettings
from python_cnb.config.tool_specs import tool_spec
from python_cnb.errors import describe
from python_cnb.layers.uv import CARRIED_DIR, CARRIED_RECORD, CarriedUv
from python_cnb.support.digests import file_sha256
from python_cnb.support.simple_index import fetch_pinned
from tools import bootstrap_runtime as bootstrap
from tools.tarballs import write_tarball

ROOT = Path(__file__).resolve().parents[1]


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


@dataclass(frozen=True)
class Target:
    """One ``[[targets]]`` entry (os and arch; python-cnb declares no distros)."""

    os: str
    arch: str

    @property
    def path(self) -> str:
        """pack's platform directory: ``linux/amd64``."""
        return f"{self.os}/{self.arch}"

    @property
    def slug(self) -> str:
        """``linux-amd64``, for file names and image tags."""
        return f"{self.os}-{self.arch}"

    @classmethod
    def parse(cls, text: str) -> Target:
        """``linux/amd64``."""
        os_name, _, arch = text.partition("/")
        if not os_name or not arch or "/" in arch:
            raise PackageError(f"target {text!r} is not <os>/<arch> (e.g. linux/arm64)")
        return cls(os_name, arch)


class PackageError(Exception):
    """The package cannot be built as asked."""


def targets(descriptor: Optional[Mapping[str, Any]] = None) -> list[Target]:
    """The ``[[targets]]`` of buildpack.toml."""
    if descriptor is None:
        descriptor = toml_file.read(ROOT / "buildpack.toml")
    return [Target(t["os"], t["arch"]) for t in descriptor.get("targets", [])]


def narrowed_descriptor(kept_targets: Sequence[Target], text: Optional[str] = None) -> str:
    """buildpack.toml declaring only ``kept_targets``: the other ``[[targets]]`` tables are cut
    out of the text, so everything else (the generated CPython list included) stays as
    written."""
    if text is None:
        text = (ROOT / "buildpack.toml").read_text(encoding="utf-8")
    blocks: list[list[str]] = [[]]
    for line in text.splitlines(keepends=True):
        if line.startswith("[") and not line.startswith("[[targets.distros]]"):
            blocks.append([])
        blocks[-1].append(line)
    kept = []
    for block in blocks:
        if block and block[0].strip() == "[[targets]]":
            entry = toml_file.loads("".join(block[1:]))
            if Target(entry.get("os", ""), entry.get("arch", "")) not in kept_targets:
                continue
        kept.append("".join(block))
    narrowed = "".join(kept)
    original = toml_file.loads(text)
    expected = {
        **original,
        "targets": [
            t for t in original.get("targets", []) if Target(t["os"], t["arch"]) in kept_targets
        ],
    }
    if toml_file.loads(narrowed) != expected or len(expected["targets"]) != len(kept_targets):
        listed = ", ".join(t.path for t in kept_targets)
        raise PackageError(f"cannot narrow buildpack.toml's [[targets]] to {listed}")
    return narrowed


def _copy_buildpack_files(target: Path) -> None:
    for name in ("README.md", "LICENSE"):
        if (ROOT / name).is_file():
            shutil.copyfile(ROOT / name, target / name)
    for directory in ("bin", "libexec"):
        shutil.copytree(ROOT / directory, target / directory)
    _copy_tree(ROOT / "src" / "python_cnb", target / "src" / "python_cnb")
    _copy_tree(ensure_vendor(), target / "vendor")


IMPORT_CHECK = """
import importlib, json, sys
bp_dir = sys.argv[1]
sys.path[0:1] = [bp_dir + "/src", bp_dir + "/vendor"]
for name in json.loads(sys.argv[2]):
    importlib.import_module(name)
outside = sorted({m.__file__ for m in list(sys.modules.values())
                  if getattr(m, "__file__", None) and not m.__file__.startswith(bp_dir + "/")})
print(json.dumps(outside))
"""
"""Imports every shipped module the way the shim runs (``-E -s -S -B -X utf8``) and prints
the files of modules loaded from outside the buildpack (there must be none)."""


def check_imports(python: Path, buildpack_dir: Path) -> None:
    """Every shipped module imports with ``python``, from inside the buildpack only."""
    names = [
        n
        for top in ("src", "vendor")
        for n in bootstrap.module_names(buildpack_dir / top)
        if not n.endswith("__main__")
    ]
    proc = subprocess.run(
        [
            str(python),
            "-E",
            "-s",
            "-S",
            "-B",
            "-X",
            "utf8",
            "-c",
            IMPORT_CHECK,
            str(buildpack_dir),
            json.dumps(names),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    if proc.returncode != 0 or json.loads(proc.stdout or "null") != []:
        raise PackageError(
            f"the bundled runtime cannot import the buildpack's modules:\n"
            f"{proc.stdout}{proc.stderr}"
        )


def assemble(
    target: Path,
    *,
    runtime: Optional[Path] = None,
    arch: Optional[str] = None,
    pythons: Optional[Sequence[Path]] = None,
    analysis: Optional[Path] = None,
    descriptor: bool = True,
) -> Path:
    """Write a buildpack directory to ``target`` (replacing it) and return it.

    Without ``runtime``: the slim buildpack (``buildpack.toml`` declaring every target,
    bytecode for each of ``pythons``). With ``runtime`` (an untrimmed CPython of
    linux/``arch``, default this machine's): the self-contained buildpack for that target,
    refused when the runtime's ELF files are another architecture's; its trimmed copy goes
    to ``runtime/``, analysed and compiled by ``analysis`` (an interpreter of the same X.Y
    that runs here; default the runtime's own). ``descriptor=False`` leaves out
    ``buildpack.toml`` (a platform directory of the multi-platform layout).
    """
    if runtime is not None:
        arch = arch or bootstrap.host_arch()
        try:
            bootstrap.check_arch(runtime, arch)
        except bootstrap.BootstrapError as error:
            raise PackageError(str(error)) from None
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    _copy_buildpack_files(target)
    if runtime is None:
        if descriptor:
            shutil.copyfile(ROOT / "buildpack.toml", target / "buildpack.toml")
        compile_library(target, bytecode_pythons() if pythons is None else pythons)
        return target
    if descriptor:
        (target / "buildpack.toml").write_text(
            narrowed_descriptor([Target("linux", str(arch))]), encoding="utf-8"
        )
    python = analysis or bootstrap.interpreter(runtime)
    if analysis is None and not bootstrap.runs_here(runtime):
        raise PackageError(
            f"the linux/{arch} runtime {runtime} cannot run on this {bootstrap.host_arch()} "
            "machine: give an interpreter of the same X.Y that runs here to analyse it"
        )
    try:
        found = bootstrap.closure(python, runtime, target)
    except bootstrap.BootstrapError as error:
        raise PackageError(str(error)) from None
    bootstrap.trim(runtime, target / "runtime", found)
    bootstrap.compile_runtime(python, target / "runtime")
    compile_library(target, [python])
    if bootstrap.runs_here(target / "runtime"):
        check_imports(target / "runtime" / "bin" / "python3", target)
    return target


def uv_wheel(arch: str, env: Mapping[str, str], cache: Path) -> Path:
    """The pinned uv wheel for linux/``arch`` (one whose SHA-256 buildpack.toml lists for that
    architecture), from ``cache`` or the package index (``PIP_INDEX_URL``, default PyPI)."""
    metadata = toml_file.read(ROOT / "buildpack.toml").get("metadata", {})
    spec = tool_spec(metadata, "uv", arch)
    if not spec.hashes:
        raise PackageError(f"buildpack.toml pins no uv wheel for linux/{arch}")
    cache.mkdir(parents=True, exist_ok=True)
    for cached in sorted(cache.glob(f"uv-{spec.version}-*.whl")):
        if file_sha256(cached) in spec.hashes:
            return cached
    index = IndexSettings(index_url=env.get("PIP_INDEX_URL") or None)
    with tempfile.TemporaryDirectory(prefix="package-uv-", dir=cache) as tmp:
        found = fetch_pinned("uv", spec.hashes, Path(tmp), index, env)
        if found is None:
            raise PackageError(
                f"no uv {spec.version} wheel for linux/{arch} with a SHA-256 pinned in "
                f"buildpack.toml could be fetched from {index.index_url or 'PyPI'} "
                "(PIP_INDEX_URL names the index)"
            )
        return found.replace(cache / found.name)


def carry_uv(directory: Path, arch: str, wheel: Path) -> CarriedUv:
    """Put the uv binary of ``wheel`` (checked to be built for ``arch``) into the buildpack
    ``directory``, with the record the build checks it against."""
    metadata = toml_file.read(ROOT / "buildpack.toml").get("metadata", {})
    spec = tool_spec(metadata, "uv", arch)
    wheel_sha256 = file_sha256(wheel)
    if wheel_sha256 not in spec.hashes:
        raise PackageError(f"{wheel.name}'s SHA-256 is not pinned for linux/{arch}")
    binary = directory / CARRIED_DIR / "bin" / "uv"
    binary.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        member = next(n for n in archive.namelist() if n.endswith(".data/scripts/uv"))
        binary.write_bytes(archive.read(member))
    binary.chmod(0o755)
    machine = bootstrap.elf_machine(binary)
    if machine != bootstrap.ELF_MACHINES.get(arch):
        raise PackageError(
            f"{wheel.name}'s uv is built for {bootstrap.machine_name(machine)}, not linux/{arch}"
        )
    carried = CarriedUv(spec.version, arch, wheel.name, wheel_sha256, file_sha256(binary))
    toml_file.write(directory / CARRIED_DIR / CARRIED_RECORD, carried.to_toml())
    return carried


def archive(directory: Path, output: Path, *, extra: Optional[Mapping[str, bytes]] = None) -> Path:
    """A reproducible ``.tgz`` of ``directory`` (its contents at the archive root), plus the
    ``extra`` files (name at the root -> contents)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("wb") as raw:
        write_tarball(directory, raw, mtime=NORMALIZED_MTIME, extra=extra)
    return output


@dataclass(frozen=True)
class Sizes:
    """What ``make package`` reports for one target, in bytes."""

    runtime_untrimmed: int
    """The CPython as downloaded and extracted (no bytecode)."""
    runtime_trimmed: int
    """``runtime/`` without its bytecode."""
    runtime: int
    """``runtime/`` as shipped (with bytecode)."""
    uv: int
    """The carried uv binary."""
    unpacked: int
    """The whole buildpack as shipped."""
    tgz: int


@dataclass(frozen=True)
class Built:
    """The self-contained packages of one ``make package``."""

    layout: Path
    directories: Mapping[Target, Path]
    archives: Mapping[Target, Path]
    sizes: Mapping[Target, Sizes]
    versions: Mapping[Target, str]


def build(
    out: Path,
    *,
    selected: Optional[Sequence[Target]] = None,
    env: Optional[Mapping[str, str]] = None,
    cache: Optional[Path] = None,
    pythons: Optional[Sequence[Path]] = None,
) -> Built:
    """The self-contained packages (see the module docstring) for ``selected`` targets
    (default every declared one); the CPythons come from ``env``'s settings."""
    env = os.environ if env is None else env
    cache = ROOT / ".cache" / "runtime" if cache is None else cache
    declared = targets()
    chosen = list(declared if selected is None else selected)
    for target in chosen:
        if target not in declared:
            listed = ", ".join(t.path for t in declared)
            raise PackageError(f"{target.path} is not a target of buildpack.toml ({listed})")
        if target.os != "linux" or target.arch not in bootstrap.ELF_MACHINES:
            raise PackageError(f"no bootstrap CPython can be bundled for {target.path}")
    name = f"python-cnb-{version()}"
    layout = out / name
    shutil.rmtree(layout, ignore_errors=True)
    layout.mkdir(parents=True)
    (layout / "buildpack.toml").write_text(narrowed_descriptor(chosen), encoding="utf-8")
    directories, archives, sizes, versions = {}, {}, {}, {}
    for target in chosen:
        try:
            distribution = bootstrap.choose(env, target.arch)
            home = bootstrap.fetch(distribution, cache)
            analysis = bootstrap.analysis_python(
                home,
                distribution,
                env,
                cache,
                bytecode_pythons(env) if pythons is None else pythons,
            )
        except bootstrap.BootstrapError as error:
            raise PackageError(str(error)) from None
        except BuildpackError as error:  # the manifest, the mirror or the download
            title, body = describe(error)
            raise PackageError(f"bootstrap CPython for {target.path}: {title}\n{body}") from None
        directory = assemble(
            layout / target.path,
            runtime=home,
            arch=target.arch,
            analysis=analysis,
            descriptor=False,
        )
        try:
            carry_uv(directory, target.arch, uv_wheel(target.arch, env, cache / "uv"))
        except BuildpackError as error:
            title, body = describe(error)
            raise PackageError(f"uv for {target.path}: {title}\n{body}") from None
        tgz = archive(
            directory,
            out / f"{name}-{target.slug}.tgz",
            extra={"buildpack.toml": narrowed_descriptor([target]).encode()},
        )
        directories[target], archives[target] = directory, tgz
        versions[target] = str(distribution.version)
        sizes[target] = Sizes(
            runtime_untrimmed=bootstrap.tree_size(home, bytecode=False),
            runtime_trimmed=bootstrap.tree_size(directory / "runtime", bytecode=False),
            runtime=bootstrap.tree_size(directory / "runtime"),
            uv=bootstrap.tree_size(directory / CARRIED_DIR),
            unpacked=bootstrap.tree_size(directory),
            tgz=tgz.stat().st_size,
        )
    return Built(layout, directories, archives, sizes, versions)


def build_slim(out: Path) -> tuple[Path, Path]:
    """The slim package: ``dist/python-cnb-<v>-slim/`` and its ``.tgz``."""
    name = f"python-cnb-{version()}-slim"
    directory = assemble(out / name)
    return directory, archive(directory, out / f"{name}.tgz")


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def main(argv: Optional[list[str]] = None) -> int:
    """Build the packages; print the paths and sizes."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.package",
        description=(__doc__ or "").split("\n\n")[0],
    )
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument(
        "--slim",
        action="store_true",
        default=os.environ.get("BUNDLE_RUNTIME", "").strip().lower() in ("0", "false", "no"),
        help="no bundled runtime; uses the build image's python3 (BUNDLE_RUNTIME=0)",
    )
    parser.add_argument(
        "--target",
        action="append",
        type=Target.parse,
        help="only this [[targets]] entry, e.g. linux/arm64 (repeatable; default: all)",
    )
    options = parser.parse_args(argv)
    try:
        if options.slim:
            directory, tgz = build_slim(options.out)
            print(f"slim buildpack: {directory}\narchive: {tgz} ({_mb(tgz.stat().st_size)})")
            return 0
        built = build(options.out, selected=options.target)
    except PackageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"multi-platform layout: {built.layout}")
    for target, tgz in built.archives.items():
        size = built.sizes[target]
        print(
            f"{target.path}: {tgz} ({_mb(size.tgz)}; unpacked {_mb(size.unpacked)}); "
            f"bootstrap CPython {built.versions[target]}: {_mb(size.runtime_untrimmed)} "
            f"untrimmed, {_mb(size.runtime_trimmed)} trimmed, {_mb(size.runtime)} with "
            f"bytecode; uv {_mb(size.uv)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
