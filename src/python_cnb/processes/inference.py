"""A web process inferred from the app's code, with the reason for the choice.

Inference, in this order (see :mod:`python_cnb.programs.app_inspect` for how the code is read):

1. a Django project (``manage.py`` in the root or one level down): gunicorn on its
   ``WSGI_APPLICATION``, or uvicorn on its ``ASGI_APPLICATION`` when the project is ASGI;
2. an ``application`` callable in ``wsgi.py`` or ``wsgi/application`` (OpenShift/Jelastic);
3. a Streamlit script (``streamlit run streamlit_app.py``, else ``app.py``, ``main.py``),
   else a Gradio script that calls ``.launch()`` (``python app.py``, else ``main.py``):
   their apps are scripts that their own server runs, not objects another server imports
   (the only root script that imports either, of another name, comes after 5);
4. ``application`` or ``app`` (or the one app object of another name, ``api = FastAPI()``)
   in ``app.py``, ``main.py`` or ``wsgi.py``, then in the modules of an ``app`` package
   (``app/__init__.py``, ``app/app.py``, ``app/main.py``, ``app/wsgi.py``) and of a src
   layout (``src/<package>/...``): gunicorn for WSGI (Flask...), uvicorn for ASGI
   (FastAPI, Starlette, Quart, Litestar, ``async def app``) and, with a warning, when the
   module imports both kinds of framework and nothing says which the object is;
5. without any such object, an app factory (``create_app``, ``make_app``) in the same
   modules: ``gunicorn 'app:create_app()'``, ``uvicorn --factory app:create_app``;
6. the project's only script (``[project.scripts]`` or ``[tool.poetry.scripts]``), or among
   several the first of :data:`WEB_SCRIPTS` (``web``, ``serve``, ``start``);
7. ``python main.py`` or ``python app.py``, when the module runs as a script (a main guard,
   or top-level code); a module whose import starts its own server (a top-level
   ``app.run()``) is skipped by 2 and 4 and ends up here, as no server could import it;
8. otherwise no web process, and a warning that lists what was found (:func:`findings`)
   and how to add one.

Generated servers take their address and worker count from the environment at launch
(``PORT``, ``WEB_CONCURRENCY``, ``BIND_HOST``; see :mod:`python_cnb.programs.launch_env`:
``UVICORN_*``, ``GUNICORN_CMD_ARGS``, ``STREAMLIT_SERVER_*``, ``GRADIO_SERVER_*``), so their
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
    FACTORY_NAMES,
    WSGI_FRAMEWORKS,
    DjangoInfo,
    Inspection,
    ModuleInfo,
    PackageModule,
)

WEB_SCRIPTS = ("web", "serve", "start")
"""Project script names that say "this one serves", in the order one is chosen among
several scripts."""
STREAMLIT_SCRIPTS = ("streamlit_app.py", "app.py", "main.py")
"""Streamlit Community Cloud's default file name first, then the usual ones."""
GRADIO_SCRIPTS = ("app.py", "main.py")
"""Hugging Face Spaces' default file name first."""


def _dotted_to_spec(dotted: str) -> str:
    """``mysite.wsgi.application`` -> ``mysite.wsgi:application``."""
    module, _, attribute = dotted.rpartition(".")
    return f"{module}:{attribute}"


def _server(
    kind: str, spec: str, directory: str = ".", *, chdir: bool = True, factory: bool = False
) -> tuple[str, Process]:
    """uvicorn for ASGI (and for an app that may be either), gunicorn for the rest.

    Where the app is (``--app-dir``; ``--chdir`` into a Django project, else
    ``--pythonpath``, which leaves the working directory alone like ``--app-dir``) stays in
    ``command``: an app the user names in their own args is found there too. A factory is
    called by the server: ``--factory app:create_app``, ``app:create_app()``."""
    elsewhere = directory not in ("", ".")
    if kind in ("asgi", "ambiguous"):
        where = ("--app-dir", directory) if elsewhere else ()
        app = ("--factory", spec) if factory else (spec,)
        return "uvicorn", _web(("uvicorn", *where), app)
    where = ("--chdir" if chdir else "--pythonpath", directory) if elsewhere else ()
    app_spec = f"{spec}()" if factory else spec
    return "gunicorn", _web(("gunicorn", *where), (app_spec, "--access-logfile", "-"))


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


