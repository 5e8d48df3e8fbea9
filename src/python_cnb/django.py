"""Django static files: ``manage.py collectstatic``, dry run first, as Kato does it.

It runs when Django is installed in the app's venv, a ``manage.py`` exists (in the app root
or one level down) and ``django.contrib.staticfiles`` is enabled (the dry run does not
answer "Unknown command"). The dry run must succeed before the real run; any failure shows
Django's own message and fails the build. ``BUILD_DISABLE_COLLECTSTATIC``
(Kato) or ``DISABLE_COLLECTSTATIC`` (Heroku) skips it. Neither run prints a line per file:
the real run's summary (``12 static files copied to '…'.``) and Django's warnings are shown.

When neither ``manage.py`` nor the build's environment names the settings module
(``DJANGO_SETTINGS_MODULE``), Django says "No Django settings specified." and then knows no
collectstatic command; that is not a project without staticfiles, so python-cnb skips with a
warning that says how to name the settings (the app may name them only at launch, so the
build goes on, as it did).

What the run wrote into the app directory is kept in the ``staticfiles`` cache layer and
written back, without starting Django, while nothing it depends on changed
(:func:`static_files_key`): the app's files (the settings, ``STATICFILES_DIRS`` and the
apps' ``static/`` directories are among them), the installed packages (their ``RECORD``
files list every file with its hash), the build's whole environment (a settings module
may read any variable), the interpreter, Django, python-cnb and the target. A run whose
result Django does not report inside the app directory (a storage that uploads elsewhere)
is never skipped.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Mapping, Optional

from python_cnb import notices, output
from python_cnb.buildpack_error import BuildpackError
from python_cnb.cnb.context import BuildContext
from python_cnb.installed import Distribution, snapshot
from python_cnb.layers.python import InstalledPython
from python_cnb.layers.staticfiles import (
    LAYOUT,
    StaticFilesMetadata,
    StaticResult,
    Tree,
    cacheable,
    discard_static_files,
    prepare_static_files,
    restore_static_files,
    save_static_files,
    snapshot_tree,
)
from python_cnb.support.commands import CommandFailed, run_quiet, tail
from python_cnb.support.digests import file_sha256

NO_SETTINGS = "No Django settings specified."
"""What ``manage.py`` prints when ``DJANGO_SETTINGS_MODULE`` is not set (Django 1.8 to 5.x)."""
DRY_RUN = ("collectstatic", "--dry-run", "--noinput")
REAL_RUN = ("collectstatic", "--noinput")
PER_FILE = (
    "Copying '",
    "Linking '",
    "Pretending to ",
    "Deleting '",
    "Skipping '",
    "Post-processed '",
    "Skipped post-processing '",
)
"""collectstatic's lines about one file each (verbosity 1 and 2): never printed."""
DUPLICATE = "Found another file with the destination path '"
SUMMARY = re.compile(
    r"static files? (?:copied|symlinked) to '(?P<destination>.+)'"
    r"(?:, \d+ unmodified)?(?:, \d+ post-processed)?\.$"
)
"""The last line of a run: ``12 static files copied to '/workspace/staticfiles'.`` (Django
names the directory only for a storage of local files)."""
UNKEYED_ENV = ("HOSTNAME", "CNB_BP_PLAN_PATH", "BUILD_NO_CACHE")
"""Variables that differ from one build to the next whatever the app (a container's
hostname, the lifecycle's temporary plan file) or only ask for a clean build."""


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
    ran_in = in_directory(relative_directory(directory, app_dir))
    output.warning(*notices.no_django_settings(str(relative), ran_in, tail(said, 10), example))


def _unknown_command(said: str) -> bool:
    """Whether Django said it has no collectstatic command (staticfiles is not installed)."""
    return "Unknown command: 'collectstatic'" in said or "Unknown command: collectstatic" in said


# --- reusing the result -------------------------------------------------------------------------


def packages_digest(venv: Path, site_packages: Path) -> str:
    """What the venv holds, from each distribution's ``RECORD`` (every file it installed,
    with its SHA-256): reading those is what makes this cheap. The files at the top of
    site-packages (``.pth`` files) and ``pyvenv.cfg`` are hashed themselves. A distribution
    without a ``RECORD`` makes the whole of site-packages hashed instead."""
    digest = hashlib.sha256()
    config = venv / "pyvenv.cfg"
    digest.update(config.read_bytes() if config.is_file() else b"")
    unrecorded = False
    for entry in sorted(os.scandir(site_packages), key=lambda e: e.name):
        digest.update(os.fsencode(entry.name) + b"\0")
        if entry.name.endswith(".dist-info") and entry.is_dir(follow_symlinks=False):
            record = Path(entry.path, "RECORD")
            if record.is_file():
                digest.update(record.read_bytes())
            else:
                unrecorded = True
        elif entry.is_file(follow_symlinks=False):
            digest.update(file_sha256(entry.path).encode())
        digest.update(b"\n")
    if unrecorded:
        digest.update(snapshot_tree(site_packages).digest().encode())
        return "tree:" + digest.hexdigest()
    return digest.hexdigest()


def environment_digest(
    env: Mapping[str, str], secrets: Collection[str]
) -> tuple[str, tuple[str, ...]]:
    """One digest of the build environment collectstatic gets, and the variables' names.

    A settings module can read any variable, so all of them count, except those that differ
    at every build (:data:`UNKEYED_ENV`). The variables python-cnb sets for build secrets
    (``secrets``: paths to credentials and certificates it writes for the tools) count by
    name only."""
    names = tuple(sorted(name for name in env if name not in UNKEYED_ENV))
    digest = hashlib.sha256()
    for name in names:
        value = "(python-cnb's build secret)" if name in secrets else env[name]
        digest.update(f"{name}={value}".encode("utf-8", "surrogateescape") + b"\0")
    return digest.hexdigest(), names


