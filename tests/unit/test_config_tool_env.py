"""The environment the build's tools run with."""

from __future__ import annotations

from python_cnb.config.tool_env import tool_env


def test_passes_the_environment_and_pythonpath_through_without_python_redirects() -> None:
    base = {
        "PATH": "/usr/bin",
        "HOME": "/home/cnb",
        "PIP_INDEX_URL": "https://pypi.test/simple",
        "DJANGO_SETTINGS_MODULE": "app.settings",
        "PYTHONHOME": "/elsewhere",
        "PYTHONPATH": "/elsewhere/lib",
        "PYTHONSTARTUP": "/elsewhere/startup.py",
        "PYTHONEXECUTABLE": "/elsewhere/bin/python",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    assert tool_env(base) == {
        "PATH": "/usr/bin",
        "HOME": "/home/cnb",
        "PIP_INDEX_URL": "https://pypi.test/simple",
        "DJANGO_SETTINGS_MODULE": "app.settings",
        "PYTHONPATH": "/elsewhere/lib",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def test_overrides_win_and_base_is_not_modified() -> None:
    base = {"PATH": "/usr/bin", "PIP_NO_INPUT": "0"}
    env = tool_env(base, PIP_NO_INPUT="1", PIP_CACHE_DIR="/layers/pip-cache")
    assert env == {"PATH": "/usr/bin", "PIP_NO_INPUT": "1", "PIP_CACHE_DIR": "/layers/pip-cache"}
    assert base == {"PATH": "/usr/bin", "PIP_NO_INPUT": "0"}


def test_overrides_may_set_removed_names() -> None:
    assert tool_env({"PYTHONPATH": "/x"}, PYTHONPATH="/layers/venv/lib") == {
        "PYTHONPATH": "/layers/venv/lib"
    }


def test_empty() -> None:
    assert tool_env({}) == {}
