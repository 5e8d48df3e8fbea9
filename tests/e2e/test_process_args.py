"""One-off commands in the built app image: the user's command runs, not the web server.

examples/flask-app's web process is a Procfile line (``bash -c`` with the command line as
its args), so ``docker run IMAGE "CMD"`` replaces it; ``--entrypoint launcher`` runs a
command through bash (``.profile`` sourced) or, after ``--``, directly."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pytest

from tests.support.containers import E2E, AppContainer
from tests.support.lifecycle import REPO

pytestmark = pytest.mark.e2e

PROBE = "import flask, sys; print('one-off', flask.__name__, sys.argv[1:])"
"""Imports the app's dependencies: the launch env (venv on PATH) is the web process's."""


def run_to_completion(e2e: E2E, args: Sequence[str], *, launcher: bool = False) -> str:
    """``docker run [--entrypoint launcher] IMAGE ARGS...``; its output, once it exited 0."""
    container = AppContainer(
        e2e.images["run"],
        e2e.workspace.root,
        REPO,
        {"PORT": "8080", "BIND_HOST": "127.0.0.1"},
        "3.12",
        args=args,
        launcher=launcher,
    )
    e2e.apps.append(container)
    status = container.wait()
    logs = container.logs()
    assert status == 0, logs
    assert "Listening at" not in logs and "Starting gunicorn" not in logs, logs
    return logs


def test_a_user_command_replaces_the_web_server(e2e: E2E, packaged: Path) -> None:
    app = e2e.app("flask-app")
    (app / ".profile").write_text('export ONE_OFF_GREETING="from .profile"\n')
    e2e.build(app, packaged)

    # docker run IMAGE "python manage.py migrate"-style: one command line
    line = run_to_completion(e2e, [f'python -c "{PROBE}" migrate'])
    assert line == "one-off flask ['migrate']\n"

    # docker run --entrypoint launcher IMAGE python -c ...: through bash, .profile sourced
    words = ["python", "-c", "import os; print(os.environ['ONE_OFF_GREETING'])"]
    assert run_to_completion(e2e, words, launcher=True) == "from .profile\n"

    # docker run --entrypoint launcher IMAGE -- python -c ...: direct, no .profile
    direct = ["--", "python", "-c", "import os; print(os.environ.get('ONE_OFF_GREETING'))"]
    assert run_to_completion(e2e, direct, launcher=True) == "None\n"