def static_files_key(
    ctx: BuildContext,
    python: InstalledPython,
    manage_py: Path,
    django: Distribution,
    installed: Mapping[str, Distribution],
    venv: Path,
    site_packages: Path,
    env: Mapping[str, str],
    secrets: Collection[str],
    sources: Tree,
) -> StaticFilesMetadata:
    """Everything collectstatic's result depends on (see the module's docstring)."""
    environment, names = environment_digest(env, secrets)
    return StaticFilesMetadata(
        layout=LAYOUT,
        buildpack_version=ctx.buildpack.version,
        python_version=str(python.version),
        python_checksum=python.distribution.sha256,
        os=ctx.target.os,
        arch=ctx.target.arch,
        distro_name=ctx.target.distro_name,
        distro_version=ctx.target.distro_version,
        django_version=django.version,
        manage_py=str(manage_py.relative_to(ctx.app_dir)),
        sources=sources.digest(),
        packages=packages_digest(venv, site_packages),
        distributions=tuple(f"{d.name}=={d.version}" for _, d in sorted(installed.items())),
        environment=environment,
        environment_names=names,
    )


def collect_static_files(
    ctx: BuildContext,
    python: InstalledPython,
    venv: Path,
    site_packages: Path,
    env: Mapping[str, str],
    *,
    secrets: Collection[str] = (),
    keep_cache: bool = True,
    opt_out: Optional[str] = None,
) -> bool:
    """Run collectstatic if it applies, or write back its cached result; return whether
    the app has collected static files (``opt_out``: ``Settings.collectstatic_opt_out``)."""
    installed = snapshot(site_packages)
    django = installed.get("django")
    if django is None:
        return False
    if opt_out is not None:
        output.info(f"Skipping collectstatic: {opt_out} is set")
        return False
    manage_py = find_manage_py(ctx.app_dir)
    if manage_py is None:
        output.info(
            "Skipping collectstatic: Django is installed, but no manage.py is in the app root"
            " or one level down"
        )
        return False
    sources = snapshot_tree(ctx.app_dir)
    key = static_files_key(
        ctx, python, manage_py, django, installed, venv, site_packages, env, secrets, sources
    )
    cached = prepare_static_files(ctx, key, sources, keep_cache=keep_cache)
    if cached.result is not None:
        restore_static_files(cached, ctx.app_dir)
        output.info("Using cached static files (nothing they depend on changed)")
        return True
    said = run_collectstatic(manage_py, ctx.app_dir, venv, env)
    if said is None:
        discard_static_files(cached)
        return False
    result = StaticResult.between(sources, snapshot_tree(ctx.app_dir, previous=sources))
    why_not = _not_reusable(said, result, ctx.app_dir)
    if why_not is None:
        save_static_files(cached, ctx.app_dir, sources, result)
    else:
        discard_static_files(cached)
        output.info(f"Static files will be collected again at the next build: {why_not}")
    return True


def _not_reusable(said: str, result: StaticResult, app_dir: Path) -> Optional[str]:
    """Why this run's result cannot stand for the next one (None: it can)."""
    summary = next((m for m in map(SUMMARY.search, reversed(said.splitlines())) if m), None)
    if summary is None:
        return "Django named no directory it collected them into (a storage that is not local?)"
    destination = os.path.realpath(summary["destination"])
    root = os.path.realpath(app_dir)
    if os.path.commonpath([destination, root]) != root:
        return f"they were collected into {destination}, outside the app directory"
    if not cacheable(result):
        return "the run changed nothing python-cnb can copy in the app directory"
    return None


# --- running it ---------------------------------------------------------------------------------


def _show_run(said: str) -> None:
    """The run's output without a line per file: Django's warnings and its summary."""
    duplicates = 0
    for line in said.splitlines():
        if line.startswith(DUPLICATE):
            duplicates += 1
        elif line.strip() and not line.startswith(PER_FILE):
            output.subprocess_line(line)
    if duplicates:
        output.subprocess_line(
            f"({duplicates} files have the destination path of a file found earlier:"
            " only the first is collected)"
        )


def run_collectstatic(
    manage_py: Path, app_dir: Path, venv: Path, env: Mapping[str, str]
) -> Optional[str]:
    """The dry run, then the real run; return the real run's output, or None when skipped
    (staticfiles not enabled, no settings module: logged)."""
    directory = manage_py.parent
    python = str(venv / "bin" / "python")
    run_env = {
        **env,
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
        # the app's bytecode is compiled later, reproducibly; imports must not leave any
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    relative = relative_directory(directory, app_dir)
    dry_run = "manage.py " + " ".join(DRY_RUN)
    try:  # the dry run also tells whether the project has staticfiles at all
        run_quiet([python, "manage.py", *DRY_RUN], cwd=directory, env=run_env, display=dry_run)
    except CommandFailed as error:
        if NO_SETTINGS in error.output:
            warn_no_settings(manage_py, app_dir, error.output)
            return None
        if _unknown_command(error.output):
            output.info(
                "Skipping collectstatic: django.contrib.staticfiles is not in INSTALLED_APPS"
            )
            return None
        raise CollectstaticFailed(dry_run, relative, error.output) from None
    real = "manage.py " + " ".join(REAL_RUN)
    output.info(f"Running '{real}'")
    try:
        said = run_quiet([python, "manage.py", *REAL_RUN], cwd=directory, env=run_env, display=real)
    except CommandFailed as error:
        raise CollectstaticFailed(real, relative, error.output) from None
    _show_run(said)
    return said
