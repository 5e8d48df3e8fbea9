"""The ``runtime`` layer: launch-time defaults (launch only, written anew every build).

* ``env.launch/PORT.default = 8080``: the user's or platform's ``PORT`` wins;
* ``exec.d/python-cnb-launch-env``: computes ``WEB_CONCURRENCY`` and the server addresses
  in the container at every start (see :mod:`python_cnb.programs.launch_env`); it runs with the
  ``python`` layer's interpreter, so the run image needs neither Python nor a shell. It is a
  few lines that import the program from ``launch-env/``, where it is compiled to bytecode:
  run as a script, its source would be compiled again at every process start (2 ms of the
  12 its interpreter takes);
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
LAUNCH_ENV_DIR = "launch-env"
LAUNCH_ENV_MODULE = "python_cnb_launch_env"
CARTRIDGE_DIR = "wsgi-cartridge"


def cartridge_dir(ctx: BuildContext) -> Path:
    """Where the ``wsgi/application`` shim lives in the image."""
    return Layer(ctx.layers_dir, LAYER_NAME).path / CARTRIDGE_DIR


def launch_env_module() -> str:
    """:mod:`python_cnb.programs.launch_env`'s source, without its shebang (it is imported)."""
    source = Path(launch_env.__file__).read_text(encoding="utf-8")
    return source.split("\n", 1)[1] if source.startswith("#!") else source


def exec_d_program(python: InstalledPython, module_dir: Path) -> str:
    """The exec.d program: the ``python`` layer's interpreter, isolated and without ``site``
    (``-IS``: one word, as a shebang passes one argument), importing the compiled program
    from ``module_dir``. Should that import fail, it says so and exits 0 with no output: the
    launcher would not start the app after a failed exec.d program."""
    return (
        f"#!{python.executable} -IS\n"
        f'"""python-cnb\'s launch-time defaults: {module_dir}/{LAUNCH_ENV_MODULE}.py."""\n'
        "import sys\n"
        "\n"
        f"sys.path.insert(0, {str(module_dir)!r})\n"
        "try:\n"
        f"    from {LAUNCH_ENV_MODULE} import main\n"
        "except Exception as error:  # the app starts without the defaults\n"
        '    sys.stderr.write(f"python-cnb: launch-time defaults are not set: {error!r}\\n")\n'
        "    raise SystemExit(0) from None\n"
        "raise SystemExit(main())\n"
    )


def write_runtime_layer(ctx: BuildContext, python: InstalledPython, plan: ProcessPlan) -> None:
    """Write the layer for this build's processes."""
    layer = Layer(ctx.layers_dir, LAYER_NAME)
    layer.reset()
    env = LayerEnv().default("PORT", DEFAULT_PORT, Scope.LAUNCH)
    if plan.generated_web:
        env.default("FORWARDED_ALLOW_IPS", "*", Scope.LAUNCH, process="web")
    env.write(layer.path)
    module_dir = layer.path / LAUNCH_ENV_DIR
    module_dir.mkdir()
    (module_dir / f"{LAUNCH_ENV_MODULE}.py").write_text(launch_env_module(), encoding="utf-8")
    program = layer.path / EXEC_D
    program.parent.mkdir(parents=True)
    program.write_text(exec_d_program(python, module_dir), encoding="utf-8")
    program.chmod(0o755)
    compiled = [module_dir]
    if plan.uses_cartridge:
        shim = layer.path / CARTRIDGE_DIR / f"{CARTRIDGE_MODULE}.py"
        shim.parent.mkdir(parents=True)
        shim.write_text(CARTRIDGE_SHIM, encoding="utf-8")
        compiled.append(shim.parent)
    compile_bytecode(
        python.executable,
        compiled,
        cwd=layer.path,
        display="compile bytecode (the launch-time programs)",
    )
    layer.write(TYPES)