def _candidate_modules(inspection: Inspection) -> list[PackageModule]:
    """The modules an app object or factory may be in, in the order they are tried: the
    root's ``app.py``, ``main.py``, ``wsgi.py``, then the packages'."""
    root: list[PackageModule] = [
        {"module": name, "file": f"{name}.py", "path": ".", "info": inspection["modules"][name]}
        for name in ("app", "main", "wsgi")
        if name in inspection["modules"]
    ]
    return root + inspection["packages"]


def _detail(kind: str, frameworks: Sequence[str]) -> str:
    return _kind_label(kind) + (f", {', '.join(frameworks)}" if frameworks else "")


def _framework_modules(inspection: Inspection, context: _Context) -> Optional[ProcessPlan]:
    for candidate in _candidate_modules(inspection):
        info, module, file = candidate["info"], candidate["module"], candidate["file"]
        name = _app_object(info["callables"])
        if name is None or not _importable(info):
            continue
        kind = info["callables"][name]
        server, process = _server(kind, f"{module}:{name}", candidate["path"], chdir=False)
        if kind == "ambiguous":
            _warn_ambiguous(name, file, info["frameworks"])
        reason = f"`{name}` in {file} ({_detail(kind, info['frameworks'])})"
        return _generated(process, server, reason)
    return None


def _factories(inspection: Inspection, context: _Context) -> Optional[ProcessPlan]:
    """An app factory, in a module with no app object (``app = create_app()`` is served
    as an object, by 4)."""
    for candidate in _candidate_modules(inspection):
        info, module, file = candidate["info"], candidate["module"], candidate["file"]
        if not info["factories"] or not _importable(info):
            continue
        name = next(n for n in FACTORY_NAMES if n in info["factories"])
        kind = info["factories"][name]
        spec = f"{module}:{name}"
        server, process = _server(kind, spec, candidate["path"], chdir=False, factory=True)
        if kind == "ambiguous":
            _warn_ambiguous(f"{name}()", file, info["frameworks"])
        reason = f"the app factory `{name}()` in {file} ({_detail(kind, info['frameworks'])})"
        return _generated(process, server, reason)
    return None


def _ui_script(
    inspection: Inspection, framework: str, preferred: Sequence[str], *, by_name: bool
) -> Optional[tuple[str, str]]:
    """The root script of ``framework`` to run, and why that one: with ``by_name``, the
    first of ``preferred`` that imports it, else the only script that does. A Gradio script
    must call ``.launch()``, or running it would start no server."""
    scripts = [
        name
        for name, script in inspection["ui_scripts"].items()
        if script["framework"] == framework and (framework != "gradio" or script["launch"])
    ]
    if by_name:
        name = next((n for n in preferred if n in scripts), None)
        return None if name is None else (name, f"{name} imports {framework}")
    if len(scripts) == 1:
        return scripts[0], f"{scripts[0]}, the only script that imports {framework}"
    return None


def _ui_apps(inspection: Inspection, by_name: bool) -> Optional[ProcessPlan]:
    streamlit = _ui_script(inspection, "streamlit", STREAMLIT_SCRIPTS, by_name=by_name)
    if streamlit is not None:
        script, why = streamlit
        process = _web(("streamlit", "run"), (script,))
        return ProcessPlan((process,), "inferred", reason=f"a Streamlit app ({why})")
    gradio = _ui_script(inspection, "gradio", GRADIO_SCRIPTS, by_name=by_name)
    if gradio is not None:
        script, why = gradio
        launch = inspection["ui_scripts"][script]["launch"]
        process = _web(("python",), (script,))
        reason = f"a Gradio app ({why} and calls .launch(), {launch})"
        return ProcessPlan((process,), "inferred", reason=reason)
    return None


def _ui_apps_by_name(inspection: Inspection, context: _Context) -> Optional[ProcessPlan]:
    """A Streamlit or Gradio script of a conventional name (``streamlit_app.py``,
    ``app.py``): before app objects, which such a script may define but not serve."""
    return _ui_apps(inspection, by_name=True)


