"""Variables that would redirect the install are refused, all at once."""

from __future__ import annotations

import pytest

from python_cnb.config.forbidden_env import FORBIDDEN, ForbiddenEnvironment, check_forbidden_env

HARMLESS = {
    "PYTHONPATH": "/workspace/src",
    "PIP_INDEX_URL": "https://pypi.test/simple",
    "PIP_EXTRA_INDEX_URL": "https://extra.test/simple",
    "UV_INDEX_URL": "https://pypi.test/simple",
    "PYTHONUNBUFFERED": "1",
    "POETRY_VERSION": "2.5.1",
    "VIRTUAL_ENV_PROMPT": "app",
    "pip_target": "/lowercase/is/another/variable",
    "PATH": "/usr/bin",
}


def test_the_list() -> None:
    assert sorted(FORBIDDEN) == [
        "PIP_CACHE_DIR",
        "PIP_PREFIX",
        "PIP_PYTHON",
        "PIP_ROOT",
        "PIP_TARGET",
        "PIP_USER",
        "POETRY_CACHE_DIR",
        "POETRY_DATA_DIR",
        "POETRY_HOME",
        "POETRY_VIRTUALENVS_CREATE",
        "POETRY_VIRTUALENVS_IN_PROJECT",
        "POETRY_VIRTUALENVS_PATH",
        "POETRY_VIRTUALENVS_USE_POETRY_PYTHON",
        "PYTHONHOME",
        "PYTHONINSPECT",
        "PYTHONNOUSERSITE",
        "PYTHONPLATLIBDIR",
        "PYTHONUSERBASE",
        "UV_CACHE_DIR",
        "UV_MANAGED_PYTHON",
        "UV_NO_CACHE",
        "UV_PROJECT",
        "UV_PROJECT_ENVIRONMENT",
        "UV_PYTHON",
        "UV_PYTHON_DOWNLOADS",
        "UV_PYTHON_INSTALL_DIR",
        "UV_PYTHON_PREFERENCE",
        "UV_SYSTEM_PYTHON",
        "UV_TOOL_DIR",
        "VIRTUAL_ENV",
    ]
    assert all(reason and not reason.endswith(".") for reason in FORBIDDEN.values())


@pytest.mark.parametrize("name", sorted(FORBIDDEN))
def test_each_is_refused(name: str) -> None:
    with pytest.raises(ForbiddenEnvironment) as caught:
        check_forbidden_env({**HARMLESS, name: "/somewhere"})
    assert caught.value.variables == ((name, "/somewhere"),)


def test_an_empty_value_is_still_set() -> None:
    with pytest.raises(ForbiddenEnvironment) as caught:
        check_forbidden_env({"VIRTUAL_ENV": ""})
    assert caught.value.variables == (("VIRTUAL_ENV", ""),)


def test_every_offender_is_listed_in_name_order() -> None:
    env = {
        "VIRTUAL_ENV": "/venv",
        "PIP_INDEX_URL": "https://pypi.test/simple",
        "UV_PYTHON": "3.12",
        "PIP_TARGET": "/target",
        "POETRY_HOME": "/poetry",
    }
    with pytest.raises(ForbiddenEnvironment) as caught:
        check_forbidden_env(env)
    assert caught.value.variables == (
        ("PIP_TARGET", "/target"),
        ("POETRY_HOME", "/poetry"),
        ("UV_PYTHON", "3.12"),
        ("VIRTUAL_ENV", "/venv"),
    )


def test_all_of_them_at_once() -> None:
    with pytest.raises(ForbiddenEnvironment) as caught:
        check_forbidden_env({name: name.lower() for name in sorted(FORBIDDEN, reverse=True)})
    assert caught.value.variables == tuple((name, name.lower()) for name in sorted(FORBIDDEN))


def test_harmless_variables_pass() -> None:
    check_forbidden_env(HARMLESS)
    check_forbidden_env({})
