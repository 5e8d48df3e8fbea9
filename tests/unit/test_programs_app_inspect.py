"""Reading an app's source with ``ast``: its callables, its frameworks, its Django project."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Optional

import pytest

from python_cnb.programs import app_inspect
from python_cnb.programs.app_inspect import (
    DjangoInfo,
    Inspection,
    ModuleInfo,
    PackageModule,
    UiScript,
    inspect_app,
    inspect_django,
    inspect_module,
)
from tests.support.contexts import require_python

SCRIPT = Path(app_inspect.__file__)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def module(tmp_path: Path, source: str) -> Optional[ModuleInfo]:
    return inspect_module(write(tmp_path / "app.py", source))


@pytest.mark.parametrize(
    ("source", "callables", "frameworks"),
    [
        (
            "from flask import Flask\napp = Flask(__name__)\n",
            {"app": "wsgi"},
            ["flask"],
        ),
        ("from fastapi import FastAPI\napp = FastAPI()\n", {"app": "asgi"}, ["fastapi"]),
        ("from fastapi import FastAPI as F\napp = F()\n", {"app": "asgi"}, ["fastapi"]),
        ("import fastapi\napp = fastapi.FastAPI()\n", {"app": "asgi"}, ["fastapi"]),
        ("import fastapi as fa\napp = fa.FastAPI()\n", {"app": "asgi"}, ["fastapi"]),
        (
            "from starlette.applications import Starlette\napp = Starlette()\n",
            {"app": "asgi"},
            ["starlette"],
        ),
        ("from quart import Quart\napp = Quart(__name__)\n", {"app": "asgi"}, ["quart"]),
        ("from litestar import Litestar\napp = Litestar([])\n", {"app": "asgi"}, ["litestar"]),
        ("import falcon\napp = falcon.App()\n", {"app": "wsgi"}, ["falcon"]),
        ("import falcon.asgi\napp = falcon.asgi.App()\n", {"app": "asgi"}, ["falcon"]),
        ("from falcon import asgi\napp = asgi.App()\n", {"app": "asgi"}, ["falcon"]),
        # `import falcon.asgi` binds the name falcon to the package: falcon.App is WSGI
        ("import falcon.asgi\napp = falcon.App()\n", {"app": "wsgi"}, ["falcon"]),
        (
            "from django.core.wsgi import get_wsgi_application\n"
            "application = get_wsgi_application()\n",
            {"application": "wsgi"},
            ["django"],
        ),
        (
            "from django.core.asgi import get_asgi_application\n"
            "application = get_asgi_application()\n",
            {"application": "asgi"},
            ["django"],
        ),
        (
            "import django.core.wsgi\napplication = django.core.wsgi.get_wsgi_application()\n",
            {"application": "wsgi"},
            ["django"],
        ),
        (
            "def application(environ, start_response):\n    return []\n",
            {"application": "wsgi"},
            [],
        ),
        (
            "def application(environ, start_response, /):\n    return []\n",
            {"application": "wsgi"},
            [],
        ),
        ("async def app(scope, receive, send):\n    pass\n", {"app": "asgi"}, []),
        ("def app(scope, receive, send):\n    pass\n", {"app": "unknown"}, []),
        (
            "from flask import Flask\napp: Flask = Flask(__name__)\n",
            {"app": "wsgi"},
            ["flask"],
        ),
        # an unknown constructor: the framework the module imports decides
        (
            "from flask import Flask\nfrom factory import create_app\napp = create_app()\n",
            {"app": "wsgi"},
            ["flask"],
        ),
        (
            "import fastapi\nfrom factory import create_app\napp = create_app()\n",
            {"app": "asgi"},
            ["fastapi"],
        ),
        # both kinds of framework, and nothing else says: ambiguous
        (
            "import fastapi\nimport flask\napp = build()\n",
            {"app": "ambiguous"},
            ["fastapi", "flask"],
        ),
        # ... unless the constructor does
        (
            "import flask\nfrom fastapi import FastAPI\napp = FastAPI()\n",
            {"app": "asgi"},
            ["fastapi", "flask"],
        ),
        (
            "from flask import Flask\nimport starlette\napp = Flask(__name__)\n",
            {"app": "wsgi"},
            ["flask", "starlette"],
        ),
        # ... or a factory of the module, which makes one kind of app
        (
            "from flask import Flask\nfrom fastapi import FastAPI\n"
            "def create_app():\n    api = FastAPI()\n    return api\n"
            "app = create_app()\n",
            {"app": "asgi"},
            ["fastapi", "flask"],
        ),
        (
            "import flask\nimport fastapi\n"
            "def create_app(config=None):\n    app = flask.Flask(__name__)\n    return app\n"
            "app = create_app()\n",
            {"app": "wsgi"},
            ["fastapi", "flask"],
        ),
        # a factory that makes both kinds says nothing
        (
            "from flask import Flask\nfrom fastapi import FastAPI\n"
            "def create_app():\n    f = Flask(__name__)\n    return FastAPI()\n"
            "app = create_app()\n",
            {"app": "ambiguous"},
            ["fastapi", "flask"],
        ),
        # ... or the object it aliases
        (
            "import flask\nfrom fastapi import FastAPI\napi = FastAPI()\napp = api\n",
            {"api": "asgi", "app": "asgi"},
            ["fastapi", "flask"],
        ),
        ("from factory import create_app\napp = create_app()\n", {"app": "unknown"}, []),
        ("app = object\n", {"app": "unknown"}, []),
        (
            "from flask import Flask\napp = Flask(__name__)\napplication = app\n",
            {"app": "wsgi", "application": "wsgi"},
            ["flask"],
        ),
        # an app object of another name, made by a framework's app class
        ("from flask import Flask\nserver = Flask(__name__)\n", {"server": "wsgi"}, ["flask"]),
        (
            "import fastapi\napi: fastapi.FastAPI = fastapi.FastAPI()\n",
            {"api": "asgi"},
            ["fastapi"],
        ),
        ("import falcon.asgi\nservice = falcon.asgi.App()\n", {"service": "asgi"}, ["falcon"]),
        # ... but not other framework objects, nor a name bound again to something else
        ("from fastapi import APIRouter\nrouter = APIRouter()\n", {}, ["fastapi"]),
        ("from flask import Flask\nserver = Flask(__name__)\nserver = 1\n", {}, ["flask"]),
        ("from flask import Flask\nserver = Flask(__name__)\ndef server(): ...\n", {}, ["flask"]),
        ("from flask import Flask\nclass app: ...\n", {}, ["flask"]),
        ("from . import views\napp = views.make()\n", {"app": "unknown"}, []),
    ],
)
def test_inspect_module_callables(
    tmp_path: Path, source: str, callables: dict[str, str], frameworks: list[str]
) -> None:
    result = module(tmp_path, source)
    assert result is not None
    # factories are judged by test_inspect_module_factories
    assert (result["callables"], result["frameworks"]) == (callables, frameworks)
    assert (result["script"], result["serves_on_import"]) == (None, None)


def test_the_last_definition_wins(tmp_path: Path) -> None:
    source = "from flask import Flask\napp = Flask(__name__)\nasync def app(scope, r, s): ...\n"
    result = module(tmp_path, source)
    assert result is not None
    assert result["callables"] == {"app": "asgi"}


def test_nested_definitions_are_not_module_callables(tmp_path: Path) -> None:
    source = "from flask import Flask\ndef create():\n    app = Flask(__name__)\n    return app\n"
    result = module(tmp_path, source)
    assert result is not None
    assert result["callables"] == {}


GUARD = 'if __name__ == "__main__":'


@pytest.mark.parametrize(
    ("code", "script"),
    [
        ('if __name__ == "__main__":\n    main()\n', f"line 3: `{GUARD}`"),
        ('if "__main__" == __name__:\n    main()\n', f"line 3: `{GUARD}`"),
        ("if __name__ == '__main__':\n    main()\n", f"line 3: `{GUARD}`"),
        ("main()\n", "line 3: `main()`"),
        ("import asyncio\nasyncio.run(main())\n", "line 4: `asyncio.run()`"),
        ("print('hello')\n", "line 3: `print()`"),
        ("while True:\n    main()\n", "line 3: `while True:`"),
        ("for job in jobs:\n    job()\n", "line 3: `for job in ...:`"),
        ("try:\n    main()\nexcept KeyboardInterrupt:\n    pass\n", "line 4: `main()`"),
        ("with open('x') as f:\n    main()\n", "line 4: `main()`"),
        ("if True:\n    main()\n", "line 4: `main()`"),
        ("import sys\nsys.exit(main())\n", "line 4: `sys.exit()`"),
        (
            "import subprocess\nsubprocess.run(['alembic', 'upgrade', 'head'])\n",
            "line 4: `subprocess.run()`",
        ),
        ("x = main()\n", None),
        ('if __name__ != "__main__":\n    x = 1\n', None),
        ('if __name__ == "app":\n    x = 1\n', None),
        ('def f():\n    if __name__ == "__main__":\n        main()\n', None),
        ("class C:\n    main()\n", None),
        ('"""A docstring."""\n', None),
        # setup is not running the program
        ("import logging\nlogging.basicConfig(level='INFO')\n", None),
        ("from dotenv import load_dotenv\nload_dotenv()\n", None),
        ("import sys\nsys.path.insert(0, 'src')\n", None),
        ("import os\nos.makedirs('uploads', exist_ok=True)\n", None),
        ("import django\ndjango.setup()\n", None),
        ("import warnings\nwarnings.filterwarnings('ignore')\n", None),
    ],
)
def test_script(tmp_path: Path, code: str, script: Optional[str]) -> None:
    result = module(tmp_path, "def main():\n    pass\n" + code)
    assert result is not None
    assert result["script"] == script


def test_the_first_script_code_is_named(tmp_path: Path) -> None:
    result = module(tmp_path, "import db\ndb.create_all()\nif __name__ == '__main__':\n    1\n")
    assert result is not None
    assert result["script"] == "line 2: `db.create_all()`"


def test_long_script_code_is_shortened(tmp_path: Path) -> None:
    result = module(
        tmp_path, "a.very.long.chain.of.attributes.that.goes.on.then.on.forever.run()\n"
    )
    assert result is not None
    assert (
        result["script"]
        == "line 1: `a.very.long.chain.of.attributes.that.goes.on.then.on.fore...()`"
    )


@pytest.mark.parametrize(
    ("code", "serves"),
    [
        ("app.run(host='0.0.0.0')\n", "line 3: `app.run()`"),
        ("import uvicorn\nuvicorn.run(app, port=8000)\n", "line 4: `uvicorn.run()`"),
        ("from aiohttp import web\nweb.run_app(app)\n", "line 4: `web.run_app()`"),
        (
            "make_server('', 80, app).serve_forever()\n",
            "line 3: `make_server('', 80, app).serve_forever()`",
        ),
        ("app.run_server(debug=True)\n", "line 3: `app.run_server()`"),
        ("main()\n", "line 3: `main()`"),
        ("while True:\n    pass\n", "line 3: `while True:`"),
        ("try:\n    app.run()\nfinally:\n    pass\n", "line 4: `app.run()`"),
        # guarded, or setup: importing it starts nothing
        ('if __name__ == "__main__":\n    app.run()\n', None),
        ("app.config.from_object('settings')\n", None),
        ("app.register_blueprint(bp)\n", None),
        ("import subprocess\nsubprocess.run(['migrate'])\n", None),
        ("for bp in bps:\n    app.register_blueprint(bp)\n", None),
        ("def run():\n    app.run()\n", None),
    ],
)
def test_serves_on_import(tmp_path: Path, code: str, serves: Optional[str]) -> None:
    result = module(tmp_path, "from flask import Flask\napp = Flask(__name__)\n" + code)
    assert result is not None
    assert result["serves_on_import"] == serves
    assert result["callables"] == {"app": "wsgi"}


def test_a_syntax_error_is_none(tmp_path: Path) -> None:
    assert module(tmp_path, "app = Flask(\n") is None


def test_null_bytes_are_none(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(b"app = 1\x00\n")
    assert inspect_module(path) is None


# --- Django -------------------------------------------------------------------------------------

MANAGE_PY = """\
import os
import sys

