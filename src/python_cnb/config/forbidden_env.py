"""Environment variables that would redirect the install, refused before anything is installed.

Each would make pip, uv or Poetry install somewhere else, use another Python, or skip the
caches the buildpack manages; the build fails listing every one that is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from python_cnb.buildpack_error import BuildpackError

FORBIDDEN: dict[str, str] = {
    "PIP_CACHE_DIR": "the buildpack keeps pip's cache in a layer",
    "PIP_PREFIX": "pip would install outside the app's virtualenv",
    "PIP_PYTHON": "pip would install for another Python",
    "PIP_ROOT": "pip would install outside the app's virtualenv",
    "PIP_TARGET": "pip would install outside the app's virtualenv",
    "PIP_USER": "pip would install into a user site outside the app's virtualenv",
    "POETRY_CACHE_DIR": "the buildpack keeps Poetry's cache in a layer",
    "POETRY_DATA_DIR": "Poetry would keep state outside the build's layers",
    "POETRY_HOME": "Poetry is installed by the buildpack",
    "POETRY_VIRTUALENVS_CREATE": "Poetry must use the buildpack's virtualenv",
    "POETRY_VIRTUALENVS_IN_PROJECT": "Poetry must use the buildpack's virtualenv",
    "POETRY_VIRTUALENVS_PATH": "Poetry must use the buildpack's virtualenv",
    "POETRY_VIRTUALENVS_USE_POETRY_PYTHON": "Poetry must use the buildpack's Python",
    "PYTHONHOME": "Python would load its standard library from elsewhere",
    "PYTHONINSPECT": "Python would wait for input after every command",
    "PYTHONNOUSERSITE": "the buildpack manages site directories",
    "PYTHONPLATLIBDIR": "Python would look for modules in the wrong directory",
    "PYTHONUSERBASE": "packages would be installed into a user base outside the virtualenv",
    "UV_CACHE_DIR": "the buildpack keeps uv's cache in a layer",
    "UV_MANAGED_PYTHON": "uv must use the buildpack's Python, not download its own",
    "UV_NO_CACHE": "the buildpack manages uv's cache",
    "UV_PROJECT": "uv must install the app in the app directory",
    "UV_PROJECT_ENVIRONMENT": "uv must install into the buildpack's virtualenv",
    "UV_PYTHON": "uv must use the buildpack's Python",
    "UV_PYTHON_DOWNLOADS": "uv must never download a Python",
    "UV_PYTHON_INSTALL_DIR": "uv must never install a Python",
    "UV_PYTHON_PREFERENCE": "uv must use the buildpack's Python",
    "UV_SYSTEM_PYTHON": "uv must install into the app's virtualenv",
    "UV_TOOL_DIR": "uv tools are installed by the buildpack",
    "VIRTUAL_ENV": "the buildpack creates the app's virtualenv",
}
"""Forbidden variables and why each one is."""


@dataclass(eq=False)
class ForbiddenEnvironment(BuildpackError):
    """Variables from :data:`FORBIDDEN` that are set for the build."""

    variables: tuple[tuple[str, str], ...]
    """``(name, value)`` of each, in name order."""


def check_forbidden_env(env: Mapping[str, str]) -> None:
    """Raise :class:`ForbiddenEnvironment` listing every forbidden variable that is set."""
    found = tuple(sorted((name, env[name]) for name in FORBIDDEN if name in env))
    if found:
        raise ForbiddenEnvironment(found)