def _only_ui_app(inspection: Inspection, context: _Context) -> Optional[ProcessPlan]:
    """The only Streamlit (or Gradio) script, of another name: after app objects and
    factories, as it may be a dashboard beside the app."""
    return _ui_apps(inspection, by_name=False)


def _project_script(inspection: Inspection, context: _Context) -> Optional[ProcessPlan]:
    installed = [s for s in context.files.project_scripts if (context.venv_bin / s).is_file()]
    if len(context.files.project_scripts) == 1 and installed:
        reason = f"the project's only script, {installed[0]}"
    else:
        named = next((s for s in WEB_SCRIPTS if s in installed), None)
        if named is None:
            return None
        others = ", ".join(s for s in context.files.project_scripts if s != named)
        reason = f"the project's script named {named} (its others: {others})"
        installed = [named]
    process = Process("web", (installed[0],), default=True)
    return ProcessPlan((process,), "inferred", reason=reason)


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


STRATEGIES = (
    _django,
    _wsgi_conventions,
    _ui_apps_by_name,
    _framework_modules,
    _factories,
    _only_ui_app,
    _project_script,
    _plain_script,
)
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


def _describe(candidate: PackageModule) -> str:
    """What a module offers a server, when inference found nothing to serve in it."""
    info = candidate["info"]
    if info["serves_on_import"] and (info["callables"] or info["factories"]):
        return f"importing it starts its own server ({info['serves_on_import']})"
    if info["callables"]:
        names = ", ".join(f"`{n}`" for n in sorted(info["callables"]))
        return f"app objects {names}, and nothing says which one to serve"
    text = "no app object (`app`, `application`, `api = FastAPI()`...) and no app factory"
    if candidate["path"] == "." and candidate["module"] in ("main", "app") and not info["script"]:
        text += "; it only defines things, so running it would exit at once"
    return text


def _telling(candidate: PackageModule) -> bool:
    """Whether the module is worth a line: not a package's ``__init__.py`` with nothing in
    it for a server (most are)."""
    info = candidate["info"]
    return candidate["file"].rpartition("/")[2] != "__init__.py" or bool(
        info["callables"] or info["factories"]
    )


def _ui_finding(inspection: Inspection, framework: str, preferred: Sequence[str]) -> list[str]:
    scripts = inspection["ui_scripts"]
    found = [n for n, s in scripts.items() if s["framework"] == framework]
    if framework == "gradio":
        silent = [n for n in found if not scripts[n]["launch"]]
        lines = [f"{n}: imports gradio but never calls .launch()" for n in silent]
        found = [n for n in found if n not in silent]
    else:
        lines = []
    if len(found) > 1:
        lines.append(
            f"{framework} scripts: {', '.join(found)}, none named {' or '.join(preferred)}"
        )
    return lines


def findings(inspection: Inspection, files: AppFiles, venv_bin: Path) -> list[str]:
    """What the app has that inference could not serve, for the "No web process" warning."""
    found: list[str] = []
    django = inspection["django"]
    if django is not None:
        found.append(
            f"{django['manage_py']}: a Django project whose settings set no WSGI_APPLICATION "
            "or ASGI_APPLICATION, with no wsgi.py or asgi.py"
        )
    found += [f"{c['file']}: {_describe(c)}" for c in _candidate_modules(inspection) if _telling(c)]
    found += _ui_finding(inspection, "streamlit", STREAMLIT_SCRIPTS)
    found += _ui_finding(inspection, "gradio", GRADIO_SCRIPTS)
    scripts = files.project_scripts
    if scripts:
        text = f"project scripts: {', '.join(scripts)}"
        missing = [s for s in scripts if not (venv_bin / s).is_file()]
        if missing:
            text += f" ({', '.join(missing)} not installed: is the project itself installed?)"
        elif len(scripts) > 1:
            text += f", none named {', '.join(WEB_SCRIPTS[:-1])} or {WEB_SCRIPTS[-1]}"
        found.append(text)
    return found


def example_spec(inspection: Inspection) -> str:
    """The app for the warning's Procfile examples: the first object found, else a
    placeholder."""
    for candidate in _candidate_modules(inspection):
        names = sorted(candidate["info"]["callables"])
        if names:
            return f"{candidate['module']}:{names[0]}"
    return "myapp:app"


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
