"""Django static files: ``manage.py collectstatic``, dry run first, as Kato does it.

It runs when Django is installed in the app's venv, a ``manage.py`` exists (in the app root
or one level down) and ``django.contrib.staticfiles`` is enabled (the dry run does not
answer "Unknown command"). The dry run must succeed before the real run; any failure shows
Django's own message and fails the build. ``BUILD_DISABLE_COLLECTSTATIC``
(Kato) or ``DISABLE_COLLECTSTATIC`` (Heroku) skips it.

When neither ``manage.py`` nor the build's environment names the settings module
(``DJANGO_SETTINGS_MODULE``), Django says "No Django settings specified." and then knows no
collectstatic command; that is not a project without staticfiles, so python-cnb skips with a
warning that says how to name the settings (the app may name them only at launch, so the
build goes on, as it did).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from python_cnb import output
from python_cnb.buildpack_error import BuildpackError
from python_cnb.installed import snapshot
from python_cnb.subprocess_runner import CommandFailed, run_quiet, run_streamed, tail

OPT_OUTS = ("BUILD_DISABLE_COLLECTSTATIC", "DISABLE_COLLECTSTATIC")
NO_SETTINGS = "No Django settings specified."
"""What ``manage.py`` prints when ``DJANGO_SETTINGS_MODULE`` is not set (Django 1.8 to 5.x)."""


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


def relative_directory(directory: Path, app_dir: Path) -> str:
    """The directory of ``manage.py`` relative to the app root (``.`` for the root)."""
    return str(directory.relative_to(app_dir)) if directory != app_dir else "."


def in_directory(relative: str) -> str:
    """``in the app root`` or ``in backend``, for messages."""
    return "in the app root" if relative in ("", ".") else f"in {relative}"


def settings_candidates(directory: Path) -> list[str]:
    """Settings modules next to ``manage.py`` (``mysite.settings``), for the warning."""
    packages = {
        path.relative_to(directory).parts[0]
        for pattern in ("*/settings.py", "*/settings/__init__.py")
        for path in directory.glob(pattern)
    }
    return sorted(f"{package}.settings" for package in packages if not package.startswith("."))


def warn_no_settings(manage_py: Path, app_dir: Path, said: str) -> None:
    """collectstatic skipped: nothing names the settings module."""
    directory = manage_py.parent
    relative = manage_py.relative_to(app_dir)
    candidates = settings_candidates(directory)
    example = candidates[0] if len(candidates) == 1 else "mysite.settings"
    found = "\n".join(f"    | {line}" for line in tail(said, 10).splitlines())
    ran_in = in_directory(relative_directory(directory, app_dir))
    output.warning(
        "Static files were not collected: no Django settings module",
        f"`python manage.py collectstatic --dry-run --noinput` ({ran_in}) said:\n{found}\n\n"
        f"{relative} does not set DJANGO_SETTINGS_MODULE, and neither does the build's "
        "environment, so Django cannot load the settings, and python-cnb cannot tell whether "
        "django.contrib.staticfiles is enabled. If it is, the image has no static files.\n\n"
        "How to fix it:\n"
        f"  1. Name the settings in {relative}, as `django-admin startproject` does:\n"
        f'       os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{example}")\n'
        f"  2. Or set DJANGO_SETTINGS_MODULE={example} in the build's environment\n"
        "     (pack build --env, project.toml, the platform's build settings).\n"
        "  3. If the app has no static files, set BUILD_DISABLE_COLLECTSTATIC=1\n"
        "     (or DISABLE_COLLECTSTATIC=1) to skip this step.",
    )


def opted_out(env: Mapping[str, str]) -> Optional[str]:
    """The opt-out setting that is set, if any."""
    for name in OPT_OUTS:
        if env.get(name, "").strip().lower() in ("1", "true", "yes", "on"):
            return name
    return None


def _unknown_command(said: str) -> bool:
    """Whether Django said it has no collectstatic command (staticfiles is not installed)."""
    return "Unknown command: 'collectstatic'" in said or "Unknown command: collectstatic" in said


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
    relative = relative_directory(directory, app_dir)
    dry_run = "manage.py collectstatic --dry-run --noinput"
    try:  # the dry run also tells whether the project has staticfiles at all
        said = run_quiet(
            [python, "manage.py", "collectstatic", "--dry-run", "--noinput"],
            cwd=directory,
            env=run_env,
            display=dry_run,
        )
    except CommandFailed as error:
        if NO_SETTINGS in error.output:
            warn_no_settings(manage_py, app_dir, error.output)
            return False
        if _unknown_command(error.output):
            output.info(
                "Skipping collectstatic: django.contrib.staticfiles is not in INSTALLED_APPS"
            )
            return False
        raise CollectstaticFailed(dry_run, relative, error.output) from None
    output.info(f"Running '{dry_run}'")
    for line in said.splitlines():
        output.subprocess_line(line)
    real = "manage.py collectstatic --noinput"
    try:
        run_streamed(
            [python, "manage.py", "collectstatic", "--noinput"],
            cwd=directory,
            env=run_env,
            display=real,
        )
    except CommandFailed as error:
        raise CollectstaticFailed(real, relative, error.output) from None
    return True
