"""The ``python`` layer: a verified CPython (build, launch, cache)."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from python_cnb import notices, output
from python_cnb.bytecode import SOURCE_DATE_EPOCH, compile_bytecode
from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.layer_env import LayerEnv, Scope
from python_cnb.cnb.layers import Layer, LayerTypes, cached_layer
from python_cnb.layers import log_decision
from python_cnb.layers import manifest as layer_manifest
from python_cnb.python.distributions import Distribution
from python_cnb.python.layout import PythonLayout
from python_cnb.python.relocate import relocate
from python_cnb.python.version import PythonVersion
from python_cnb.sbom import EXTENSION, python_sbom
from python_cnb.support.archive import extract
from python_cnb.support.commands import CommandFailed, run_quiet, tail
from python_cnb.support.download import TLS, download

LAYER_NAME = "python"
TYPES = LayerTypes(build=True, launch=True, cache=True)
LAYOUT = "2"
"""Bump when the way the layer is built changes, to invalidate every cached one."""


@dataclass(frozen=True)
class PythonLayerMetadata:
    """What a cached interpreter must match to be reused."""

    python_version: str = field(metadata={"label": "Python version"})
    checksum: str = field(metadata={"label": "CPython archive checksum"})
    os: str = field(metadata={"label": "target OS"})
    arch: str = field(metadata={"label": "target architecture"})
    distro_name: str = field(metadata={"label": "target distribution"})
    distro_version: str = field(metadata={"label": "target distribution version"})
    layout: str = field(metadata={"label": "python-cnb interpreter layout"})
    contents: str = field(
        default="", metadata={"label": "content manifest (SHA-256)", "invalidates": False}
    )
    """The SHA-256 of the layer's content manifest (:mod:`python_cnb.layers.manifest`)."""


@dataclass(frozen=True)
class InstalledPython:
    """The interpreter in the ``python`` layer."""

    home: Path
    version: PythonVersion
    distribution: Distribution
    reused: bool

    @property
    def layout(self) -> PythonLayout:
        """Where its executable, standard library, site-packages and headers are."""
        return PythonLayout.of(self.home, self.version)

    @property
    def executable(self) -> Path:
        """``<layer>/bin/python3.X``."""
        return self.layout.executable

    def command(self, *args: str) -> list[str]:
        """Run the interpreter isolated (``-I``) and without writing bytecode (``-B``): only
        :mod:`python_cnb.programs.compile_pyc` writes ``.pyc`` files into a launch layer, and only
        hash-based ones."""
        return self.layout.command(*args)

    def run_program(self, program: Path, app_dir: Path) -> Any:
        """The JSON a :mod:`python_cnb.programs` script prints about ``app_dir``, run by this
        interpreter (the app's grammar and standard library), with nothing of the build's
        environment but ``PATH``."""
        text = run_quiet(
            self.command(str(program), str(app_dir)),
            cwd=app_dir,
            env={"PATH": "/usr/bin:/bin"},
            display=f"python {program.name}",
        )
        return json.loads(text)


def _damaged(previous: PythonLayerMetadata, layer: Layer) -> list[str]:
    """Every way the restored interpreter differs from what was installed: a file changed,
    missing or added (a package's build may have written into it), or no manifest."""
    return layer_manifest.verify(layer.path, previous.contents).reasons()


