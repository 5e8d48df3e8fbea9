"""A web process inferred from the app's code, with the reason for the choice.

Inference, in this order (see :mod:`python_cnb.programs.app_inspect` for how the code is read):

1. a Django project (``manage.py`` in the root or one level down): gunicorn on its
   ``WSGI_APPLICATION``, or uvicorn on its ``ASGI_APPLICATION`` when the project is ASGI;
2. an ``application`` callable in ``wsgi.py`` or ``wsgi/application`` (OpenShift/Jelastic);
3. ``application`` or ``app`` (or the one app object of another name, ``api = FastAPI()``)
   in ``app.py``, ``main.py`` or ``wsgi.py``: gunicorn for WSGI (Flask...), uvicorn for ASGI
   (FastAPI, Starlette, Quart, Litestar, ``async def app``) and, with a warning, when the
   module imports both kinds of framework and nothing says which the object is;
4. the project's only script (``[project.scripts]`` or ``[tool.poetry.scripts]``);
5. ``python main.py`` or ``python app.py``, when the module runs as a script (a main guard,
   or top-level code); a module whose import starts its own server (a top-level
   ``app.run()``) is skipped by 2 and 3 and ends up here, as no server could import it;
6. otherwise no web process, and a warning that says how to add one.

Generated servers take their address and worker count from the environment at launch
(``PORT``, ``WEB_CONCURRENCY``, ``BIND_HOST``; see :mod:`python_cnb.programs.launch_env`), so their
commands need no shell.

A generated process is ``command = [program, options that locate the app]``, ``args`` = the
rest (the app, log options, the script): ``gunicorn --chdir backend`` +
``[project.wsgi:application, --access-logfile, -]``, ``python`` + ``[main.py]``. The bind
address and workers come from the environment, so replaced args keep them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence

from python_cnb import notices, output
from python_cnb.app.files import AppFiles
from python_cnb.cnb.launch import Process
from python_cnb.processes.declared import CARTRIDGE_MODULE, ProcessPlan
from python_cnb.programs.app_inspect import (
    ASGI_FRAMEWORKS,
    CALLABLE_NAMES,
    WSGI_FRAMEWORKS,
    DjangoInfo,
    Inspection,
    ModuleInfo,
)


def _dotted_to_spec(dotted: str) -> str:
    """``mysite.wsgi.application`` -> ``mysite.wsgi:application``."""
    module, _, attribute = dotted.rpartition(".")
    return f"{module}:{attribute}"


def _server(kind: str, spec: str, directory: str = ".") -> tuple[str, Process]:
    """uvicorn for ASGI (and for an app that may be either), gunicorn for the rest.

    Where the app is (``--app-dir``, ``--chdir``) stays in ``command``: an app the user
    names in their own args is found there too."""
    if kind in ("asgi", "ambiguous"):
        where = ("--app-dir", directory) if directory not in ("", ".") else ()
        return "uvicorn", _web(("uvicorn", *where), (spec,))
    where = ("--chdir", directory) if directory not in ("", ".") else ()
    return "gunicorn", _web(("gunicorn", *where), (spec, "--access-logfile", "-"))


def _web(command: tuple[str, ...], args: tuple[str, ...]) -> Process:
    return Process("web", command, args, default=True)


KIND_LABELS = {"asgi": "ASGI", "wsgi": "WSGI", "ambiguous": "ASGI or WSGI, assumed ASGI"}


def _kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, "assumed WSGI")


def _warn_ambiguous(name: str, module_file: str, frameworks: Sequence[str]) -> None:
    """The module imports ASGI and WSGI frameworks, and nothing says which ``name`` is."""
    asgi = [f for f in frameworks if f in ASGI_FRAMEWORKS]
    wsgi = [f for f in frameworks if f in WSGI_FRAMEWORKS]
    spec = f"{module_file.removesuffix('.py').replace('/', '.')}:{name}"
    output.warning(*notices.ambiguous_app(name, module_file, asgi, wsgi, spec))


def _django_reason(django: DjangoInfo, asgi: bool, dotted: str) -> str:
    """Where the application came from: the settings, or the project's wsgi.py/asgi.py."""
    if django["asgi_explicit"] if asgi else django["wsgi_explicit"]:
        setting = "ASGI_APPLICATION" if asgi else "WSGI_APPLICATION"
        return f"Django project ({django['manage_py']}, {setting} = {dotted})"
    module = dotted.rpartition(".")[0].replace(".", "/") + ".py"
    where = module if django["directory"] in ("", ".") else f"{django['directory']}/{module}"
    settings = django["settings_module"] or "the settings"
    unset = (
        "sets neither WSGI_APPLICATION nor ASGI_APPLICATION and there is no wsgi.py"
        if asgi
        else "does not set WSGI_APPLICATION"
    )
    return f"Django project ({django['manage_py']}, {where}; {settings} {unset})"