def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{settings}")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)

if __name__ == "__main__":
    main()
"""


def django_project(
    root: Path,
    *,
    settings: str = "mysite.settings",
    settings_text: Optional[str] = 'WSGI_APPLICATION = "mysite.wsgi.application"\n',
    files: tuple[str, ...] = ("wsgi.py", "asgi.py"),
) -> None:
    write(root / "manage.py", MANAGE_PY.format(settings=settings))
    package = root / settings.split(".", maxsplit=1)[0]
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    for name in files:
        (package / name).write_text("application = None\n", encoding="utf-8")
    if settings_text is not None:
        write(root.joinpath(*settings.split(".")).with_suffix(".py"), settings_text)


def test_django_wsgi_application_from_settings(tmp_path: Path) -> None:
    django_project(
        tmp_path, settings_text='WSGI_APPLICATION = "mysite.custom.application"\nDEBUG = False\n'
    )
    assert inspect_django(tmp_path) == {
        "manage_py": "manage.py",
        "directory": ".",
        "settings_module": "mysite.settings",
        "wsgi_application": "mysite.custom.application",
        "asgi_application": None,
        "wsgi_explicit": True,
        "asgi_explicit": False,
    }


def test_django_asgi_application_set_beside_wsgi(tmp_path: Path) -> None:
    django_project(
        tmp_path,
        settings_text='WSGI_APPLICATION = "mysite.wsgi.application"\n'
        'ASGI_APPLICATION = "mysite.asgi.application"\n',
    )
    result = inspect_django(tmp_path)
    assert result is not None
    assert result["wsgi_application"] == "mysite.wsgi.application"
    assert result["asgi_application"] == "mysite.asgi.application"
    assert result["wsgi_explicit"] is True
    assert result["asgi_explicit"] is True


def test_django_settings_as_a_package(tmp_path: Path) -> None:
    django_project(tmp_path, settings_text=None)
    write(
        tmp_path / "mysite" / "settings" / "__init__.py",
        'WSGI_APPLICATION = "mysite.other.application"\n',
    )
    result = inspect_django(tmp_path)
    assert result is not None
    assert result["wsgi_application"] == "mysite.other.application"


def test_django_dotted_settings_module(tmp_path: Path) -> None:
    django_project(tmp_path, settings="config.settings.production", settings_text=None)
    write(
        tmp_path / "config" / "settings" / "production.py",
        'from .base import *\nASGI_APPLICATION = "config.routing.application"\n',
    )
    result = inspect_django(tmp_path)
    assert result is not None
    assert result["settings_module"] == "config.settings.production"
    assert result["wsgi_application"] == "config.wsgi.application"  # from config/wsgi.py
    assert result["asgi_application"] == "config.routing.application"
    assert result["wsgi_explicit"] is False
    assert result["asgi_explicit"] is True


def test_django_the_last_assignment_wins(tmp_path: Path) -> None:
    django_project(
        tmp_path,
        settings_text='WSGI_APPLICATION = "mysite.old.application"\n'
        'WSGI_APPLICATION: str = "mysite.new.application"\n',
    )
    result = inspect_django(tmp_path)
    assert result is not None
    assert result["wsgi_application"] == "mysite.new.application"


def test_django_without_wsgi_application_uses_wsgi_py(tmp_path: Path) -> None:
    django_project(tmp_path, settings_text="DEBUG = True\n")
    result = inspect_django(tmp_path)
    assert result is not None
    assert result["wsgi_application"] == "mysite.wsgi.application"
    assert result["asgi_application"] is None  # asgi.py is there, but wsgi.py wins
    assert result["wsgi_explicit"] is False
    assert result["asgi_explicit"] is False


def test_django_asgi_py_only(tmp_path: Path) -> None:
    django_project(tmp_path, settings_text="DEBUG = True\n", files=("asgi.py",))
    result = inspect_django(tmp_path)
    assert result is not None
    assert result["wsgi_application"] is None
    assert result["asgi_application"] == "mysite.asgi.application"
    assert result["wsgi_explicit"] is False
    assert result["asgi_explicit"] is False


def test_django_asgi_application_only(tmp_path: Path) -> None:
    django_project(
        tmp_path, settings_text='ASGI_APPLICATION = "mysite.asgi.application"\n', files=()
    )
    result = inspect_django(tmp_path)
    assert result is not None
    assert result["wsgi_application"] is None
    assert result["asgi_application"] == "mysite.asgi.application"
    assert result["asgi_explicit"] is True


def test_django_without_settings_module(tmp_path: Path) -> None:
    write(tmp_path / "manage.py", "import sys\n")
    assert inspect_django(tmp_path) == {
        "manage_py": "manage.py",
        "directory": ".",
        "settings_module": None,
        "wsgi_application": None,
        "asgi_application": None,
        "wsgi_explicit": False,
        "asgi_explicit": False,
    }


def test_django_one_level_down(tmp_path: Path) -> None:
    django_project(tmp_path / "backend")
    assert inspect_django(tmp_path) == {
        "manage_py": "backend/manage.py",
        "directory": "backend",
        "settings_module": "mysite.settings",
        "wsgi_application": "mysite.wsgi.application",
        "asgi_application": None,
        "wsgi_explicit": True,
        "asgi_explicit": False,
    }


def test_a_root_manage_py_linked_into_a_subdirectory_is_that_project(tmp_path: Path) -> None:
    django_project(tmp_path / "backend")
    (tmp_path / "manage.py").symlink_to("backend/manage.py")
    result = inspect_django(tmp_path)
    assert result is not None
    assert (result["manage_py"], result["directory"]) == ("backend/manage.py", "backend")
    assert result["wsgi_application"] == "mysite.wsgi.application"


def test_a_manage_py_linked_outside_the_app_is_not_followed(tmp_path: Path) -> None:
    django_project(tmp_path / "elsewhere")
    app = tmp_path / "app"
    app.mkdir()
    (app / "manage.py").symlink_to(tmp_path / "elsewhere" / "manage.py")
    result = inspect_django(app)
    assert result is not None and result["directory"] == "."


def test_django_the_root_wins_over_a_subdirectory(tmp_path: Path) -> None:
    django_project(tmp_path / "aaa")
    django_project(tmp_path)
    result = inspect_django(tmp_path)
    assert result is not None
    assert result["manage_py"] == "manage.py"


def test_django_hidden_directories_are_ignored(tmp_path: Path) -> None:
    django_project(tmp_path / ".venv")
    assert inspect_django(tmp_path) is None
    django_project(tmp_path / "site")
    result = inspect_django(tmp_path)
    assert result is not None
    assert result["directory"] == "site"


def test_django_in_a_hidden_app_directory(tmp_path: Path) -> None:
    app_dir = tmp_path / ".app"
    django_project(app_dir)
    result = inspect_django(app_dir)
    assert result is not None
    assert result["manage_py"] == "manage.py"


def test_django_two_levels_down_is_not_found(tmp_path: Path) -> None:
    django_project(tmp_path / "src" / "backend")
    assert inspect_django(tmp_path) is None


def test_no_manage_py(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "app = 1\n")
    assert inspect_django(tmp_path) is None


# --- the whole app ------------------------------------------------------------------------------


def test_inspect_app(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "from flask import Flask\napp = Flask(__name__)\n")
    write(tmp_path / "main.py", 'print("hi")\nif __name__ == "__main__":\n    pass\n')
    write(tmp_path / "wsgi.py", "def application(environ, start_response):\n    return []\n")
    write(tmp_path / "broken.py", "def (\n")
    write(tmp_path / "wsgi" / "application", "def application(environ, start_response): ...\n")
    assert inspect_app(tmp_path) == {
        "django": None,
        "modules": {
            "wsgi": {
                "callables": {"application": "wsgi"},
                "frameworks": [],
                "script": None,
                "serves_on_import": None,
                "factories": {},
            },
            "app": {
                "callables": {"app": "wsgi"},
                "frameworks": ["flask"],
                "script": None,
                "serves_on_import": None,
                "factories": {},
            },
            "main": {
                "callables": {},
                "frameworks": [],
                "script": "line 1: `print()`",
                "serves_on_import": None,
                "factories": {},
            },
        },
        "wsgi_application_file": True,
        "packages": [],
        "ui_scripts": {},
    }


def test_inspect_app_skips_modules_that_do_not_parse(tmp_path: Path) -> None:
    write(tmp_path / "main.py", "def (\n")
    assert inspect_app(tmp_path) == {
        "django": None,
        "modules": {},
        "wsgi_application_file": False,
        "packages": [],
        "ui_scripts": {},
    }


@pytest.mark.parametrize(
    "text",
    ["app = make()\n", "def (\n", "# application = None\n"],
)
def test_wsgi_application_file_without_application(tmp_path: Path, text: str) -> None:
    write(tmp_path / "wsgi" / "application", text)
    assert inspect_app(tmp_path)["wsgi_application_file"] is False


def test_wsgi_application_directory_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "wsgi" / "application").mkdir(parents=True)
    assert inspect_app(tmp_path)["wsgi_application_file"] is False


# --- as a script --------------------------------------------------------------------------------


def sample_app(root: Path) -> None:
    django_project(root / "site")
    write(root / "main.py", "import fastapi\napp = fastapi.FastAPI()\n")
    write(
        root / "app.py", "async def app(scope, receive, send): ...\nif __name__ == '__main__': 1\n"
    )
    write(
        root / "wsgi.py",
        "import flask, fastapi\n"
        "def make():\n    return flask.Flask(__name__)\n"
        "application = make()\n"
        "api: fastapi.FastAPI = fastapi.FastAPI()\n"
        "with open('x'):\n    api.run(port=1)\n",
    )
    write(root / "wsgi" / "application", "def application(e, s): ...\n")


def run_script(python: Path, app_dir: Path) -> str:
    completed = subprocess.run(
        [str(python), "-I", "-B", str(SCRIPT), str(app_dir)],
        capture_output=True,
        text=True,
        check=True,
        cwd=app_dir,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert completed.stderr == ""
    return completed.stdout


def test_script_prints_the_inspection(tmp_path: Path) -> None:
    sample_app(tmp_path)
    text = run_script(Path(sys.executable), tmp_path)
    assert text.endswith("}\n")
    assert json.loads(text) == inspect_app(tmp_path)
    assert json.loads(text)["modules"]["wsgi"] == {
        "callables": {"application": "wsgi", "api": "asgi"},
        "frameworks": ["fastapi", "flask"],
        "script": "line 7: `api.run()`",
        "serves_on_import": "line 7: `api.run()`",
        "factories": {},
    }


def test_the_printed_keys_are_the_typed_ones(tmp_path: Path) -> None:
    """D6: inference reads the JSON through these TypedDicts; a key renamed on one side only
    would silently stop inference."""
    sample_app(tmp_path)
    printed = json.loads(run_script(Path(sys.executable), tmp_path))
    assert printed.keys() == Inspection.__annotations__.keys()
    assert printed["django"].keys() == DjangoInfo.__annotations__.keys()
    assert printed["modules"].keys() == {"wsgi", "app", "main"}
    for info in printed["modules"].values():
        assert info.keys() == ModuleInfo.__annotations__.keys()


def test_the_printed_package_and_ui_keys_are_the_typed_ones(tmp_path: Path) -> None:
    write(tmp_path / "src" / "shop" / "__init__.py", "def create_app(): ...\n")
    write(tmp_path / "dashboard.py", "import streamlit\n")
    printed = json.loads(run_script(Path(sys.executable), tmp_path))
    [package] = printed["packages"]
    assert package.keys() == PackageModule.__annotations__.keys()
    assert package["info"].keys() == ModuleInfo.__annotations__.keys()
    assert package["info"]["factories"] == {"create_app": "unknown"}
    assert printed["ui_scripts"]["dashboard.py"].keys() == UiScript.__annotations__.keys()


def test_script_gives_the_same_json_on_python_3_9(tmp_path: Path) -> None:
    python39 = require_python("3.9")
    sample_app(tmp_path)
    expected = run_script(Path(sys.executable), tmp_path)
    assert json.loads(expected)["django"]["directory"] == "site"
    assert run_script(python39, tmp_path) == expected


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "-" * 100_000 + "1\n",  # MemoryError: the parser's stack overflows
        "x = a" + ".b" * 100_000 + "\n",  # RecursionError while building the tree
        "from flask import Flask\napp = Flask(__name__)\na" + ".b" * 3000 + "()\n",  # our walk
    ],
    ids=["unary-chain", "attribute-chain-parse", "attribute-chain-walk"],
)
def test_sources_too_deep_to_inspect_are_skipped_like_syntax_errors(
    tmp_path: Path, source: str
) -> None:
    """LOW-2: such a main.py failed the whole build ('python app_inspect.py' failed)."""
    (tmp_path / "main.py").write_text(source, encoding="utf-8")
    (tmp_path / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    found = inspect_app(tmp_path)
    assert "main" not in found["modules"]
    assert found["modules"]["app"]["callables"] == {"app": "wsgi"}
    printed = subprocess.run(
        [sys.executable, "-I", "-B", app_inspect.__file__, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(printed.stdout)["modules"].keys() == {"app"}


# --- factories, packages, Streamlit and Gradio scripts ------------------------------------------


@pytest.mark.parametrize(
    ("source", "factories"),
    [
        (
            "from flask import Flask\ndef create_app():\n    return Flask(__name__)\n",
            {"create_app": "wsgi"},
        ),
        ("import fastapi\ndef make_app():\n    return fastapi.FastAPI()\n", {"make_app": "asgi"}),
        # nothing made that python-cnb knows: the module's frameworks say
        (
            "import flask\nfrom .x import build\ndef create_app():\n    return build()\n",
            {"create_app": "wsgi"},
        ),
        ("def create_app():\n    return build()\n", {"create_app": "unknown"}),
        # rebound, or not a factory's name
        (
            "from flask import Flask\ndef create_app():\n    return Flask(__name__)\n"
            "create_app = None\n",
            {},
        ),
        ("from flask import Flask\ndef build():\n    return Flask(__name__)\n", {}),
        ("class create_app: ...\n", {}),
    ],
)
def test_inspect_module_factories(tmp_path: Path, source: str, factories: dict[str, str]) -> None:
    result = module(tmp_path, source)
    assert result is not None and result["factories"] == factories


def test_inspect_app_packages(tmp_path: Path) -> None:
    write(tmp_path / "app" / "__init__.py", "from flask import Flask\napp = Flask(__name__)\n")
    write(tmp_path / "app" / "main.py", "def (\n")  # does not parse: left out
    write(tmp_path / "app" / "views.py", "x = 1\n")  # not a module apps are in
    write(tmp_path / "app.py", "app = 1\n")  # shadowed by the package
    write(tmp_path / "src" / "shop" / "__init__.py", "")
    write(tmp_path / "src" / "shop" / "wsgi.py", "def application(environ, start_response): ...\n")
    write(tmp_path / "src" / "no_init" / "app.py", "app = 1\n")
    write(tmp_path / "src" / "shop.egg-info" / "__init__.py", "")
    found = inspect_app(tmp_path)
    assert "app" not in found["modules"]
    assert [(p["module"], p["file"], p["path"]) for p in found["packages"]] == [
        ("app", "app/__init__.py", "."),
        ("shop", "src/shop/__init__.py", "src"),
        ("shop.wsgi", "src/shop/wsgi.py", "src"),
    ]
    assert found["packages"][0]["info"]["callables"] == {"app": "wsgi"}
    assert found["packages"][2]["info"]["callables"] == {"application": "wsgi"}


def test_app_py_beats_a_namespace_package(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "from flask import Flask\napp = Flask(__name__)\n")
    write(tmp_path / "app" / "main.py", "app = 1\n")
    found = inspect_app(tmp_path)
    assert found["packages"] == [] and found["modules"]["app"]["callables"] == {"app": "wsgi"}


def test_inspect_app_ui_scripts(tmp_path: Path) -> None:
    write(tmp_path / "streamlit_app.py", "import streamlit as st\nst.write('hi')\n")
    write(
        tmp_path / "demo.py",
        "import gradio as gr\nwith gr.Blocks() as demo:\n    pass\n"
        "if __name__ == '__main__':\n    demo.queue().launch(share=False)\n",
    )
    write(tmp_path / "ui.py", "from gradio import Blocks\nb = Blocks()\n")
    write(tmp_path / "notes.py", "# streamlit is mentioned, not imported\nx = 1\n")
    write(tmp_path / "both.py", "import gradio\nimport streamlit\n")
    write(tmp_path / "broken.py", "import streamlit\ndef (\n")
    write(tmp_path / "pkg" / "page.py", "import streamlit\n")  # not in the root
    assert inspect_app(tmp_path)["ui_scripts"] == {
        "both.py": {"framework": "streamlit", "launch": None},
        "demo.py": {"framework": "gradio", "launch": "line 5: `demo.queue().launch()`"},
        "streamlit_app.py": {"framework": "streamlit", "launch": None},
        "ui.py": {"framework": "gradio", "launch": None},
    }
