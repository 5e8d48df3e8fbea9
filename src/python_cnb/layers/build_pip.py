"""The ``venv-pip`` layer (build only): ``pip`` for the buildpacks after python-cnb.

A later buildpack of the same build that runs ``pip install X`` (Heroku's testing buildpack
checks that later buildpacks can) must install into the app's virtual environment: the
``venv`` layer is a build layer, so its ``bin`` is on their ``PATH``, but the venv has no pip
and the interpreter's was removed (the launch image needs neither). This layer's
``bin/pip`` and ``bin/pip3`` run the pip wheel the interpreter carries for ``ensurepip`` with
the venv's ``python``, so what they install lands in the venv (and ships with it). The layer
is build-only and not cached: pip never reaches the launch image, and the two scripts are
written anew each build. Its name sorts after every other build layer's (``pip`` and
``poetry`` hold tool venvs with a pip of their own): the lifecycle prepends each build
layer's ``bin`` to ``PATH`` in name order, so this ``pip`` comes first.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.layers import Layer, LayerTypes
from python_cnb.layers.python import InstalledPython
from python_cnb.layers.uv import bundled_pip

LAYER_NAME = "venv-pip"
TYPES = LayerTypes(build=True)
COMMANDS = ("pip", "pip3")


def shim(venv_python: Path, pip_wheel: Path) -> str:
    """A ``pip`` that runs the bundled pip wheel with the venv's interpreter (not ``-I``: a
    script inside a wheel needs its directory on ``sys.path``)."""
    python, main = shlex.quote(str(venv_python)), shlex.quote(f"{pip_wheel}/pip")
    return (
        "#!/bin/sh\n"
        "# python-cnb: pip for later buildpacks; installs into the app's virtual environment.\n"
        f'PIP_DISABLE_PIP_VERSION_CHECK=1 exec {python} {main} "$@"\n'
    )


def write_build_pip(ctx: BuildContext, python: InstalledPython, venv_python: Path) -> Path:
    """Write the layer; return its ``bin/pip``."""
    layer = Layer(ctx.layers_dir, LAYER_NAME)
    layer.reset()
    text = shim(venv_python, bundled_pip(python))
    bin_dir = layer.path / "bin"
    bin_dir.mkdir(parents=True)
    for name in COMMANDS:
        (bin_dir / name).write_text(text, encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    layer.write(TYPES)
    return bin_dir / "pip"
