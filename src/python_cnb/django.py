"""Django static files: ``manage.py collectstatic``, dry run first, as Kato does it.

It runs when Django is installed in the app's venv, a ``manage.py`` exists (in the app root
or one level down) and ``django.contrib.staticfiles`` is enabled (``manage.py help
collectstatic`` knows the command). The dry run must succeed before the real run; any
failure shows Django's own message and fails the build. ``BUILD_DISABLE_COLLECTSTATIC``
(Kato) or ``DISABLE_COLLECTSTATIC`` (Heroku) skips it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from python_cnb import output
from python_cnb.buildpack_error import BuildpackError
from python_cnb.installed import snapshot
from python_cnb.subprocess_runner import CommandFailed, run_quiet, run_streamed

OPT_OUTS = ("BUILD_DISABLE_COLLECTSTATIC", "DISABLE_COLLECTSTATIC")


@dataclass(eq=False)
class CollectstaticFailed(BuildpackError):
    """``manage.py collectstatic`` (or its dry run, or the settings it loads) failed."""

    command: str
    directory: str
    output: str


def find_manage_py(app_dir: Path) -> Optional[Path]:
    """``manage.py`` in the app root, or one level down."""
    if (app_dir / "manage.py").is_file():
        return app_dir / "manage.py"
    found = sorted(p for p in app_dir.glob("*/manage.py") if not p.parent.name.startswith("."))
    return found[0] if found else None


def django_installed(site_packages: Path) -> bool:
    """Whether the venv has Django."""
    return "django" in snapshot(site_packages)


def opted_out(env: Mapping[str, str]) -> Optional[str]:
    """The opt-out setting that is set, if any."""
    for name in OPT_OUTS:
        if env.get(name, "").strip().lower() in ("1", "true", "yes", "on"):
            return name
    return None


def collectstatic(app_dir: Path, venv: Path, site_packages: Path, env: Mapping[str, str]) -> bool:
    """Run collectstatic if it applies; return whether it ran."""
    if not django_installed(site_packages):
        return False
    setting = opted_out(env)
    if setting is not None:
        output.info(f"Skipping collectstatic: {setting} is set")
        return False
    manage_py = find_manage_py(app_dir)
    if manage_py is None:
        output.info(
            "Skipping collectstatic: Django is installed, but no manage.py is in the app root"
            " or one level down"
        )
        return False
    directory = manage_py.parent
    python = str(venv / "bin" / "python")
    run_env = {
        **env,
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
    }
    where = str(directory.relative_to(app_dir)) if directory != app_dir else "."
    try:
        run_quiet([python, "manage.py", "help", "collectstatic"], cwd=directory, env=run_env)
    except CommandFailed as error:
        if "Unknown command" in error.output:
            output.info(
                "Skipping collectstatic: django.contrib.staticfiles is not in INSTALLED_APPS"
            )
            return False
        raise CollectstaticFailed("manage.py help collectstatic", where, error.output) from None
    for args, shown in (
        (
            ["collectstatic", "--dry-run", "--noinput"],
            "manage.py collectstatic --dry-run --noinput",
        ),
        (["collectstatic", "--noinput"], "manage.py collectstatic --noinput"),
    ):
        try:
            run_streamed([python, "manage.py", *args], cwd=directory, env=run_env, display=shown)
        except CommandFailed as error:
            raise CollectstaticFailed(shown, where, error.output) from None
    return True