def install_python(
    ctx: BuildContext,
    distribution: Distribution,
    *,
    timeout: float,
    retries: int,
    tls: TLS,
    keep_cache: bool = True,
) -> InstalledPython:
    """Reuse the cached interpreter, or download (over ``tls``), verify and install
    ``distribution``."""
    metadata = PythonLayerMetadata(
        python_version=str(distribution.version),
        checksum=distribution.sha256,
        os=ctx.target.os,
        arch=ctx.target.arch,
        distro_name=ctx.target.distro_name,
        distro_version=ctx.target.distro_version,
        layout=LAYOUT,
    )
    decision = cached_layer(
        ctx.layers_dir,
        LAYER_NAME,
        types=TYPES,
        metadata=metadata,
        extra_reasons=_damaged,
        keep=keep_cache,
        before_discard=lambda layer: layer_manifest.abandon(layer.path),
    )
    cached = decision.previous.python_version if decision.previous else str(distribution.version)
    log_decision(decision, f"Python {cached}")
    layer = decision.layer
    if decision.reused and decision.previous is not None:
        contents = decision.previous.contents
    else:
        _install(layer, distribution, timeout, retries, tls)
        contents = layer_manifest.write_manifest(layer.path)
    installed = InstalledPython(layer.path, distribution.version, distribution, decision.reused)
    _environment(installed).write(layer.path)
    layer.write(TYPES, replace(metadata, contents=contents))
    layer.write_sbom(
        EXTENSION,
        python_sbom(
            str(distribution.version),
            distribution.sha256,
            distribution.purl,
            distribution.cpe,
            distribution.licenses,
        ),
        ctx.buildpack.sbom_formats,
    )
    return installed


def _install(
    layer: Layer,
    distribution: Distribution,
    timeout: float,
    retries: int,
    tls: TLS,
) -> None:
    output.info(f"Downloading CPython {distribution.version} from {distribution.uri}")
    with tempfile.TemporaryDirectory(prefix="python-cnb-download-") as tmp:
        archive = Path(tmp) / "cpython.tar.gz"
        download(
            distribution.uri,
            archive,
            distribution.sha256,
            timeout=timeout,
            retries=retries,
            context=tls,
            size=distribution.size,
            on_retry=lambda attempt, reason: output.info(
                f"Download attempt {attempt} failed ({reason}); retrying"
            ),
        )
        size = archive.stat().st_size / 1024 / 1024
        output.info(f"Verified SHA-256 {distribution.sha256[:12]}… ({size:.1f} MB)")
        extract(archive, layer.path, strip_components=1)
    layout = PythonLayout.of(layer.path, distribution.version)
    relocate(layout)
    _remove_installers(layout)
    _compile_stdlib(layout)
    output.info(f"Installed CPython {distribution.version}")


def _remove_installers(layout: PythonLayout) -> None:
    """pip and setuptools have no place in the launch image: the app's venv is made without
    them, and tools run from build-only layers. ``ensurepip`` stays, so ``venv`` works."""
    site_packages = layout.site_packages
    removed = False
    for pattern in (
        "pip",
        "pip-*",
        "setuptools",
        "setuptools-*",
        "_distutils_hack",
        "distutils-precedence.pth",
        "pkg_resources",
        "wheel",
        "wheel-*",
    ):
        for path in site_packages.glob(pattern):
            removed = True
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    for script in layout.bin.glob("pip*"):
        script.unlink()
    if removed:
        output.info(
            "Removed pip and setuptools from the interpreter (the launch image needs neither)"
        )


STDLIB_NOT_COMPILED = (
    r"(/|^)(test|tests|site-packages|idlelib|tkinter|turtledemo|lib2to3|pydoc_data|ensurepip)/"
)
"""Parts of the standard library no app server imports: test suites, the IDE, Tk, 2to3,
pydoc's topics, ensurepip (1 MB of bytecode in the image, 0.3 s of build). Should an app
import one, it is compiled in memory, as before."""


def _compile_stdlib(layout: PythonLayout) -> None:
    """CPython archives ship no bytecode: compile the stdlib once, so that the first request
    of the app compiles nothing and rebuilds give the same bytes."""
    try:
        compile_bytecode(
            layout.executable,
            [layout.stdlib],
            cwd=layout.home,
            exclude=STDLIB_NOT_COMPILED,
            display="compile bytecode (standard library)",
        )
    except CommandFailed as error:
        output.warning(*notices.stdlib_not_compiled(tail(error.output, 10)))


def _environment(python: InstalledPython) -> LayerEnv:
    env = LayerEnv()
    env.default("PYTHONUNBUFFERED", "1")
    env.prepend("CPATH", str(python.layout.include), ":", Scope.BUILD)
    env.prepend("PKG_CONFIG_PATH", str(python.layout.pkgconfig), ":", Scope.BUILD)
    env.default("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH, Scope.BUILD)
    return env
