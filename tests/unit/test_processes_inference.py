"""Where the web process comes from when nothing declares one: inference from the app."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Callable, Optional

import pytest

from python_cnb.app.files import AppFiles
from python_cnb.cnb.launch import Process
from python_cnb.processes.declared import (
    CARTRIDGE_MODULE,
    ProcessPlan,
)
from python_cnb.processes.inference import CARTRIDGE_SHIM, example_spec, findings, infer_web
from python_cnb.programs.app_inspect import Inspection, ModuleInfo, inspect_app

CARTRIDGE = Path("/layers/python-cnb/runtime/wsgi-cartridge")


# --- inference ----------------------------------------------------------------------------------


def infer(
    inspection: Inspection, app_dir: Path, venv_bin: Optional[Path] = None
) -> Optional[ProcessPlan]:
    return infer_web(inspection, AppFiles(app_dir), venv_bin or app_dir / "no-venv", CARTRIDGE)


def django(
    directory: str = ".",
    wsgi: Optional[str] = "mysite.wsgi.application",
    asgi: Optional[str] = None,
    asgi_explicit: bool = False,
    wsgi_explicit: bool = True,
) -> Inspection:
    manage_py = "manage.py" if directory == "." else f"{directory}/manage.py"
    return {
        "django": {
            "manage_py": manage_py,
            "directory": directory,
            "settings_module": "mysite.settings",
            "wsgi_application": wsgi,
            "asgi_application": asgi,
            "wsgi_explicit": wsgi_explicit and wsgi is not None,
            "asgi_explicit": asgi_explicit,
        },
        "modules": {},
        "wsgi_application_file": False,
        "packages": [],
        "ui_scripts": {},
    }


def modules(**callables: dict[str, str]) -> Inspection:
    return {
        "django": None,
        "modules": {name: module_info(found) for name, found in callables.items()},
        "wsgi_application_file": False,
        "packages": [],
        "ui_scripts": {},
    }


def module_info(
    callables: Optional[dict[str, str]] = None,
    frameworks: tuple[str, ...] = (),
    script: Optional[str] = None,
    serves_on_import: Optional[str] = None,
    factories: Optional[dict[str, str]] = None,
) -> ModuleInfo:
    return {
        "callables": callables or {},
        "frameworks": list(frameworks),
        "script": script,
        "serves_on_import": serves_on_import,
        "factories": factories or {},
    }


def with_modules(**infos: ModuleInfo) -> Inspection:
    return {
        "django": None,
        "modules": infos,
        "wsgi_application_file": False,
        "packages": [],
        "ui_scripts": {},
    }


def generated(process: Process, server: str, reason: str) -> ProcessPlan:
    return ProcessPlan((process,), "inferred", server, reason)


GUNICORN_LOG = ("--access-logfile", "-")


def gunicorn(app: str, *where: str) -> Process:
    """The program and where the app is are the command; the user may replace the rest."""
    return Process("web", ("gunicorn", *where), (app, *GUNICORN_LOG), default=True)


def uvicorn(app: str, *where: str) -> Process:
    return Process("web", ("uvicorn", *where), (app,), default=True)


@pytest.mark.parametrize(
    ("inspection", "expected"),
    [
        (
            django(),
            generated(
                gunicorn("mysite.wsgi:application"),
                "gunicorn",
                "Django project (manage.py, WSGI_APPLICATION = mysite.wsgi.application)",
            ),
        ),
        (
            # guessed from mysite/asgi.py: the settings set nothing, and there is no wsgi.py
            django(wsgi=None, asgi="mysite.asgi.application"),
            generated(
                uvicorn("mysite.asgi:application"),
                "uvicorn",
                "Django project (manage.py, mysite/asgi.py; mysite.settings sets neither "
                "WSGI_APPLICATION nor ASGI_APPLICATION and there is no wsgi.py)",
            ),
        ),
        (
            django(wsgi=None, asgi="mysite.asgi.application", asgi_explicit=True),
            generated(
                uvicorn("mysite.asgi:application"),
                "uvicorn",
                "Django project (manage.py, ASGI_APPLICATION = mysite.asgi.application)",
            ),
        ),
        (
            # guessed from mysite/wsgi.py: the settings do not set WSGI_APPLICATION
            django(wsgi_explicit=False),
            generated(
                gunicorn("mysite.wsgi:application"),
                "gunicorn",
                "Django project (manage.py, mysite/wsgi.py; mysite.settings does not set "
                "WSGI_APPLICATION)",
            ),
        ),
        (
            django(asgi="mysite.routing.application", asgi_explicit=True),
            generated(
                uvicorn("mysite.routing:application"),
                "uvicorn",
                "Django project (manage.py, ASGI_APPLICATION = mysite.routing.application)",
            ),
        ),
        (
            # ASGI_APPLICATION known but not explicit: WSGI stays the choice
            django(asgi="mysite.asgi.application"),
            generated(
                gunicorn("mysite.wsgi:application"),
                "gunicorn",
                "Django project (manage.py, WSGI_APPLICATION = mysite.wsgi.application)",
            ),
        ),
        (
            django(directory="backend"),
            generated(
                gunicorn("mysite.wsgi:application", "--chdir", "backend"),
                "gunicorn",
                "Django project (backend/manage.py, WSGI_APPLICATION = mysite.wsgi.application)",
            ),
        ),
        (
            django(directory="backend", wsgi=None, asgi="mysite.asgi.application"),
            generated(
                uvicorn("mysite.asgi:application", "--app-dir", "backend"),
                "uvicorn",
                "Django project (backend/manage.py, backend/mysite/asgi.py; mysite.settings "
                "sets neither WSGI_APPLICATION nor ASGI_APPLICATION and there is no wsgi.py)",
            ),
        ),
    ],
)
def test_django(tmp_path: Path, inspection: Inspection, expected: ProcessPlan) -> None:
    assert infer(inspection, tmp_path) == expected


def test_django_without_an_application_falls_through(tmp_path: Path) -> None:
    inspection = django(wsgi=None)
    inspection["modules"] = modules(app={"app": "wsgi"})["modules"]
    plan = infer(inspection, tmp_path)
    assert plan is not None
    assert plan.processes[0] == gunicorn("app:app")


def test_django_beats_every_module(tmp_path: Path) -> None:
    inspection = django()
    inspection["modules"] = modules(wsgi={"application": "wsgi"}, app={"app": "asgi"})["modules"]
    inspection["wsgi_application_file"] = True
    plan = infer(inspection, tmp_path)
    assert plan is not None
    assert plan.processes[0] == gunicorn("mysite.wsgi:application")


@pytest.mark.parametrize(
    ("kind", "command", "server", "label"),
    [
        ("wsgi", gunicorn("wsgi:application"), "gunicorn", "WSGI"),
        ("asgi", uvicorn("wsgi:application"), "uvicorn", "ASGI"),
        ("unknown", gunicorn("wsgi:application"), "gunicorn", "assumed WSGI"),
    ],
)
def test_wsgi_py_application(
    tmp_path: Path, kind: str, command: Process, server: str, label: str
) -> None:
    inspection = modules(wsgi={"application": kind}, app={"app": "asgi"})
    inspection["wsgi_application_file"] = True
    assert infer(inspection, tmp_path) == generated(
        command, server, f"`application` in wsgi.py ({label})"
    )


def test_wsgi_application_file(tmp_path: Path) -> None:
    inspection = modules(app={"app": "asgi"})
    inspection["wsgi_application_file"] = True
    assert infer(inspection, tmp_path) == generated(
        Process(
            "web",
            ("gunicorn", "--pythonpath", str(CARTRIDGE)),
            ("python_cnb_wsgi_cartridge:application", *GUNICORN_LOG),
            default=True,
        ),
        "gunicorn",
        "`application` in wsgi/application (the OpenShift/Jelastic cartridge convention)",
    )
    assert CARTRIDGE_MODULE == "python_cnb_wsgi_cartridge"


@pytest.mark.parametrize(
    ("found", "command", "server", "reason"),
    [
        (
            {"app": {"app": "wsgi"}, "main": {"app": "asgi"}, "wsgi": {"app": "asgi"}},
            gunicorn("app:app"),
            "gunicorn",
            "`app` in app.py (WSGI)",
        ),
        (
            {"main": {"app": "asgi"}, "wsgi": {"app": "wsgi"}},
            uvicorn("main:app"),
            "uvicorn",
            "`app` in main.py (ASGI)",
        ),
        (
            {"wsgi": {"app": "asgi"}},
            uvicorn("wsgi:app"),
            "uvicorn",
            "`app` in wsgi.py (ASGI)",
        ),
        (
            {"app": {"app": "asgi", "application": "wsgi"}},
            gunicorn("app:application"),
            "gunicorn",
            "`application` in app.py (WSGI)",
        ),
        (
            {"main": {"app": "unknown"}},
            gunicorn("main:app"),
            "gunicorn",
            "`app` in main.py (assumed WSGI)",
        ),
        (
            {"app": {}, "main": {"app": "asgi"}},
            uvicorn("main:app"),
            "uvicorn",
            "`app` in main.py (ASGI)",
        ),
    ],
)
def test_framework_modules(
    tmp_path: Path,
    found: dict[str, dict[str, str]],
    command: Process,
    server: str,
    reason: str,
) -> None:
    assert infer(modules(**found), tmp_path) == generated(command, server, reason)


AMBIGUOUS_TITLE = "[Warning: Cannot tell whether `app` in main.py is an ASGI or a WSGI app]"


def test_an_ambiguous_app_gets_uvicorn_and_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inspection = with_modules(
        main=module_info({"app": "ambiguous"}, ("django", "fastapi", "flask"))
    )
    assert infer(inspection, tmp_path) == generated(
        uvicorn("main:app"),
        "uvicorn",
        "`app` in main.py (ASGI or WSGI, assumed ASGI, django, fastapi, flask)",
    )
    out = capsys.readouterr().out
    assert out.startswith(f"\n{AMBIGUOUS_TITLE}\n")
    assert "main.py imports ASGI frameworks (fastapi) and WSGI frameworks (django, flask)" in out
    assert "python-cnb serves it with uvicorn (ASGI)" in out
    assert "If it is a WSGI app, every request will fail." in out
    assert (
        "To choose the server yourself, write a Procfile with, for a WSGI app,\n"
        "    web: gunicorn main:app\n"
        "or, for an ASGI app,\n"
        "    web: uvicorn main:app\n"
        "or set BP_WEB_COMMAND.\n"
    ) in out


def test_an_ambiguous_wsgi_py_application(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inspection = with_modules(wsgi=module_info({"application": "ambiguous"}, ("flask", "quart")))
    assert infer(inspection, tmp_path) == generated(
        uvicorn("wsgi:application"),
        "uvicorn",
        "`application` in wsgi.py (ASGI or WSGI, assumed ASGI)",
    )
    out = capsys.readouterr().out
    assert "[Warning: Cannot tell whether `application` in wsgi.py is an ASGI or a WSGI app]" in out
    assert "    web: gunicorn wsgi:application\n" in out


@pytest.mark.parametrize("kind", ["asgi", "wsgi", "unknown"])
def test_a_known_kind_gives_no_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    assert infer(with_modules(main=module_info({"app": kind})), tmp_path) is not None
    assert capsys.readouterr().out == ""


def test_framework_names_are_in_the_reason(tmp_path: Path) -> None:
    inspection = modules(main={"app": "asgi"})
    inspection["modules"]["main"]["frameworks"] = ["fastapi", "starlette"]
    plan = infer(inspection, tmp_path)
    assert plan is not None
    assert plan.reason == "`app` in main.py (ASGI, fastapi, starlette)"


def venv_bin(tmp_path: Path, *scripts: str) -> Path:
    path = tmp_path / "venv" / "bin"
    path.mkdir(parents=True)
    for name in scripts:
        (path / name).write_text("#!/bin/sh\n", encoding="utf-8")
    return path


def pyproject(app_dir: Path, text: str) -> None:
    (app_dir / "pyproject.toml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    "text",
    [
        '[project]\nname = "svc"\n[project.scripts]\nserve = "svc:main"\n',
        '[tool.poetry]\nname = "svc"\n[tool.poetry.scripts]\nserve = "svc:main"\n',
        '[project]\nname = "svc"\n[project.scripts]\nserve = "svc:main"\n'
        '[tool.poetry.scripts]\nserve = "svc:main"\n',
    ],
)
def test_the_only_project_script(tmp_path: Path, text: str) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    pyproject(app_dir, text)
    (app_dir / "main.py").write_text("print(1)\n", encoding="utf-8")
    assert AppFiles(app_dir).project_scripts == ["serve"]
    plan = infer(modules(), app_dir, venv_bin(tmp_path, "serve"))
    assert plan == ProcessPlan(
        (Process("web", ("serve",), default=True),),
        "inferred",
        reason="the project's only script, serve",
    )
    assert plan.generated_web is False


def test_a_project_script_missing_from_the_venv(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    pyproject(app_dir, '[project]\nname = "svc"\n[project.scripts]\nserve = "svc:main"\n')
    assert infer(modules(), app_dir, venv_bin(tmp_path, "other")) is None


def test_two_project_scripts_without_a_web_name(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    pyproject(
        app_dir,
        '[project]\nname = "svc"\n[project.scripts]\nworker = "svc:main"\n'
        '[tool.poetry.scripts]\nmigrate = "svc:migrate"\n',
    )
    bin_dir = venv_bin(tmp_path, "worker", "migrate")
    assert AppFiles(app_dir).project_scripts == ["worker", "migrate"]
    assert infer(modules(), app_dir, bin_dir) is None
    assert findings(modules(), AppFiles(app_dir), bin_dir) == [
        "project scripts: worker, migrate, none named web, serve or start"
    ]


@pytest.mark.parametrize(
    ("scripts", "chosen"),
    [
        (("migrate", "start"), "start"),
        (("start", "serve", "migrate"), "serve"),
        (("start", "web", "serve"), "web"),
    ],
)
def test_the_script_named_for_serving_is_chosen_among_several(
    tmp_path: Path, scripts: tuple[str, ...], chosen: str
) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    table = "".join(f'{name} = "svc:{name}"\n' for name in scripts)
    pyproject(app_dir, f'[project]\nname = "svc"\n[project.scripts]\n{table}')
    others = ", ".join(s for s in scripts if s != chosen)
    assert infer(modules(), app_dir, venv_bin(tmp_path, *scripts)) == ProcessPlan(
        (Process("web", (chosen,), default=True),),
        "inferred",
        reason=f"the project's script named {chosen} (its others: {others})",
    )


def test_a_script_named_for_serving_must_be_installed(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    pyproject(app_dir, '[project]\nname = "svc"\n[project.scripts]\nstart = "a:b"\nx = "a:c"\n')
    bin_dir = venv_bin(tmp_path, "x")
    assert infer(modules(), app_dir, bin_dir) is None
    assert findings(modules(), AppFiles(app_dir), bin_dir) == [
        "project scripts: start, x (start not installed: is the project itself installed?)"
    ]


GUARD = 'line 9: `if __name__ == "__main__":`'


@pytest.mark.parametrize(
    ("found", "command", "reason"),
    [
        (
            {"main": module_info(script=GUARD), "app": module_info(script="line 1: `main()`")},
            ("python", "main.py"),
            f"main.py, a script ({GUARD})",
        ),
        (
            {"app": module_info(script="line 3: `main()`")},
            ("python", "app.py"),
            "app.py, a script (line 3: `main()`)",
        ),
        (
            # main.py only defines things: app.py is the script
            {"main": module_info(), "app": module_info(script=GUARD)},
            ("python", "app.py"),
            f"app.py, a script ({GUARD})",
        ),
    ],
)
def test_plain_scripts(
    tmp_path: Path, found: dict[str, ModuleInfo], command: tuple[str, ...], reason: str
) -> None:
    # python is the command; the script is an arg the user may replace (`docker run IMAGE -V`)
    assert infer(with_modules(**found), tmp_path) == ProcessPlan(
        (Process("web", command[:1], command[1:], default=True),), "inferred", reason=reason
    )


def test_a_module_that_only_defines_things_is_not_run(tmp_path: Path) -> None:
    """Running it would exit at once: no web process (and the build warns) rather than a
    process that stops as soon as it starts."""
    (tmp_path / "main.py").write_text("def helper():\n    return 1\n", encoding="utf-8")
    (tmp_path / "app.py").write_text("import logging\n", encoding="utf-8")
    assert infer(with_modules(main=module_info(), app=module_info()), tmp_path) is None


def test_a_module_that_does_not_parse_is_not_run(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("def (\n", encoding="utf-8")
    assert infer(with_modules(), tmp_path) is None


@pytest.mark.parametrize("module", ["app", "main"])
def test_an_app_that_serves_on_import_runs_as_a_script(tmp_path: Path, module: str) -> None:
    """gunicorn would import it and so start the app's own server in every worker."""
    info = module_info(
        {"app": "wsgi"},
        ("flask",),
        script="line 8: `app.run()`",
        serves_on_import="line 8: `app.run()`",
    )
    assert infer(with_modules(**{module: info}), tmp_path) == ProcessPlan(
        (Process("web", ("python",), (f"{module}.py",), default=True),),
        "inferred",
        reason=f"{module}.py, a script: importing it starts its own server (line 8: "
        "`app.run()`), so no other server can serve its app",
    )


