"""examples/flask-app end to end: build, serve HTTP, rebuild from cache, change requirements."""

from __future__ import annotations

import json

import pytest

from tests.support.lifecycle import Lifecycle

pytestmark = pytest.mark.integration


def test_builds_and_serves_http(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("flask-app")
    result = lifecycle.build(app)

    assert "Python 3.12 requested by .python-version" in result.output
    assert "Selected Python 3.12.1" in result.output
    assert "Installed CPython 3.12.1" in result.output
    assert " + flask==3.1.3" in result.output and " + gunicorn==27.0.1" in result.output
    assert 'web (default): gunicorn app:app --bind "${BIND_HOST:-0.0.0.0}:$PORT"' in result.output

    web = lifecycle.start()
    status, body = web.wait_for_http("/")
    assert (status, body) == (200, "Hello from python-cnb!\n")
    status, body = web.get("/info")
    info = json.loads(body)
    assert info["python"] == "3.12.1"
    assert info["prefix"] == str(lifecycle.layer("venv"))
    assert f"Listening at: http://127.0.0.1:{web.port}" in web.output


def test_layers_and_launch_env(lifecycle: Lifecycle) -> None:
    lifecycle.build(lifecycle.app("flask-app"))

    assert lifecycle.image_layer("python")["types"] == {
        "build": True,
        "launch": True,
        "cache": True,
    }
    assert lifecycle.image_layer("venv")["types"] == {"build": True, "launch": True, "cache": True}
    assert lifecycle.image_layer("runtime")["types"] == {
        "build": False,
        "launch": True,
        "cache": False,
    }
    assert lifecycle.cache_layer("uv")["types"] == {"build": True, "launch": False, "cache": True}
    assert lifecycle.cache_layer("uv-cache")["types"] == {
        "build": False,
        "launch": False,
        "cache": True,
    }
    # Build-only and cache-only layers never reach the image.
    layers = sorted(p.name for p in lifecycle.layer("python").parent.iterdir())
    assert layers == ["python", "runtime", "venv"]
    # No pip, setuptools or pip scripts in the launch image.
    site = lifecycle.layer("python") / "lib" / "python3.12" / "site-packages"
    assert not list(site.glob("pip*")) and not list(
        (lifecycle.layer("python") / "bin").glob("pip*")
    )
    assert not list((lifecycle.layer("venv") / "bin").glob("pip*"))
    # Env files are written verbatim, without a trailing newline.
    venv_env = lifecycle.layer("venv") / "env" / "VIRTUAL_ENV.override"
    assert venv_env.read_bytes() == str(lifecycle.layer("venv")).encode()
    assert (lifecycle.layer("runtime") / "env.launch" / "PORT.default").read_bytes() == b"8080"

    # A direct command gets the layers' env and, as the launcher runs exec.d for every
    # process, the launch-time defaults; nothing else.
    env = lifecycle.exec(["env"]).stdout.splitlines()
    assert sorted(line.split("=", 1)[0] for line in env) == [
        "GRADIO_SERVER_NAME",
        "GRADIO_SERVER_PORT",
        "HOME",
        "LD_LIBRARY_PATH",
        "PATH",
        "PORT",
        "PYTHONUNBUFFERED",
        "STREAMLIT_SERVER_ADDRESS",
        "STREAMLIT_SERVER_HEADLESS",
        "STREAMLIT_SERVER_PORT",
        "UVICORN_HOST",
        "UVICORN_PORT",
        "VIRTUAL_ENV",
        "WEB_CONCURRENCY",
        "WEB_CONCURRENCY_SET_BY",
    ]
    assert f"PATH={lifecycle.layer('venv')}/bin:{lifecycle.layer('python')}/bin:" in "\n".join(env)
    assert "PORT=8080" in env and "PYTHONUNBUFFERED=1" in env


def test_bytecode_is_compiled_unchecked_hash(lifecycle: Lifecycle) -> None:
    lifecycle.build(lifecycle.app("flask-app"))
    code = (
        "import importlib.util, pathlib, flask, json\n"
        "pyc = pathlib.Path(importlib.util.cache_from_source(flask.__file__))\n"
        "flags = int.from_bytes(pyc.read_bytes()[4:8], 'little')\n"
        "print(json.dumps({'exists': pyc.exists(), 'flags': flags}))\n"
    )
    result = json.loads(lifecycle.exec(["python", "-c", code]).stdout)
    # PEP 552: flags 0b01 = hash-based, 0b10 = check_source; unchecked-hash is exactly 1.
    assert result == {"exists": True, "flags": 1}
    stdlib_pyc = list(
        (lifecycle.layer("python") / "lib" / "python3.12" / "__pycache__").glob("os.*.pyc")
    )
    assert stdlib_pyc and int.from_bytes(stdlib_pyc[0].read_bytes()[4:8], "little") == 1


def test_rebuild_reuses_both_layers(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("flask-app")
    lifecycle.build(app)
    python_sha = lifecycle.image_layer("python")["sha"]
    venv_sha = lifecycle.image_layer("venv")["sha"]
    marker = (
        lifecycle.layer("venv") / "lib" / "python3.12" / "site-packages" / "flask" / "__init__.py"
    )
    inode = marker.stat().st_ino

    result = lifecycle.build(app)

    assert "Using cached Python 3.12.1" in result.output
    assert "Using cached virtualenv" in result.output
    assert "Downloading CPython" not in result.output
    assert "pip install" not in result.output
    assert lifecycle.image_layer("python")["sha"] == python_sha
    assert lifecycle.image_layer("venv")["sha"] == venv_sha
    # The restored layer is the cache's copy, not a re-installation.
    assert marker.is_file() and marker.stat().st_ino != inode

    web = lifecycle.start()
    assert web.wait_for_http("/")[0] == 200


def test_requirements_change_updates_the_venv(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("flask-app")
    lifecycle.build(app)
    (app / "requirements.txt").write_text("Flask==3.1.3\ngunicorn==27.0.1\nsix==1.17.0\n")

    result = lifecycle.build(app)

    assert "Using cached Python 3.12.1" in result.output
    updating = (
        "Updating cached virtualenv since:\n  - The dependency files changed (requirements.txt)"
    )
    assert updating in result.output
    assert "Added: six 1.17.0" in result.output
    assert (
        lifecycle.exec(["python", "-c", "import six; print(six.__version__)"]).stdout == "1.17.0\n"
    )
    assert lifecycle.start().wait_for_http("/")[0] == 200


def test_nested_requirement_file_change_updates_the_venv(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("pip_nested_requirements")
    first = lifecycle.build(app)
    assert (
        "Dependencies from requirements.txt, requirements/base.txt, requirements/constraints.txt"
        in first.output
    )
    again = lifecycle.build(app)
    assert "Using cached virtualenv (dependencies unchanged)" in again.output

    (app / "requirements" / "base.txt").write_text("six\nFlask==3.1.3\n")
    changed = lifecycle.build(app)

    assert "Updating cached virtualenv since:" in changed.output
    assert lifecycle.exec(["python", "-c", "import flask, six; print('ok')"]).stdout == "ok\n"


def test_kato_index_setting(lifecycle: Lifecycle, package_index: str) -> None:
    result = lifecycle.build(
        lifecycle.app("flask-app"), {"BUILD_PIP_INDEX_URL": package_index}, unset=["PIP_INDEX_URL"]
    )
    # PIP_INDEX_URL is unset: only BUILD_PIP_INDEX_URL leads to the index these packages are on.
    assert f"Package index: {package_index} (from BUILD_PIP_INDEX_URL)" in result.output
    assert " + flask==3.1.3" in result.output
