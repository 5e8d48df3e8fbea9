"""The runtime layer: PORT, FORWARDED_ALLOW_IPS, the exec.d program and the cartridge shim."""

from __future__ import annotations

import importlib.util
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from python_cnb.build import compile_app
from python_cnb.cnb import toml_file
from python_cnb.cnb.launch import Process
from python_cnb.cnb.validate import check_exec_d_output
from python_cnb.layers.runtime import cartridge_dir, write_runtime_layer
from python_cnb.processes.declared import CARTRIDGE_MODULE, ProcessPlan
from python_cnb.processes.inference import CARTRIDGE_SHIM
from python_cnb.programs import launch_env
from tests.support.contexts import RUNNING, build_context, installed_python
from tests.support.exec_d import exec_d_output, run_with_fd3

VERSION = RUNNING


def plan(*processes: Process, server: str | None = None) -> ProcessPlan:
    return ProcessPlan(processes, "inferred" if server else "Procfile", server)


GUNICORN = Process("web", ("gunicorn",), ("app:app",), default=True)
CARTRIDGE = Process(
    "web",
    ("gunicorn", "--pythonpath", "/x"),
    (f"{CARTRIDGE_MODULE}:application",),  # the args the user may replace name the shim
    default=True,
)
SHELL = Process("web", ("bash", "-c"), ("gunicorn app:app",), default=True)