def test_wsgi_py_that_serves_on_import_is_not_served(tmp_path: Path) -> None:
    info = module_info({"application": "wsgi"}, serves_on_import="line 5: `serve_forever()`")
    main = module_info({"app": "asgi"})
    plan = infer(with_modules(wsgi=info, main=main), tmp_path)
    assert plan is not None
    assert plan.processes[0] == uvicorn("main:app")


def test_an_app_that_serves_on_import_skips_to_the_next_module(tmp_path: Path) -> None:
    app = module_info(
        {"app": "wsgi"}, script="line 8: `app.run()`", serves_on_import="line 8: `app.run()`"
    )
    main = module_info({"app": "asgi"}, ("fastapi",))
    plan = infer(with_modules(app=app, main=main), tmp_path)
    assert plan == generated(uvicorn("main:app"), "uvicorn", "`app` in main.py (ASGI, fastapi)")


@pytest.mark.parametrize(
    ("callables", "command", "reason"),
    [
        (
            {"api": "asgi"},
            uvicorn("main:api"),
            "`api` in main.py (ASGI, fastapi)",
        ),
        (
            {"api": "asgi", "app": "wsgi"},
            gunicorn("main:app"),
            "`app` in main.py (WSGI, fastapi)",
        ),
    ],
)
def test_an_app_object_of_another_name(
    tmp_path: Path, callables: dict[str, str], command: Process, reason: str
) -> None:
    inspection = with_modules(main=module_info(callables, ("fastapi",), script=GUARD))
    assert infer(inspection, tmp_path) == generated(command, command.command[0], reason)