def _django(inspection: Inspection, context: _Context) -> Optional[ProcessPlan]:
    django = inspection["django"]
    if django is None:
        return None
    wsgi, asgi_app = django["wsgi_application"], django["asgi_application"]
    asgi = django["asgi_explicit"] or not wsgi
    dotted = asgi_app if asgi else wsgi
    if not dotted:
        return None
    server, process = _server(
        "asgi" if asgi else "wsgi", _dotted_to_spec(dotted), django["directory"]
    )
    return _generated(process, server, _django_reason(django, asgi, dotted))


def _importable(module: ModuleInfo) -> bool:
    """A server can import the module: importing it does not start a server of its own."""
    return not module["serves_on_import"]


def _wsgi_conventions(inspection: Inspection, context: _Context) -> Optional[ProcessPlan]:
    wsgi_py = inspection["modules"].get("wsgi")
    if wsgi_py is not None and "application" in wsgi_py["callables"] and _importable(wsgi_py):
        kind = wsgi_py["callables"]["application"]
        server, process = _server(kind, "wsgi:application")
        if kind == "ambiguous":
            _warn_ambiguous("application", "wsgi.py", wsgi_py["frameworks"])
        return _generated(process, server, f"`application` in wsgi.py ({_kind_label(kind)})")
    if inspection["wsgi_application_file"]:
        process = _web(
            ("gunicorn", "--pythonpath", str(context.cartridge_dir)),
            (f"{CARTRIDGE_MODULE}:application", "--access-logfile", "-"),
        )
        reason = "`application` in wsgi/application (the OpenShift/Jelastic cartridge convention)"
        return _generated(process, "gunicorn", reason)
    return None


def _app_object(callables: Mapping[str, str]) -> Optional[str]:
    """``application``, else ``app``, else the only other app object (``api = FastAPI()``)."""
    for name in CALLABLE_NAMES:
        if name in callables:
            return name
    others = sorted(callables)
    return others[0] if len(others) == 1 else None


def _framework_modules(inspection: Inspection, context: _Context) -> Optional[ProcessPlan]:
    for module in ("app", "main", "wsgi"):
        info = inspection["modules"].get(module)
        name = None if info is None else _app_object(info["callables"])
        if info is None or name is None or not _importable(info):
            continue
        kind = info["callables"][name]
        server, process = _server(kind, f"{module}:{name}")
        frameworks = info["frameworks"]
        if kind == "ambiguous":
            _warn_ambiguous(name, f"{module}.py", frameworks)
        detail = _kind_label(kind) + (f", {', '.join(frameworks)}" if frameworks else "")
        return _generated(process, server, f"`{name}` in {module}.py ({detail})")
    return None


def _project_script(inspection: Inspection, context: _Context) -> Optional[ProcessPlan]:
    scripts = context.files.project_scripts
    if len(scripts) == 1 and (context.venv_bin / scripts[0]).is_file():
        process = Process("web", (scripts[0],), default=True)
        return ProcessPlan(
            (process,), "inferred", reason=f"the project's only script, {scripts[0]}"
        )
    return None


def _plain_script(inspection: Inspection, context: _Context) -> Optional[ProcessPlan]:
    """``python main.py`` (else ``app.py``) for a module that runs as a script; a module
    that only defines things would exit at once."""
    for module in ("main", "app"):
        info = inspection["modules"].get(module)
        if info is None:
            continue
        if info["serves_on_import"] and _app_object(info["callables"]):
            reason = (
                f"{module}.py, a script: importing it starts its own server "
                f"({info['serves_on_import']}), so no other server can serve its app"
            )
        elif info["script"]:
            reason = f"{module}.py, a script ({info['script']})"
        else:
            continue
        process = _web(("python",), (f"{module}.py",))
        return ProcessPlan((process,), "inferred", reason=reason)
    return None


@dataclass(frozen=True)
class _Context:
    files: AppFiles
    venv_bin: Path
    cartridge_dir: Path


STRATEGIES = (_django, _wsgi_conventions, _framework_modules, _project_script, _plain_script)
"""The inference order of the module docstring."""


def infer_web(
    inspection: Inspection, files: AppFiles, venv_bin: Path, cartridge_dir: Path
) -> Optional[ProcessPlan]:
    """The web process python-cnb generates: the first strategy that finds one."""
    context = _Context(files, venv_bin, cartridge_dir)
    for strategy in STRATEGIES:
        plan = strategy(inspection, context)
        if plan is not None:
            return plan
    return None


def _generated(process: Process, server: str, reason: str) -> ProcessPlan:
    return ProcessPlan((process,), "inferred", server, reason)


CARTRIDGE_SHIM = '''"""Serves wsgi/application (the OpenShift/Jelastic convention) to gunicorn."""
import importlib.util
import os
import sys
from importlib.machinery import SourceFileLoader

_directory = os.path.join(os.getcwd(), "wsgi")
sys.path.insert(0, _directory)
_loader = SourceFileLoader("wsgi_application", os.path.join(_directory, "application"))
_spec = importlib.util.spec_from_loader("wsgi_application", _loader)
_module = importlib.util.module_from_spec(_spec)
_loader.exec_module(_module)
application = _module.application
'''
