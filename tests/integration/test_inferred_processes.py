"""Apps without a Procfile get a real web process, chosen from their code, with the reason."""

from __future__ import annotations

import json

import pytest

from tests.support.assertions import assert_one_error_block
from tests.support.lifecycle import Lifecycle

pytestmark = pytest.mark.integration

APPS = [
    pytest.param(
        "flask_noprocfile",
        "gunicorn app:app --access-logfile -",
        "`app` in app.py (WSGI, flask)",
        "Hello from Flask without a Procfile",
        "gunicorn",
        id="flask",
    ),
    pytest.param(
        "django_app",
        "gunicorn mysite.wsgi:application --access-logfile -",
        "Django project (manage.py, WSGI_APPLICATION = mysite.wsgi.application)",
        "Hello from Django",
        "gunicorn",
        id="django",
    ),
    pytest.param(
        "django_nested",
        "gunicorn --chdir backend project.wsgi:application --access-logfile -",
        "Django project (backend/manage.py, WSGI_APPLICATION = project.wsgi.application)",
        "Hello from Django",
        "gunicorn",
        id="django-nested",
    ),
    pytest.param(
        "fastapi_app",
        "uvicorn main:app",
        "`app` in main.py (ASGI, fastapi)",
        '{"hello":"FastAPI"}',
        "uvicorn",
        id="fastapi",
    ),
    pytest.param(
        "wsgi_app",
        "gunicorn wsgi:application --access-logfile -",
        "`application` in wsgi.py (WSGI)",
        "Hello from a WSGI callable",
        "gunicorn",
        id="wsgi",
    ),
    pytest.param(
        "wsgi_cartridge",
        "python_cnb_wsgi_cartridge:application",
        "`application` in wsgi/application (the OpenShift/Jelastic cartridge convention)",
        "Hello from wsgi/application",
        "gunicorn",
        id="wsgi-cartridge",
    ),
    pytest.param(
        "asgi_app",
        "uvicorn main:app",
        "`app` in main.py (ASGI)",
        "Hello from an ASGI callable",
        "uvicorn",
        id="asgi",
    ),
    pytest.param(
        "scripts_app",
        "serve",
        "the project's only script, serve",
        "Hello from a project script",
        None,
        id="project-script",
    ),
    pytest.param(
        "flask_factory_package",
        "gunicorn app:create_app() --access-logfile -",
        "the app factory `create_app()` in app/__init__.py (WSGI, flask)",
        "Hello from a Flask app factory",
        "gunicorn",
        id="flask-factory-package",
    ),
    pytest.param(
        "src_layout_fastapi",
        "uvicorn --app-dir src greeter.main:app",
        "`app` in src/greeter/main.py (ASGI, fastapi)",
        '{"hello":"src layout"}',
        "uvicorn",
        id="src-layout-fastapi",
    ),
    pytest.param(
        "scripts_start",
        "start",
        "the project's script named start (its others: migrate)",
        "Hello from the start script",
        None,
        id="project-script-start",
    ),
    pytest.param(
        "script_only",
        "python main.py",
        'main.py, a script (line 16: `if __name__ == "__main__":`)',
        "Hello from python main.py",
        None,
        id="script",
    ),
]


@pytest.mark.parametrize(("fixture", "command", "reason", "body", "server"), APPS)
def test_inferred_web_process_serves(
    lifecycle: Lifecycle, fixture: str, command: str, reason: str, body: str, server: str | None
) -> None:
    result = lifecycle.build(lifecycle.app(fixture))

    assert "No Procfile: web runs '" in result.output and command in result.output
    assert f"because of {reason}" in result.output
    if server is not None:
        assert f"Installed {server}==" in result.output  # none of these apps lists its server
        assert (lifecycle.layer("venv") / "bin" / server).is_file()
    web = lifecycle.start()
    status, text = web.wait_for_http("/")
    assert status == 200 and body in text, web.output
    # The server listens on the PORT it was given, on loopback only (BIND_HOST).
    if server == "gunicorn":
        assert f"Listening at: http://127.0.0.1:{web.port}" in web.output
    elif server == "uvicorn":
        assert f"Uvicorn running on http://127.0.0.1:{web.port}" in web.output