def test_two_app_objects_of_other_names_are_not_guessed(tmp_path: Path) -> None:
    inspection = with_modules(main=module_info({"api": "asgi", "admin": "wsgi"}))
    assert infer(inspection, tmp_path) is None


def test_nothing_to_serve(tmp_path: Path) -> None:
    (tmp_path / "wsgi.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "worker.py").write_text("x = 1\n", encoding="utf-8")
    assert infer(modules(wsgi={}), tmp_path) is None


@pytest.mark.parametrize(
    ("server", "generated_web"), [("gunicorn", True), ("uvicorn", True), (None, False)]
)
def test_generated_web(server: Optional[str], generated_web: bool) -> None:
    plan = ProcessPlan((Process("web", ("x",), default=True),), "inferred", server)
    assert plan.generated_web is generated_web


# --- the wsgi/application shim ------------------------------------------------------------------


def test_cartridge_shim_serves_wsgi_application(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_dir = tmp_path / "app"
    (app_dir / "wsgi").mkdir(parents=True)
    (app_dir / "wsgi" / "helper.py").write_text("GREETING = b'hello from wsgi'\n")
    (app_dir / "wsgi" / "application").write_text(
        "from helper import GREETING\n"
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [GREETING, environ['PATH_INFO'].encode()]\n",
        encoding="utf-8",
    )
    shim_dir = tmp_path / "cartridge"
    shim_dir.mkdir()
    (shim_dir / f"{CARTRIDGE_MODULE}.py").write_text(CARTRIDGE_SHIM, encoding="utf-8")
    monkeypatch.chdir(app_dir)
    monkeypatch.syspath_prepend(str(shim_dir))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    for name in (CARTRIDGE_MODULE, "helper"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    try:
        shim = importlib.import_module(CARTRIDGE_MODULE)
        application: Callable[..., list[bytes]] = shim.application
        started: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(status: str, headers: list[tuple[str, str]]) -> None:
            started.append((status, headers))

        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/x", "wsgi.url_scheme": "http"}
        body = application(environ, start_response)
    finally:
        sys.modules.pop(CARTRIDGE_MODULE, None)
        sys.modules.pop("helper", None)
    assert body == [b"hello from wsgi", b"/x"]
    assert started == [("200 OK", [("Content-Type", "text/plain")])]


# --- from real sources: Streamlit, Gradio, packages, factories, the warning's findings ----------


def inferred(app_dir: Path, files: dict[str, str]) -> Optional[ProcessPlan]:
    """Inference on the inspection of real source files."""
    for name, text in files.items():
        (app_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (app_dir / name).write_text(text, encoding="utf-8")
    return infer(inspect_app(app_dir), app_dir)


STREAMLIT = 'import streamlit as st\n\nst.title("Hello")\nname = st.text_input("Name")\n'
GRADIO = (
    "import gradio as gr\n\n\ndef greet(name):\n    return 'Hello ' + name\n\n\n"
    "demo = gr.Interface(fn=greet, inputs='text', outputs='text')\n"
    'if __name__ == "__main__":\n    demo.launch()\n'
)


@pytest.mark.parametrize(
    ("files", "script", "why"),
    [
        ({"streamlit_app.py": STREAMLIT, "app.py": STREAMLIT}, "streamlit_app.py", "imports"),
        ({"app.py": STREAMLIT, "main.py": STREAMLIT}, "app.py", "imports"),
        ({"main.py": STREAMLIT, "helpers.py": "import streamlit\n"}, "main.py", "imports"),
        ({"dashboard.py": STREAMLIT, "util.py": "x = 1\n"}, "dashboard.py", "only"),
        # `from streamlit import ...` and a main guard: still a Streamlit script
        (
            {"app.py": 'from streamlit import write\nif __name__ == "__main__":\n    write(1)\n'},
            "app.py",
            "imports",
        ),
    ],
)
def test_streamlit_app(tmp_path: Path, files: dict[str, str], script: str, why: str) -> None:
    plan = inferred(tmp_path, files)
    reason = (
        f"a Streamlit app ({script} imports streamlit)"
        if why == "imports"
        else f"a Streamlit app ({script}, the only script that imports streamlit)"
    )
    assert plan == ProcessPlan(
        (Process("web", ("streamlit", "run"), (script,), default=True),), "inferred", None, reason
    )


def test_streamlit_beats_a_script_and_an_app_object(tmp_path: Path) -> None:
    """`python app.py` would print a warning and exit; gunicorn cannot serve `app`."""
    plan = inferred(tmp_path, {"app.py": STREAMLIT + "app = object()\nprint(name)\n"})
    assert plan is not None and plan.processes[0].command == ("streamlit", "run")


def test_an_app_object_beats_the_only_streamlit_script_of_another_name(tmp_path: Path) -> None:
    """dashboard.py may sit beside the app; streamlit_app.py or app.py would not."""
    plan = inferred(tmp_path, {"main.py": FASTAPI_APP, "dashboard.py": STREAMLIT})
    assert plan == generated(uvicorn("main:app"), "uvicorn", "`app` in main.py (ASGI, fastapi)")
    (tmp_path / "streamlit_app.py").write_text(STREAMLIT, encoding="utf-8")
    plan = infer(inspect_app(tmp_path), tmp_path)
    assert plan is not None and plan.processes[0].args == ("streamlit_app.py",)


def test_several_streamlit_scripts_none_by_convention(tmp_path: Path) -> None:
    assert inferred(tmp_path, {"a.py": STREAMLIT, "b.py": STREAMLIT}) is None
    assert findings(inspect_app(tmp_path), AppFiles(tmp_path), tmp_path / "bin") == [
        "streamlit scripts: a.py, b.py, none named streamlit_app.py or app.py or main.py"
    ]


@pytest.mark.parametrize(
    ("files", "script", "why"),
    [
        ({"app.py": GRADIO, "main.py": GRADIO}, "app.py", "app.py imports gradio"),
        ({"main.py": GRADIO}, "main.py", "main.py imports gradio"),
        (
            {"demo.py": GRADIO, "ui.py": "import gradio as gr\nblocks = gr.Blocks()\n"},
            "demo.py",
            "demo.py, the only script that imports gradio",
        ),
    ],
)
def test_gradio_app(tmp_path: Path, files: dict[str, str], script: str, why: str) -> None:
    reason = f"a Gradio app ({why} and calls .launch(), line 10: `demo.launch()`)"
    assert inferred(tmp_path, files) == ProcessPlan(
        (Process("web", ("python",), (script,), default=True),), "inferred", None, reason
    )


def test_gradio_mounted_in_fastapi_is_served_by_uvicorn(tmp_path: Path) -> None:
    """No .launch(): the app object is the server's, as for any FastAPI app."""
    source = (
        "import gradio as gr\nfrom fastapi import FastAPI\n\n"
        "demo = gr.Blocks()\napp = FastAPI()\napp = gr.mount_gradio_app(app, demo, path='/')\n"
    )
    plan = inferred(tmp_path, {"main.py": source})
    assert plan == generated(uvicorn("main:app"), "uvicorn", "`app` in main.py (ASGI, fastapi)")


def test_gradio_without_launch_is_reported(tmp_path: Path) -> None:
    assert inferred(tmp_path, {"ui.py": "import gradio as gr\nblocks = gr.Blocks()\n"}) is None
    assert findings(inspect_app(tmp_path), AppFiles(tmp_path), tmp_path / "bin") == [
        "ui.py: imports gradio but never calls .launch()"
    ]


FLASK_APP = "from flask import Flask\napp = Flask(__name__)\n"
FASTAPI_APP = "from fastapi import FastAPI\napp = FastAPI()\n"
FLASK_FACTORY = (
    "from flask import Flask\n\n\ndef create_app(config=None):\n"
    "    app = Flask(__name__)\n    return app\n"
)


@pytest.mark.parametrize(
    ("files", "process", "server", "reason"),
    [
        (
            {"app/__init__.py": "", "app/main.py": FASTAPI_APP},
            uvicorn("app.main:app"),
            "uvicorn",
            "`app` in app/main.py (ASGI, fastapi)",
        ),
        (
            {"app/__init__.py": FLASK_APP, "app/main.py": FASTAPI_APP},
            gunicorn("app:app"),
            "gunicorn",
            "`app` in app/__init__.py (WSGI, flask)",
        ),
        (
            # a namespace package: no __init__.py, no app.py
            {"app/main.py": FASTAPI_APP},
            uvicorn("app.main:app"),
            "uvicorn",
            "`app` in app/main.py (ASGI, fastapi)",
        ),
        (
            {"src/shop/__init__.py": "", "src/shop/app.py": FLASK_APP},
            gunicorn("shop.app:app", "--pythonpath", "src"),
            "gunicorn",
            "`app` in src/shop/app.py (WSGI, flask)",
        ),
        (
            {"src/api/__init__.py": "", "src/api/main.py": FASTAPI_APP, "src/x.egg-info/a": ""},
            uvicorn("api.main:app", "--app-dir", "src"),
            "uvicorn",
            "`app` in src/api/main.py (ASGI, fastapi)",
        ),
        (
            # a root module beats a package's
            {"main.py": FASTAPI_APP, "src/shop/__init__.py": "", "src/shop/app.py": FLASK_APP},
            uvicorn("main:app"),
            "uvicorn",
            "`app` in main.py (ASGI, fastapi)",
        ),
    ],
)
def test_apps_in_packages(
    tmp_path: Path, files: dict[str, str], process: Process, server: str, reason: str
) -> None:
    assert inferred(tmp_path, files) == generated(process, server, reason)


def test_the_app_package_shadows_app_py(tmp_path: Path) -> None:
    """`import app` imports the package: app.py's object is not importable as app:app."""
    files = {"app.py": FLASK_APP, "app/__init__.py": "", "app/wsgi.py": FLASK_APP}
    assert inferred(tmp_path, files) == generated(
        gunicorn("app.wsgi:app"), "gunicorn", "`app` in app/wsgi.py (WSGI, flask)"
    )


FACTORY_FLASK = Process("web", ("gunicorn",), ("app:create_app()", *GUNICORN_LOG), default=True)


@pytest.mark.parametrize(
    ("files", "process", "server", "reason"),
    [
        (
            {"app/__init__.py": FLASK_FACTORY},
            FACTORY_FLASK,
            "gunicorn",
            "the app factory `create_app()` in app/__init__.py (WSGI, flask)",
        ),
        (
            {
                "src/svc/__init__.py": "",
                "src/svc/main.py": FASTAPI_APP.replace(
                    "app = FastAPI()", "def make_app():\n    return FastAPI()"
                ),
            },
            Process(
                "web",
                ("uvicorn", "--app-dir", "src"),
                ("--factory", "svc.main:make_app"),
                default=True,
            ),
            "uvicorn",
            "the app factory `make_app()` in src/svc/main.py (ASGI, fastapi)",
        ),
        (
            # the factory makes nothing python-cnb knows: the module's imports say
            {
                "app.py": "import flask\nfrom .factory import build\n\n"
                "def create_app():\n    return build()\n"
            },
            FACTORY_FLASK,
            "gunicorn",
            "the app factory `create_app()` in app.py (WSGI, flask)",
        ),
    ],
)
def test_app_factories(
    tmp_path: Path, files: dict[str, str], process: Process, server: str, reason: str
) -> None:
    assert inferred(tmp_path, files) == generated(process, server, reason)


def test_an_app_object_beats_a_factory_anywhere(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": FLASK_FACTORY,
        "app/wsgi.py": "from app import create_app\napp = create_app()\n",
    }
    assert inferred(tmp_path, files) == generated(
        gunicorn("app.wsgi:app"), "gunicorn", "`app` in app/wsgi.py (assumed WSGI)"
    )


def test_findings_list_modules_and_objects(tmp_path: Path) -> None:
    files = {
        "main.py": "from fastapi import FastAPI\napi = FastAPI()\nadmin = FastAPI()\n",
        "app.py": "def helper():\n    return 1\n",
        "src/shop/__init__.py": "",
        "src/shop/app.py": FLASK_APP + "app.run()\n",
    }
    assert inferred(tmp_path, files) is None
    inspection = inspect_app(tmp_path)
    assert findings(inspection, AppFiles(tmp_path), tmp_path / "bin") == [
        "app.py: no app object (`app`, `application`, `api = FastAPI()`...) and no app factory; "
        "it only defines things, so running it would exit at once",
        "main.py: app objects `admin`, `api`, and nothing says which one to serve",
        "src/shop/app.py: importing it starts its own server (line 3: `app.run()`)",
    ]
    assert example_spec(inspection) == "main:admin"


def test_findings_of_an_empty_app(tmp_path: Path) -> None:
    assert findings(inspect_app(tmp_path), AppFiles(tmp_path), tmp_path / "bin") == []
    assert example_spec(inspect_app(tmp_path)) == "myapp:app"
