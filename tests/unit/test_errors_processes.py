"""The error blocks of the process and static-files steps: collectstatic and a missing server."""

from __future__ import annotations

import pytest

from python_cnb.dependencies.install import ServerNotInstalled
from python_cnb.django import CollectstaticFailed
from python_cnb.errors import describe

FIXES = (
    "How to fix it:\n"
    "  1. Run the same command locally to see the whole error; the settings module it loads "
    "is usually the cause (a missing STATIC_ROOT, an environment variable the settings need at "
    "build time).\n"
    "  2. If the app collects static files itself, set BUILD_DISABLE_COLLECTSTATIC=1 "
    "(or DISABLE_COLLECTSTATIC=1)."
)


def test_collectstatic_failed() -> None:
    title, body = describe(
        CollectstaticFailed(
            "manage.py collectstatic --dry-run --noinput",
            "backend",
            "Traceback (most recent call last):\n"
            '  File "manage.py", line 22, in <module>\n'
            "django.core.exceptions.ImproperlyConfigured: You're using the staticfiles app "
            "without having set the STATIC_ROOT setting to a filesystem path.",
        )
    )
    assert title == "Django's collectstatic failed"
    assert body == (
        "`python manage.py collectstatic --dry-run --noinput` (in backend) failed. Django said:\n"
        "    Traceback (most recent call last):\n"
        '      File "manage.py", line 22, in <module>\n'
        "    django.core.exceptions.ImproperlyConfigured: You're using the staticfiles app "
        "without having set the STATIC_ROOT setting to a filesystem path.\n\n"
        "Static files would be missing from the image, so the build stops here.\n\n" + FIXES
    )


def test_collectstatic_failed_shows_the_last_20_lines() -> None:
    lines = [f"line {number}" for number in range(1, 31)]
    _, body = describe(CollectstaticFailed("manage.py help collectstatic", ".", "\n".join(lines)))
    assert body.startswith(
        "`python manage.py help collectstatic` (in the app root) failed. Django said:\n"
        "    line 11\n"
    )
    assert "    line 30\n\n" in body
    assert "line 10\n" not in body


def test_collectstatic_failed_without_output() -> None:
    _, body = describe(CollectstaticFailed("manage.py collectstatic --noinput", ".", "\n  \n"))
    assert body == (
        "`python manage.py collectstatic --noinput` (in the app root) failed without any "
        "output.\n\n"
        "Static files would be missing from the image, so the build stops here.\n\n" + FIXES
    )


@pytest.mark.parametrize("server", ["gunicorn", "uvicorn"])
def test_server_not_installed(server: str) -> None:
    title, body = describe(ServerNotInstalled(server, "`app` in main.py (ASGI, fastapi)"))
    assert title == f"The web process needs {server}"
    assert body == (
        f"python-cnb chose a web process that runs {server} (because of `app` in main.py "
        f"(ASGI, fastapi)), but {server} is not among the app's dependencies, and "
        "BP_PYTHON_NO_SERVER_INSTALL=true forbids adding it.\n\n"
        "How to fix it:\n"
        f"  1. Add {server} to the app's dependencies, or\n"
        "  2. unset BP_PYTHON_NO_SERVER_INSTALL, or\n"
        "  3. choose the web process yourself with a Procfile or BP_WEB_COMMAND."
    )