# --- user arguments replace a generated process's args ------------------------------------------

OTHER_WSGI = """def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello from other.py\\n"]
"""


def test_user_args_replace_a_scripts_args(lifecycle: Lifecycle) -> None:
    """web is `python` with [main.py]: `docker run IMAGE -V` runs `python -V`, no server."""
    lifecycle.build(lifecycle.app("script_only"))
    version = lifecycle.launch(args=["-V"], timeout=30)
    assert version.stdout.startswith("Python 3."), version.stdout + version.stderr
    image = json.loads(lifecycle.workspace.image_metadata.read_text())
    [web] = image["processes"]
    assert (web["command"], web["args"]) == (["python"], ["main.py"])


def test_user_args_name_another_app_for_gunicorn(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("wsgi_app")
    (app / "other.py").write_text(OTHER_WSGI)
    lifecycle.build(app)
    web = lifecycle.start(args=["other:application"])
    assert web.wait_for_http("/") == (200, "Hello from other.py\n"), web.output
    # The address still comes from the environment (GUNICORN_CMD_ARGS, by exec.d).
    assert f"Listening at: http://127.0.0.1:{web.port}" in web.output


def test_user_args_for_uvicorn_keep_the_address(lifecycle: Lifecycle) -> None:
    lifecycle.build(lifecycle.app("asgi_app"))
    web = lifecycle.start(args=["main:app", "--root-path", "/api"])
    assert web.wait_for_http("/") == (200, "Hello from an ASGI callable\n"), web.output
    assert f"Uvicorn running on http://127.0.0.1:{web.port}" in web.output


def test_user_args_of_a_nested_django_project_keep_its_directory(lifecycle: Lifecycle) -> None:
    """--chdir is in the command: an app the user names is found where the project is."""
    lifecycle.build(lifecycle.app("django_nested"))
    image = json.loads(lifecycle.workspace.image_metadata.read_text())
    [web] = image["processes"]
    assert (web["command"], web["args"]) == (
        ["gunicorn", "--chdir", "backend"],
        ["project.wsgi:application", "--access-logfile", "-"],
    )
    web_process = lifecycle.start(args=["project.wsgi:application", "--timeout", "90"])
    status, body = web_process.wait_for_http("/")
    assert status == 200 and "Hello from Django" in body, web_process.output


def test_server_already_in_the_dependencies_is_used(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("flask_noprocfile")
    (app / "requirements.txt").write_text("Flask==3.1.3\ngunicorn==27.0.1\n")
    result = lifecycle.build(app)
    assert "gunicorn is already in the virtualenv" in result.output
    assert "Installed gunicorn==" not in result.output


def test_server_install_can_be_turned_off(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(
        lifecycle.app("flask_noprocfile"),
        {"BP_PYTHON_NO_SERVER_INSTALL": "true"},
        expect_success=False,
    )
    block = assert_one_error_block(result, "The web process needs gunicorn")
    assert "because of `app` in app.py (WSGI, flask)" in block
    assert "BP_PYTHON_NO_SERVER_INSTALL=true forbids adding it" in block


def test_rebuild_keeps_the_installed_server(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("fastapi_app")
    lifecycle.build(app)
    again = lifecycle.build(app)
    assert "Using cached virtualenv (dependencies unchanged)" in again.output
    assert "uvicorn is already in the virtualenv" in again.output
    assert "Installed uvicorn==" not in again.output


def test_no_web_process_warns_how_to_add_one(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("runtime_txt")
    (app / "main.py").rename(app / "job.py")
    result = lifecycle.build(app)
    assert "[Warning: No web process]" in result.output
    assert "web: gunicorn myapp:app" in result.output
    assert '"processes": []' in lifecycle.workspace.image_metadata.read_text()


def test_an_asgi_app_factory_is_called_by_uvicorn(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("fastapi_app")
    (app / "main.py").write_text(
        "from fastapi import FastAPI\n\n\ndef create_app() -> FastAPI:\n"
        "    api = FastAPI()\n    api.get('/')(lambda: {'hello': 'factory'})\n    return api\n",
        encoding="utf-8",
    )
    result = lifecycle.build(app)
    assert "No Procfile: web runs 'uvicorn --factory main:create_app'" in result.output
    assert "because of the app factory `create_app()` in main.py (ASGI, fastapi)" in result.output
    web = lifecycle.start()
    assert web.wait_for_http("/") == (200, '{"hello":"factory"}'), web.output
    assert f"Uvicorn running on http://127.0.0.1:{web.port}" in web.output


def test_no_web_process_lists_what_it_found(lifecycle: Lifecycle) -> None:
    """Two app objects and nothing saying which: the warning names them, and its Procfile
    examples serve one of them."""
    app = lifecycle.app("fastapi_app")
    (app / "main.py").write_text(
        "from fastapi import FastAPI\n\napi = FastAPI()\nadmin = FastAPI()\n", encoding="utf-8"
    )
    result = lifecycle.build(app)
    assert "[Warning: No web process]" in result.output
    assert "main.py: app objects `admin`, `api`, and nothing says which one to serve" in (
        result.output
    )
    assert "web: uvicorn main:admin" in result.output
    assert "web: gunicorn main:admin" in result.output
    assert '"processes": []' in lifecycle.workspace.image_metadata.read_text()


def test_a_main_py_that_only_defines_things_is_not_run(lifecycle: Lifecycle) -> None:
    """``python main.py`` would exit at once: no web process, and the warning says why."""
    app = lifecycle.app("script_only")
    main = app / "main.py"
    main.write_text(main.read_text().split("if __name__")[0])
    result = lifecycle.build(app)
    assert "[Warning: No web process]" in result.output
    assert "a main.py or app.py that runs as a script" in result.output
    assert '"processes": []' in lifecycle.workspace.image_metadata.read_text()


def test_an_app_that_serves_on_import_runs_as_a_script(lifecycle: Lifecycle) -> None:
    """gunicorn would import app.py and so start Flask's own server in its worker."""
    app = lifecycle.app("flask_noprocfile")
    source = app / "app.py"
    source.write_text(
        source.read_text()
        + "\n\nimport os\n"
        + 'app.run(host=os.environ["BIND_HOST"], port=int(os.environ["PORT"]))\n'
    )
    result = lifecycle.build(app)
    assert "No Procfile: web runs 'python app.py'" in result.output
    assert "because of app.py, a script: importing it starts its own server" in result.output
    assert "Installed gunicorn==" not in result.output
    web = lifecycle.start()
    status, text = web.wait_for_http("/")
    assert status == 200 and "Hello from Flask without a Procfile" in text, web.output


def test_a_streamlit_dashboard_serves_on_port(lifecycle: Lifecycle) -> None:
    """A Streamlit script (no Procfile) runs as `streamlit run`, and listens where the
    platform says: the launch env's STREAMLIT_SERVER_PORT/ADDRESS come from PORT and
    BIND_HOST (a `python streamlit_app.py` would never listen at all)."""
    result = lifecycle.build(lifecycle.app("streamlit_app"))
    assert "No Procfile: web runs 'streamlit run streamlit_app.py'" in result.output
    [web] = json.loads(lifecycle.workspace.image_metadata.read_text())["processes"]
    assert (web["command"], web["args"]) == (["streamlit", "run"], ["streamlit_app.py"])
    running = lifecycle.start()
    assert running.wait_for_http("/_stcore/health", timeout=120) == (200, "ok"), running.output
    status, page = running.get("/")
    assert status == 200 and "<title>Streamlit</title>" in page, running.output
    assert f"URL: http://127.0.0.1:{running.port}" in running.output
