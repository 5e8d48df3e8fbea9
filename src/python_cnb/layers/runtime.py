"""The ``runtime`` layer: launch-time defaults (launch only, written anew every build).

* ``env.launch/PORT.default = 8080``: the user's or platform's ``PORT`` wins;
* ``exec.d/python-cnb-launch-env``: computes ``WEB_CONCURRENCY`` and the server addresses
  in the container at every start (see :mod:`python_cnb.programs.launch_env`); it runs with the
  ``python`` layer's interpreter, so the run image needs neither Python nor a shell;
* for a generated web process: ``FORWARDED_ALLOW_IPS=*`` (the platform's router is the
  only client), and the shim that serves ``wsgi/application`` when the app uses that
  convention, compiled to bytecode so that starting compiles nothing (the app's
  ``wsgi/application`` is compiled with the app, see :func:`python_cnb.build.compile_app`).
"""

from __future__ import annotations

from pathlib import Path

from python_cnb.bytecode import compile_bytecode
from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.layer_env import LayerEnv, Scope
from python_cnb.cnb.layers import Layer, LayerTypes
from python_cnb.layers.python import InstalledPython
from python_cnb.processes.declared import CARTRIDGE_MODULE, ProcessPlan
from python_cnb.processes.inference import CARTRIDGE_SHIM
from python_cnb.programs import launch_env

LAYER_NAME = "runtime"
TYPES = LayerTypes(launch=True)
DEFAULT_PORT = "8080"
EXEC_D = "exec.d/python-cnb-launch-env"
CARTRIDGE_DIR = "wsgi-cartridge"


def cartridge_dir(ctx: BuildContext) -> Path:
    """Where the ``wsgi/application`` shim lives in the image."""
    return Layer(ctx.layers_dir, LAYER_NAME).path / CARTRIDGE_DIR


def exec_d_program(python: InstalledPython) -> str:
    """:mod:`python_cnb.programs.launch_env`'s source, run by the ``python`` layer's interpreter,
    isolated and without ``site`` (``-IS``: one word, as a shebang passes one argument)."""
    source = Path(launch_env.__file__).read_text(encoding="utf-8")
    body = source.split("\n", 1)[1] if source.startswith("#!") else source
    return f"#!{python.executable} -IS\n{body}"


def write_runtime_layer(ctx: BuildContext, python: InstalledPython, plan: ProcessPlan) -> None:
    """Write the layer for this build's processes."""
    layer = Layer(ctx.layers_dir, LAYER_NAME)
    layer.reset()
    env = LayerEnv().default("PORT", DEFAULT_PORT, Scope.LAUNCH)
    if plan.generated_web:
        env.default("FORWARDED_ALLOW_IPS", "*", Scope.LAUNCH, process="web")
    env.write(layer.path)
    program = layer.path / EXEC_D
    program.parent.mkdir(parents=True)
    program.write_text(exec_d_program(python), encoding="utf-8")
    program.chmod(0o755)
    if plan.uses_cartridge:
        shim = layer.path / CARTRIDGE_DIR / f"{CARTRIDGE_MODULE}.py"
        shim.parent.mkdir(parents=True)
        shim.write_text(CARTRIDGE_SHIM, encoding="utf-8")
        compile_bytecode(
            python.executable,
            [shim.parent],
            cwd=layer.path,
            display="compile bytecode (the wsgi/application shim)",
        )
    layer.write(TYPES)