def files(root: Path) -> dict[str, str]:
    """Every file under ``root``, with its text (bytecode: its size only)."""
    return {
        str(p.relative_to(root)): (
            f"{p.stat().st_size} bytes" if p.suffix == ".pyc" else p.read_text(encoding="utf-8")
        )
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


LAUNCH_ENV = [  # the exec.d program and what it imports, compiled
    "exec.d/python-cnb-launch-env",
    f"launch-env/__pycache__/python_cnb_launch_env.{sys.implementation.cache_tag}.pyc",
    "launch-env/python_cnb_launch_env.py",
]


def test_generated_web_process(tmp_path: Path) -> None:
    ctx = build_context(tmp_path)
    python = installed_python(tmp_path)
    write_runtime_layer(ctx, python, plan(GUNICORN, server="gunicorn"))
    layer = ctx.layers_dir / "runtime"
    found = files(layer)
    assert sorted(found) == [
        "env.launch/PORT.default",
        "env.launch/web/FORWARDED_ALLOW_IPS.default",
        *LAUNCH_ENV,
    ]
    assert found["env.launch/PORT.default"] == "8080"
    assert found["env.launch/web/FORWARDED_ALLOW_IPS.default"] == "*"


def test_a_procfile_gets_no_forwarded_allow_ips(tmp_path: Path) -> None:
    ctx = build_context(tmp_path)
    write_runtime_layer(ctx, installed_python(tmp_path), plan(SHELL))
    assert sorted(files(ctx.layers_dir / "runtime")) == ["env.launch/PORT.default", *LAUNCH_ENV]


def test_no_processes_still_get_the_defaults(tmp_path: Path) -> None:
    ctx = build_context(tmp_path)
    write_runtime_layer(ctx, installed_python(tmp_path), ProcessPlan((), "none"))
    assert sorted(files(ctx.layers_dir / "runtime")) == ["env.launch/PORT.default", *LAUNCH_ENV]


def test_the_layer_is_launch_only(tmp_path: Path) -> None:
    ctx = build_context(tmp_path)
    write_runtime_layer(ctx, installed_python(tmp_path), plan(GUNICORN, server="gunicorn"))
    assert toml_file.read(ctx.layers_dir / "runtime.toml") == {
        "types": {"build": False, "launch": True, "cache": False}
    }


def test_exec_d_program(tmp_path: Path) -> None:
    ctx = build_context(tmp_path)
    python = installed_python(tmp_path)
    write_runtime_layer(ctx, python, plan(GUNICORN, server="gunicorn"))
    program = ctx.layers_dir / "runtime" / "exec.d" / "python-cnb-launch-env"
    text = program.read_text(encoding="utf-8")
    first_line, _, rest = text.partition("\n")
    assert first_line == f"#!{tmp_path}/python/bin/python{VERSION.line} -IS"
    assert "#!/usr/bin/env" not in text
    module_dir = ctx.layers_dir / "runtime" / "launch-env"
    assert f"sys.path.insert(0, {str(module_dir)!r})" in rest
    module = module_dir / "python_cnb_launch_env.py"
    source = Path(launch_env.__file__).read_text(encoding="utf-8")
    assert module.read_text(encoding="utf-8") == source.split("\n", 1)[1]
    assert module.read_text(encoding="utf-8").startswith('"""Launch-time defaults')
    pyc = Path(importlib.util.cache_from_source(str(module)))
    assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b01  # unchecked hash-based
    mode = program.stat().st_mode
    assert mode & 0o777 == 0o755
    assert stat.S_ISREG(mode)


def _verbose_start(*arguments: str, env: dict[str, str]) -> tuple[set[str], str]:
    """The modules ``python -IS -v ARGUMENTS`` imports, and its verbose log."""
    completed = subprocess.run(
        [sys.executable, "-IS", "-v", *arguments],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    modules = re.findall(r"^import '([^']+)'", completed.stderr, flags=re.MULTILINE)
    return set(modules), completed.stderr


def test_the_exec_d_program_compiles_nothing_and_imports_little(tmp_path: Path) -> None:
    """At every process start the program loads the build's bytecode (its source is not
    compiled again) and imports nothing beyond ``os`` and what the interpreter's start
    needs: each module costs every start of the app (typing, pathlib, shlex 13 ms; math
    0.7 ms)."""
    ctx = build_context(tmp_path)
    write_runtime_layer(ctx, installed_python(tmp_path), plan(GUNICORN, server="gunicorn"))
    layer = ctx.layers_dir / "runtime"
    program = layer / "exec.d" / "python-cnb-launch-env"
    env = {"PORT": "5000", "PYTHON_CNB_CGROUP_ROOT": str(tmp_path / "no-cgroup")}
    before = {p: p.stat().st_mtime_ns for p in layer.rglob("*")}
    imported, log = _verbose_start(str(program), env=env)
    baseline, _ = _verbose_start("-c", "import os, __future__", env=env)
    assert imported - baseline == {"python_cnb_launch_env"}
    pyc = importlib.util.cache_from_source(str(layer / "launch-env" / "python_cnb_launch_env.py"))
    assert f"# code object from '{pyc}'" in log
    assert {p: p.stat().st_mtime_ns for p in layer.rglob("*")} == before  # nothing written


def test_exec_d_program_runs_and_writes_exec_d_output(tmp_path: Path) -> None:
    ctx = build_context(tmp_path)
    write_runtime_layer(ctx, installed_python(tmp_path), plan(GUNICORN, server="gunicorn"))
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    (cgroup / "cpu.max").write_text("100000 100000\n", encoding="ascii")  # within any machine
    (cgroup / "memory.max").write_text(f"{512 * 1024**2}\n", encoding="ascii")
    program = ctx.layers_dir / "runtime" / "exec.d" / "python-cnb-launch-env"
    text = exec_d_output([str(program)], {"PYTHON_CNB_CGROUP_ROOT": str(cgroup), "PORT": "5000"})
    assert check_exec_d_output(text) == []
    assert toml_file.loads(text) == {
        "WEB_CONCURRENCY": "2",
        "WEB_CONCURRENCY_SET_BY": "python-cnb",
        "UVICORN_PORT": "5000",
        "UVICORN_HOST": "0.0.0.0",
        "STREAMLIT_SERVER_PORT": "5000",
        "STREAMLIT_SERVER_ADDRESS": "0.0.0.0",
        "STREAMLIT_SERVER_HEADLESS": "true",
        "GRADIO_SERVER_PORT": "5000",
        "GRADIO_SERVER_NAME": "0.0.0.0",
    }


def test_an_exec_d_program_that_cannot_import_still_lets_the_app_start(tmp_path: Path) -> None:
    """The launcher does not start the app after a failed exec.d program: a layer whose
    module cannot be imported (damaged by hand) exits 0 with no output and says why."""
    ctx = build_context(tmp_path)
    write_runtime_layer(ctx, installed_python(tmp_path), plan(GUNICORN, server="gunicorn"))
    layer = ctx.layers_dir / "runtime"
    shutil.rmtree(layer / "launch-env")
    code, written, stdout, stderr = run_with_fd3(
        [str(layer / "exec.d" / "python-cnb-launch-env")], {}
    )
    assert (code, written, stdout) == (0, b"", b"")
    assert stderr.decode() == (
        "python-cnb: launch-time defaults are not set: "
        "ModuleNotFoundError(\"No module named 'python_cnb_launch_env'\")\n"
    )


def test_cartridge_shim_only_when_a_process_uses_it(tmp_path: Path) -> None:
    ctx = build_context(tmp_path)
    python = installed_python(tmp_path)
    write_runtime_layer(ctx, python, plan(CARTRIDGE, server="gunicorn"))
    shim = cartridge_dir(ctx) / f"{CARTRIDGE_MODULE}.py"
    assert cartridge_dir(ctx) == ctx.layers_dir / "runtime" / "wsgi-cartridge"
    assert shim.read_text(encoding="utf-8") == CARTRIDGE_SHIM
    write_runtime_layer(ctx, python, plan(GUNICORN, server="gunicorn"))
    assert not cartridge_dir(ctx).exists()


def test_cartridge_shim_is_compiled(tmp_path: Path) -> None:
    ctx = build_context(tmp_path)
    write_runtime_layer(ctx, installed_python(tmp_path), plan(CARTRIDGE, server="gunicorn"))
    shim = cartridge_dir(ctx) / f"{CARTRIDGE_MODULE}.py"
    pyc = Path(importlib.util.cache_from_source(str(shim)))
    assert pyc.is_file()
    flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
    assert flags == 0b01  # hash-based, unchecked (PEP 552), as all of the build's bytecode


SERVE = """\
import sys
sys.path.insert(0, sys.argv[1])
import python_cnb_wsgi_cartridge as shim
started = []
body = shim.application({"PATH_INFO": "/"}, lambda status, headers: started.append(status))
print(started[0], b"".join(body).decode())
"""
"""Imports the shim as gunicorn does (``--pythonpath``, cwd the app) and calls the app."""


def test_the_first_start_of_a_cartridge_app_writes_nothing(tmp_path: Path) -> None:
    """The build compiles the shim and wsgi/application, so importing them at the first
    start compiles nothing: nothing is written, and a read-only app starts as fast."""
    ctx = build_context(tmp_path)
    app = ctx.app_dir
    (app / "wsgi").mkdir()
    (app / "wsgi" / "greeting.py").write_text("GREETING = 'compiled'\n", encoding="utf-8")
    (app / "wsgi" / "application").write_text(
        "from greeting import GREETING\n"
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [])\n"
        "    return [GREETING.encode()]\n",
        encoding="utf-8",
    )
    python = installed_python(tmp_path)
    compile_app(ctx, python, plan(CARTRIDGE, server="gunicorn"))
    write_runtime_layer(ctx, python, plan(CARTRIDGE, server="gunicorn"))
    roots = (app, ctx.layers_dir)
    before = {p for root in roots for p in root.rglob("*")}
    completed = subprocess.run(
        [sys.executable, "-c", SERVE, str(cartridge_dir(ctx))],
        cwd=app,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (completed.returncode, completed.stderr) == (0, "")
    assert completed.stdout == "200 OK compiled\n"
    assert {p for root in roots for p in root.rglob("*")} == before


def test_a_second_write_replaces_everything(tmp_path: Path) -> None:
    ctx = build_context(tmp_path)
    python = installed_python(tmp_path)
    write_runtime_layer(ctx, python, plan(CARTRIDGE, server="gunicorn"))
    layer = ctx.layers_dir / "runtime"
    (layer / "stray").write_text("left over", encoding="utf-8")
    (ctx.layers_dir / "runtime.toml").write_text("[types]\ncache = true\n", encoding="utf-8")
    write_runtime_layer(ctx, python, plan(SHELL))
    assert sorted(files(layer)) == ["env.launch/PORT.default", *LAUNCH_ENV]
    assert toml_file.read(ctx.layers_dir / "runtime.toml") == {
        "types": {"build": False, "launch": True, "cache": False}
    }


@pytest.mark.parametrize("server", ["gunicorn", "uvicorn"])
def test_forwarded_allow_ips_for_any_generated_server(tmp_path: Path, server: str) -> None:
    ctx = build_context(tmp_path)
    web = Process("web", (server, "main:app"), default=True)
    write_runtime_layer(ctx, installed_python(tmp_path), plan(web, server=server))
    value = ctx.layers_dir / "runtime" / "env.launch" / "web" / "FORWARDED_ALLOW_IPS.default"
    assert value.read_text(encoding="utf-8") == "*"
