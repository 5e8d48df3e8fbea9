"""Django static files: finding manage.py, opting out, collectstatic's control flow, and
what its cached result depends on."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Mapping, cast

import pytest

from python_cnb.cnb import toml_file
from python_cnb.config.settings import Settings
from python_cnb.django import (
    CollectstaticFailed,
    collect_static_files,
    django_installed,
    environment_digest,
    find_manage_py,
    in_directory,
    packages_digest,
    settings_candidates,
    static_files_key,
)
from python_cnb.installed import snapshot
from python_cnb.layers.staticfiles import (
    StaticFilesMetadata,
    StaticResult,
    Tree,
    snapshot_tree,
)
from python_cnb.python.version import PythonVersion
from tests.support.contexts import build_context, installed_python

DRY_RUN = ["manage.py", "collectstatic", "--dry-run", "--noinput"]
REAL_RUN = ["manage.py", "collectstatic", "--noinput"]


def touch(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- manage.py ----------------------------------------------------------------------------------


def test_manage_py_in_the_root_wins(tmp_path: Path) -> None:
    nested = touch(tmp_path / "aaa" / "manage.py")
    assert find_manage_py(tmp_path) == nested
    manage_py = touch(tmp_path / "manage.py")
    assert find_manage_py(tmp_path) == manage_py


def test_manage_py_one_level_down(tmp_path: Path) -> None:
    first = touch(tmp_path / "backend" / "manage.py")
    touch(tmp_path / "site" / "manage.py")
    assert find_manage_py(tmp_path) == first


def test_manage_py_in_hidden_directories_is_ignored(tmp_path: Path) -> None:
    touch(tmp_path / ".venv" / "manage.py")
    assert find_manage_py(tmp_path) is None
    found = touch(tmp_path / "zzz" / "manage.py")
    assert find_manage_py(tmp_path) == found


def test_manage_py_in_a_hidden_app_directory(tmp_path: Path) -> None:
    manage_py = touch(tmp_path / ".app" / "manage.py")
    assert find_manage_py(tmp_path / ".app") == manage_py


@pytest.mark.parametrize(
    "layout",
    [(), ("src/backend/manage.py",), ("manage.py/",), ("app.py",)],
)
def test_no_manage_py(tmp_path: Path, layout: tuple[str, ...]) -> None:
    for relative in layout:
        if relative.endswith("/"):
            (tmp_path / relative).mkdir(parents=True)
        else:
            touch(tmp_path / relative)
    assert find_manage_py(tmp_path) is None


# --- installed ----------------------------------------------------------------------------------


def dist_info(site_packages: Path, name: str, version: str = "1.0") -> None:
    touch(
        site_packages / f"{name}-{version}.dist-info" / "METADATA",
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    )


def test_django_installed(tmp_path: Path) -> None:
    site_packages = tmp_path / "site-packages"
    assert django_installed(site_packages) is False
    dist_info(site_packages, "djangorestframework")
    assert django_installed(site_packages) is False
    dist_info(site_packages, "Django", "5.1.4")
    assert django_installed(site_packages) is True


# --- collectstatic, with a fake venv interpreter ------------------------------------------------

FAKE_PYTHON = """\
#!{python}
import json
import os
import shutil
import sys

args = sys.argv[1:]
with open({log!r}, "a", encoding="utf-8") as log:
    log.write(json.dumps({{
        "args": args,
        "cwd": os.getcwd(),
        "VIRTUAL_ENV": os.environ.get("VIRTUAL_ENV"),
        "PATH": os.environ.get("PATH"),
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE"),
    }}) + "\\n")
answers = {answers!r}
command = " ".join(args[1:3])
output, code = answers.get(command, ("", 0))
if command == "collectstatic --noinput" and {collect!r} and os.path.isdir("static"):
    # what a storage of local files does: STATIC_ROOT = <manage.py's directory>/staticfiles
    shutil.copytree("static", "staticfiles", dirs_exist_ok=True)
    root = os.path.join(os.getcwd(), "staticfiles")
    count = sum(len(files) for _, _, files in os.walk(root))
    output += "\\n%d static files copied to '%s'.\\n" % (count, root)
sys.stdout.write(output)
sys.exit(code)
"""


class FakeVenv:
    """A venv whose ``bin/python`` logs every call and answers from a table; its real run
    of collectstatic copies ``static/`` to ``staticfiles/`` (unless ``collect`` is false)."""

    def __init__(
        self, root: Path, answers: dict[str, tuple[str, int]], *, collect: bool = True
    ) -> None:
        self.path = root / "venv"
        self.site_packages = self.path / "lib" / "python3.11" / "site-packages"
        self.log = root / "calls.jsonl"
        dist_info(self.site_packages, "Django", "5.1.4")
        touch(self.path / "pyvenv.cfg", "home = /layers/python/bin\n")
        self.answer(answers, collect=collect)

    def answer(self, answers: dict[str, tuple[str, int]], *, collect: bool = True) -> None:
        python = touch(
            self.path / "bin" / "python",
            FAKE_PYTHON.format(
                python=sys.executable, log=str(self.log), answers=answers, collect=collect
            ),
        )
        python.chmod(0o755)

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.is_file():
            return []
        lines = self.log.read_text(encoding="utf-8").splitlines()
        self.log.unlink()
        return [json.loads(line) for line in lines]


def django_app(app_dir: Path, where: str = ".") -> Path:
    return touch(app_dir / where / "manage.py", "# manage.py\n")


ENV = {"PATH": "/usr/bin:/bin", "SECRET_KEY": "build-time"}
VERSION = PythonVersion(3, 12, 1)


def collectstatic(
    app_dir: Path, venv: FakeVenv, env: Mapping[str, str], *, keep_cache: bool = True
) -> bool:
    """The build's step: layers next to the app, the cache kept between calls."""
    ctx = build_context(app_dir.parent, app_dir=app_dir)
    python = installed_python(app_dir.parent, VERSION)
    opt_out = Settings.from_env(env).collectstatic_opt_out
    return collect_static_files(
        ctx, python, venv.path, venv.site_packages, env, keep_cache=keep_cache, opt_out=opt_out
    )


def test_collectstatic_runs_the_dry_run_then_the_real_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir)
    touch(app_dir / "static" / "site.css", "body {}\n")
    venv = FakeVenv(tmp_path, {"collectstatic --dry-run": ("Pretending to copy 'site.css'\n", 0)})
    assert collectstatic(app_dir, venv, ENV) is True
    calls = venv.calls()
    assert [call["args"] for call in calls] == [DRY_RUN, REAL_RUN]
    for call in calls:
        assert call["cwd"] == str(app_dir)
        assert call["VIRTUAL_ENV"] == str(venv.path)
        assert call["PATH"] == f"{venv.path / 'bin'}:/usr/bin:/bin"
        assert call["SECRET_KEY"] == "build-time"
        assert call["PYTHONDONTWRITEBYTECODE"] == "1"  # no stray bytecode in the app
    out = capsys.readouterr().out
    assert out == (
        "Running 'manage.py collectstatic --noinput'\n"
        f"      1 static files copied to '{app_dir / 'staticfiles'}'.\n"
    )


def test_collectstatic_runs_where_manage_py_is(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir, "backend")
    venv = FakeVenv(tmp_path, {})
    assert collectstatic(app_dir, venv, {}) is True
    calls = venv.calls()
    assert [call["args"] for call in calls] == [DRY_RUN, REAL_RUN]
    assert {call["cwd"] for call in calls} == {str(app_dir / "backend")}
    assert {call["PATH"] for call in calls} == {f"{venv.path / 'bin'}:/usr/bin:/bin"}


PER_FILE_OUTPUT = (
    "Found another file with the destination path 'admin/css/base.css'. It will be ignored "
    "since only the first encountered file is collected. If this is not what you want, make "
    "sure every static file has a unique path.\n"
    "Copying '/app/static/site.css'\n"
    "Post-processed 'site.css' as 'site.0123456789ab.css'\n"
    "Skipping '/app/static/a.css' (not modified)\n"
    "Pretending to copy '/app/static/b.css'\n"
    "System check identified some issues:\n"
    "WARNINGS:\n"
    "?: (staticfiles.W004) The directory '/app/assets' in the STATICFILES_DIRS does not exist.\n"
)


def test_no_line_per_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Neither run prints a line per file; the real run's warnings and summary are shown."""
    app_dir = tmp_path / "app"
    django_app(app_dir)
    touch(app_dir / "static" / "site.css", "body {}\n")
    venv = FakeVenv(
        tmp_path,
        {
            "collectstatic --dry-run": (PER_FILE_OUTPUT, 0),
            "collectstatic --noinput": (PER_FILE_OUTPUT, 0),
        },
    )
    assert collectstatic(app_dir, venv, ENV) is True
    assert capsys.readouterr().out == (
        "Running 'manage.py collectstatic --noinput'\n"
        "      System check identified some issues:\n"
        "      WARNINGS:\n"
        "      ?: (staticfiles.W004) The directory '/app/assets' in the STATICFILES_DIRS does"
        " not exist.\n"
        f"      1 static files copied to '{app_dir / 'staticfiles'}'.\n"
        "      (1 files have the destination path of a file found earlier: only the first is"
        " collected)\n"
    )


def test_a_failing_dry_run_stops_before_the_real_run(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir, "backend")
    venv = FakeVenv(
        tmp_path,
        {
            "collectstatic --dry-run": (
                "Traceback (most recent call last):\n"
                "django.core.exceptions.ImproperlyConfigured: You're using the staticfiles app "
                "without having set the STATIC_ROOT setting to a filesystem path.\n",
                1,
            )
        },
    )
    with pytest.raises(CollectstaticFailed) as caught:
        collectstatic(app_dir, venv, ENV)
    assert caught.value.command == "manage.py collectstatic --dry-run --noinput"
    assert caught.value.directory == "backend"
    assert caught.value.output == (
        "Traceback (most recent call last):\n"
        "django.core.exceptions.ImproperlyConfigured: You're using the staticfiles app "
        "without having set the STATIC_ROOT setting to a filesystem path."
    )
    assert [call["args"] for call in venv.calls()] == [DRY_RUN]


def test_a_failing_real_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir)
    venv = FakeVenv(tmp_path, {"collectstatic --noinput": ("disk full\n", 1)})
    with pytest.raises(CollectstaticFailed) as caught:
        collectstatic(app_dir, venv, ENV)
    error = caught.value
    assert (error.command, error.directory, error.output) == (
        "manage.py collectstatic --noinput",
        ".",
        "disk full",
    )
    assert [call["args"] for call in venv.calls()] == [DRY_RUN, REAL_RUN]
    # the error block shows Django's output: the log does not show it before
    assert "disk full" not in capsys.readouterr().out


def test_staticfiles_not_installed_skips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir)
    venv = FakeVenv(
        tmp_path,
        {
            "collectstatic --dry-run": (
                "Unknown command: 'collectstatic'\nType 'manage.py help' for usage.\n",
                1,
            )
        },
    )
    assert collectstatic(app_dir, venv, ENV) is False
    assert [call["args"] for call in venv.calls()] == [DRY_RUN]
    assert capsys.readouterr().out == (
        "Skipping collectstatic: django.contrib.staticfiles is not in INSTALLED_APPS\n"
    )
    assert collectstatic(app_dir, venv, ENV) is False  # nothing cached: it asks again
    assert [call["args"] for call in venv.calls()] == [DRY_RUN]


def test_settings_that_fail_to_load_fail_the_build(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir)
    output = "ModuleNotFoundError: No module named 'mysite.settings'\n"
    venv = FakeVenv(tmp_path, {"collectstatic --dry-run": (output, 1)})
    with pytest.raises(CollectstaticFailed) as caught:
        collectstatic(app_dir, venv, ENV)
    assert (caught.value.command, caught.value.directory, caught.value.output) == (
        "manage.py collectstatic --dry-run --noinput",
        ".",
        "ModuleNotFoundError: No module named 'mysite.settings'",
    )
    assert [call["args"] for call in venv.calls()] == [DRY_RUN]


@pytest.mark.parametrize("setting", ["BUILD_DISABLE_COLLECTSTATIC", "DISABLE_COLLECTSTATIC"])
def test_opting_out_runs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str
) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir)
    venv = FakeVenv(tmp_path, {})
    assert collectstatic(app_dir, venv, {setting: "true"}) is False
    assert venv.calls() == []
    assert capsys.readouterr().out == f"Skipping collectstatic: {setting} is set\n"


def test_without_manage_py_runs_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    venv = FakeVenv(tmp_path, {})
    assert collectstatic(app_dir, venv, ENV) is False
    assert venv.calls() == []
    assert capsys.readouterr().out == (
        "Skipping collectstatic: Django is installed, but no manage.py is in the app root"
        " or one level down\n"
    )


def test_without_django_runs_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir)
    venv = FakeVenv(tmp_path, {})
    for metadata in venv.site_packages.glob("*.dist-info/METADATA"):
        metadata.unlink()
    assert collectstatic(app_dir, venv, ENV) is False
    assert venv.calls() == []
    assert capsys.readouterr().out == ""


NO_SETTINGS = (
    "No Django settings specified.\n"
    "Unknown command: 'collectstatic'\n"
    "Type 'manage.py help' for usage.\n"
)


def no_settings_warning(manage_py: str, ran_in: str, example: str) -> str:
    return (
        "\n[Warning: Static files were not collected: no Django settings module]\n"
        f"`python manage.py collectstatic --dry-run --noinput` ({ran_in}) said:\n"
        "    | No Django settings specified.\n"
        "    | Unknown command: 'collectstatic'\n"
        "    | Type 'manage.py help' for usage.\n\n"
        f"{manage_py} does not set DJANGO_SETTINGS_MODULE, and neither does the build's "
        "environment, so Django cannot load the settings, and python-cnb cannot tell whether "
        "django.contrib.staticfiles is enabled. If it is, the image has no static files.\n\n"
        "How to fix it:\n"
        f"  1. Name the settings in {manage_py}, as `django-admin startproject` does:\n"
        f'       os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{example}")\n'
        f"  2. Or set DJANGO_SETTINGS_MODULE={example} in the build's environment\n"
        "     (pack build --env, project.toml, the platform's build settings).\n"
        "  3. If the app has no static files, set BUILD_DISABLE_COLLECTSTATIC=1\n"
        "     (or DISABLE_COLLECTSTATIC=1) to skip this step.\n\n"
    )


def test_no_settings_module_is_not_a_missing_staticfiles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without DJANGO_SETTINGS_MODULE Django knows no collectstatic: say what is wrong."""
    app_dir = tmp_path / "app"
    django_app(app_dir)
    touch(app_dir / "mysite" / "settings.py", "DEBUG = True\n")
    venv = FakeVenv(tmp_path, {"collectstatic --dry-run": (NO_SETTINGS, 1)})
    assert collectstatic(app_dir, venv, ENV) is False
    assert [call["args"] for call in venv.calls()] == [DRY_RUN]
    out = capsys.readouterr().out
    assert "staticfiles is not in INSTALLED_APPS" not in out
    assert out == no_settings_warning("manage.py", "in the app root", "mysite.settings")


def test_no_settings_module_one_level_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir, "backend")
    touch(app_dir / "backend" / "config" / "settings" / "__init__.py")
    venv = FakeVenv(tmp_path, {"collectstatic --dry-run": (NO_SETTINGS, 1)})
    assert collectstatic(app_dir, venv, ENV) is False
    assert capsys.readouterr().out == no_settings_warning(
        "backend/manage.py", "in backend", "config.settings"
    )


@pytest.mark.parametrize(
    ("layout", "example"),
    [
        ((), "mysite.settings"),  # nothing found: a placeholder
        (("a/settings.py", "b/settings.py"), "mysite.settings"),  # two: no guess
        ((".hidden/settings.py", "site/settings.py"), "site.settings"),
    ],
)
def test_no_settings_module_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], layout: tuple[str, ...], example: str
) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir)
    for relative in layout:
        touch(app_dir / relative)
    venv = FakeVenv(tmp_path, {"collectstatic --dry-run": (NO_SETTINGS, 1)})
    collectstatic(app_dir, venv, ENV)
    assert f'"DJANGO_SETTINGS_MODULE", "{example}")' in capsys.readouterr().out


def test_settings_candidates(tmp_path: Path) -> None:
    touch(tmp_path / "mysite" / "settings.py")
    touch(tmp_path / "config" / "settings" / "__init__.py")
    touch(tmp_path / "config" / "settings.py")  # the same module, either way
    touch(tmp_path / "deep" / "er" / "settings.py")
    assert settings_candidates(tmp_path) == ["config.settings", "mysite.settings"]


@pytest.mark.parametrize(
    ("relative", "shown"), [(".", "in the app root"), ("backend", "in backend")]
)
def test_in_directory(relative: str, shown: str) -> None:
    assert in_directory(relative) == shown


# --- reusing the result -------------------------------------------------------------------------


def fresh_app(tmp_path: Path, source: Path) -> Path:
    """The app directory of a rebuild: the source again (the app is exported, not cached)."""
    app_dir = tmp_path / "app"
    shutil.rmtree(app_dir, ignore_errors=True)
    shutil.copytree(source, app_dir, symlinks=True)
    return app_dir


def source_app(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    django_app(source)
    touch(source / "static" / "site.css", "body { color: #306998; }\n")
    touch(source / "static" / "js" / "app.js", "console.log(1);\n")
    touch(source / "mysite" / "settings.py", "STATIC_ROOT = 'staticfiles'\n")
    return source


def test_an_unchanged_rebuild_restores_the_result_without_django(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = source_app(tmp_path)
    venv = FakeVenv(tmp_path, {})
    ran = fresh_app(tmp_path, source)
    assert collectstatic(ran, venv, ENV) is True
    assert [call["args"] for call in venv.calls()] == [DRY_RUN, REAL_RUN]
    collected = snapshot_tree(ran)
    capsys.readouterr()
    rebuilt = fresh_app(tmp_path, source)
    assert not (rebuilt / "staticfiles").exists()
    assert collectstatic(rebuilt, venv, {**ENV, "HOSTNAME": "another-container"}) is True
    assert venv.calls() == []  # Django never started
    assert capsys.readouterr().out == (
        "Using cached static files (nothing they depend on changed)\n"
    )
    assert snapshot_tree(rebuilt) == collected
    assert (rebuilt / "staticfiles" / "js" / "app.js").read_text() == "console.log(1);\n"


def test_a_clean_build_runs_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = source_app(tmp_path)
    venv = FakeVenv(tmp_path, {})
    collectstatic(fresh_app(tmp_path, source), venv, ENV)
    venv.calls()
    capsys.readouterr()
    assert collectstatic(fresh_app(tmp_path, source), venv, ENV, keep_cache=False) is True
    assert [call["args"] for call in venv.calls()] == [DRY_RUN, REAL_RUN]
    out = capsys.readouterr().out
    assert out.startswith(
        "Discarding cached static files since:\n  - A clean build was requested\n"
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda app: touch(app / "static" / "site.css", "body {}\n"), "static/site.css (changed)"),
        (lambda app: touch(app / "static" / "new.css"), "static/new.css (added)"),
        (lambda app: (app / "static" / "js" / "app.js").unlink(), "static/js/app.js (removed)"),
        (
            lambda app: touch(app / "mysite" / "settings.py", "STATIC_ROOT = 'out'\n"),
            "mysite/settings.py (changed)",
        ),
        (lambda app: (app / "manage.py").chmod(0o755), "manage.py (changed)"),
    ],
)
def test_a_changed_app_file_runs_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Any, reason: str
) -> None:
    source = source_app(tmp_path)
    venv = FakeVenv(tmp_path, {})
    collectstatic(fresh_app(tmp_path, source), venv, ENV)
    venv.calls()
    capsys.readouterr()
    change(source)
    rebuilt = fresh_app(tmp_path, source)
    assert collectstatic(rebuilt, venv, ENV) is True
    assert [call["args"] for call in venv.calls()] == [DRY_RUN, REAL_RUN]
    assert capsys.readouterr().out.startswith(
        f"Discarding cached static files since:\n  - The app's files changed: {reason}\n"
    )


def test_the_reasons_name_at_most_five_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = source_app(tmp_path)
    venv = FakeVenv(tmp_path, {})
    collectstatic(fresh_app(tmp_path, source), venv, ENV)
    capsys.readouterr()
    for index in range(7):
        touch(source / "static" / f"{index}.css")
    collectstatic(fresh_app(tmp_path, source), venv, ENV)
    assert (
        "  - The app's files changed: static/0.css (added), static/1.css (added), "
        "static/2.css (added), static/3.css (added), static/4.css (added) and 2 more\n"
    ) in capsys.readouterr().out


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({**ENV, "SECRET_KEY": "another"}, "A variable of the build's environment has a new value"),
        (
            {**ENV, "DJANGO_STATIC_HOST": "cdn"},
            "The build's environment changed: DJANGO_STATIC_HOST set",
        ),
        ({"PATH": "/usr/bin:/bin"}, "The build's environment changed: SECRET_KEY unset"),
    ],
)
def test_a_changed_environment_runs_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], env: dict[str, str], reason: str
) -> None:
    source = source_app(tmp_path)
    venv = FakeVenv(tmp_path, {})
    collectstatic(fresh_app(tmp_path, source), venv, ENV)
    venv.calls()
    capsys.readouterr()
    assert collectstatic(fresh_app(tmp_path, source), venv, env) is True
    assert [call["args"] for call in venv.calls()] == [DRY_RUN, REAL_RUN]
    out = capsys.readouterr().out
    assert f"Discarding cached static files since:\n  - {reason}" in out
    assert "another" not in out  # no value is ever shown


def test_changed_packages_run_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = source_app(tmp_path)
    venv = FakeVenv(tmp_path, {})
    collectstatic(fresh_app(tmp_path, source), venv, ENV)
    capsys.readouterr()
    dist_info(venv.site_packages, "whitenoise", "6.12.0")
    collectstatic(fresh_app(tmp_path, source), venv, ENV)
    assert (
        "  - The installed packages changed: whitenoise 6.12.0 added\n" in capsys.readouterr().out
    )
    touch(venv.site_packages / "whitenoise-6.12.0.dist-info" / "RECORD", "whitenoise/x.py,,\n")
    collectstatic(fresh_app(tmp_path, source), venv, ENV)
    assert (
        "  - The files of an installed package changed (same versions, new contents)\n"
        in capsys.readouterr().out
    )
    assert [call["args"] for call in venv.calls()] == [DRY_RUN, REAL_RUN] * 3


def test_a_damaged_cache_runs_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = source_app(tmp_path)
    venv = FakeVenv(tmp_path, {})
    collectstatic(fresh_app(tmp_path, source), venv, ENV)
    venv.calls()
    capsys.readouterr()
    for blob in (tmp_path / "layers" / "staticfiles" / "blobs").iterdir():
        blob.write_text("tampered")
    rebuilt = fresh_app(tmp_path, source)
    assert collectstatic(rebuilt, venv, ENV) is True
    assert [call["args"] for call in venv.calls()] == [DRY_RUN, REAL_RUN]
    assert "is damaged (its contents changed)" in capsys.readouterr().out
    assert (rebuilt / "staticfiles" / "site.css").read_text() == "body { color: #306998; }\n"


def test_a_storage_that_is_not_local_is_never_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Django names no destination for a remote storage: skipping would skip the upload."""
    source = source_app(tmp_path)
    venv = FakeVenv(tmp_path, {"collectstatic --noinput": ("\n3 static files copied.\n", 0)})
    venv.answer({"collectstatic --noinput": ("\n3 static files copied.\n", 0)}, collect=False)
    for _ in range(2):
        assert collectstatic(fresh_app(tmp_path, source), venv, ENV) is True
        assert [call["args"] for call in venv.calls()] == [DRY_RUN, REAL_RUN]
    assert (
        capsys.readouterr().out.count(
            "Static files will be collected again at the next build: Django named no directory it"
            " collected them into (a storage that is not local?)\n"
        )
        == 2
    )
    assert not (tmp_path / "layers" / "staticfiles.toml").exists()


def test_a_destination_outside_the_app_is_never_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = source_app(tmp_path)
    said = f"\n1 static file copied to '{tmp_path / 'elsewhere'}'.\n"
    venv = FakeVenv(tmp_path, {})
    venv.answer({"collectstatic --noinput": (said, 0)}, collect=False)
    collectstatic(fresh_app(tmp_path, source), venv, ENV)
    assert "outside the app directory" in capsys.readouterr().out
    assert not (tmp_path / "layers" / "staticfiles.toml").exists()


def test_opting_out_drops_the_cached_result(tmp_path: Path) -> None:
    """An opted-out build leaves the layer without metadata: the lifecycle keeps nothing."""
    source = source_app(tmp_path)
    venv = FakeVenv(tmp_path, {})
    collectstatic(fresh_app(tmp_path, source), venv, ENV)
    layer_toml = tmp_path / "layers" / "staticfiles.toml"
    toml_file.write(layer_toml, {"metadata": toml_file.read(layer_toml)["metadata"]})  # restored
    venv.calls()
    rebuilt = fresh_app(tmp_path, source)
    assert collectstatic(rebuilt, venv, {**ENV, "BUILD_DISABLE_COLLECTSTATIC": "1"}) is False
    assert not (rebuilt / "staticfiles").exists()
    assert "types" not in toml_file.read(layer_toml)  # not rewritten: not cached again
    assert venv.calls() == []


def test_the_layer_is_cache_only(tmp_path: Path) -> None:
    source = source_app(tmp_path)
    collectstatic(fresh_app(tmp_path, source), FakeVenv(tmp_path, {}), ENV)
    layer_toml = toml_file.read(tmp_path / "layers" / "staticfiles.toml")
    assert layer_toml["types"] == {"build": False, "launch": False, "cache": True}
    assert layer_toml["metadata"]["environment_names"] == ["PATH", "SECRET_KEY"]
    assert "build-time" not in (tmp_path / "layers" / "staticfiles.toml").read_text()


# --- what the result depends on -----------------------------------------------------------------


def test_the_environment_digest() -> None:
    digest, names = environment_digest(ENV, ())
    assert names == ("PATH", "SECRET_KEY")
    same = {
        "SECRET_KEY": "build-time",
        "PATH": "/usr/bin:/bin",  # another order
        "HOSTNAME": "3f2a1b4c5d6e",  # a container's name differs at every build
        "CNB_BP_PLAN_PATH": "/tmp/plan.123/plan.toml",  # a temporary file of the lifecycle
        "BUILD_NO_CACHE": "1",
    }
    assert environment_digest(same, ()) == (digest, names)
    assert environment_digest({**ENV, "SECRET_KEY": "other"}, ())[0] != digest
    assert environment_digest({**ENV, "SECRET_KEY": ""}, ())[0] != digest
    assert environment_digest({**ENV, "DEBUG": "1"}, ()) != (digest, names)
    assert (
        environment_digest({**ENV, "PATH=/usr/bin:/bin\0SECRET_KEY": "build-time"}, ())[0] != digest
    )


def test_build_secrets_count_by_name() -> None:
    """python-cnb's own variables for bindings are paths in a new temporary directory."""
    first = environment_digest(
        {**ENV, "SSL_CERT_FILE": "/tmp/python-cnb-ca-abc/ca.pem"}, ["SSL_CERT_FILE"]
    )
    second = environment_digest(
        {**ENV, "SSL_CERT_FILE": "/tmp/python-cnb-ca-xyz/ca.pem"}, ["SSL_CERT_FILE"]
    )
    assert first == second
    assert first != environment_digest(ENV, ["SSL_CERT_FILE"])


def record(site_packages: Path, name: str, text: str) -> None:
    touch(site_packages / f"{name}.dist-info" / "RECORD", text)


def test_the_packages_digest(tmp_path: Path) -> None:
    venv = FakeVenv(tmp_path, {})
    site_packages = venv.site_packages
    record(site_packages, "Django-5.1.4", "django/__init__.py,sha256=abc,10\n")
    touch(site_packages / "django" / "__init__.py", "VERSION = (5, 1, 4)\n")
    digest = packages_digest(venv.path, site_packages)
    # bytecode, the console scripts and the files RECORD lists are not read
    touch(site_packages / "django" / "__pycache__" / "__init__.cpython-312.pyc", "bytecode")
    touch(site_packages / "django" / "__init__.py", "not read: RECORD has its hash")
    touch(venv.path / "bin" / "django-admin", "#!/bin/sh\n")
    assert packages_digest(venv.path, site_packages) == digest
    changes: list[Callable[[], object]] = [
        lambda: record(site_packages, "Django-5.1.4", "django/__init__.py,sha256=abd,10\n"),
        lambda: dist_info(site_packages, "whitenoise", "6.12.0"),
        lambda: touch(site_packages / "zzz.pth", "import os\n"),
        lambda: touch(site_packages / "zzz.pth", "import sys\n"),
        lambda: touch(venv.path / "pyvenv.cfg", "home = /elsewhere\n"),
        (site_packages / "stray").mkdir,
    ]
    seen = {digest}
    for change in changes:
        change()
        seen.add(packages_digest(venv.path, site_packages))
    assert len(seen) == len(changes) + 1


def test_a_distribution_without_record_hashes_everything(tmp_path: Path) -> None:
    venv = FakeVenv(tmp_path, {})  # its Django has no RECORD
    touch(venv.site_packages / "django" / "contrib" / "admin" / "static" / "base.css", "a")
    digest = packages_digest(venv.path, venv.site_packages)
    assert digest.startswith("tree:")
    touch(venv.site_packages / "django" / "contrib" / "admin" / "static" / "base.css", "b")
    assert packages_digest(venv.path, venv.site_packages) != digest


def key(tmp_path: Path, **changes: Any) -> StaticFilesMetadata:
    app_dir = tmp_path / "app"
    manage_py = django_app(app_dir)
    venv = FakeVenv(tmp_path, {})
    installed = snapshot(venv.site_packages)
    ctx = build_context(tmp_path, app_dir=app_dir, version=changes.pop("version", "0.1.0"))
    python = installed_python(tmp_path, VERSION, checksum=changes.pop("checksum", "0" * 64))
    return static_files_key(
        ctx,
        python,
        manage_py,
        installed["django"],
        installed,
        venv.path,
        venv.site_packages,
        changes.pop("env", ENV),
        (),
        snapshot_tree(app_dir),
    )


def test_the_key_names_python_cnb_the_interpreter_and_django(tmp_path: Path) -> None:
    metadata = key(tmp_path)
    assert (metadata.buildpack_version, metadata.python_version, metadata.django_version) == (
        "0.1.0",
        "3.12.1",
        "5.1.4",
    )
    assert metadata.distributions == ("Django==5.1.4",)
    assert metadata.manage_py == "manage.py"
    assert key(tmp_path, version="0.2.0").buildpack_version == "0.2.0"
    assert key(tmp_path, checksum="1" * 64).python_checksum == "1" * 64


def test_every_field_of_the_key_discards(tmp_path: Path) -> None:
    """The fields that changed_fields leaves out are compared by the layer module itself."""
    from python_cnb.cnb.layers import Layer
    from python_cnb.layers.staticfiles import _content_reasons

    metadata = key(tmp_path)
    layer = Layer(tmp_path / "layers", "staticfiles")
    for f in dataclasses.fields(StaticFilesMetadata):
        value = getattr(metadata, f.name)
        other = (*value, "x") if isinstance(value, tuple) else value + "x"
        changed = dataclasses.replace(metadata, **{f.name: cast(Any, other)})
        if f.metadata.get("invalidates", True):
            from python_cnb.cnb.layers import changed_fields

            assert changed_fields(metadata, changed), f.name
        else:
            assert _content_reasons(metadata, changed, Tree({}), layer), f.name


# --- the app tree -------------------------------------------------------------------------------


def test_tree_digest_is_of_contents_and_modes_not_times(tmp_path: Path) -> None:
    touch(tmp_path / "static" / "site.css", "a")
    digest = snapshot_tree(tmp_path).digest()
    os.utime(tmp_path / "static" / "site.css", (0, 0))
    assert snapshot_tree(tmp_path).digest() == digest
    digests = {digest}
    (tmp_path / "static" / "site.css").chmod(0o600)
    digests.add(snapshot_tree(tmp_path).digest())
    touch(tmp_path / "static" / "site.css", "b")
    digests.add(snapshot_tree(tmp_path).digest())
    (tmp_path / "link").symlink_to("static")
    digests.add(snapshot_tree(tmp_path).digest())
    (tmp_path / "link").unlink()
    (tmp_path / "link").symlink_to("elsewhere")
    digests.add(snapshot_tree(tmp_path).digest())
    (tmp_path / "empty").mkdir()
    digests.add(snapshot_tree(tmp_path).digest())
    assert len(digests) == 6


def test_the_result_is_what_the_run_changed(tmp_path: Path) -> None:
    touch(tmp_path / "static" / "site.css", "a")
    touch(tmp_path / "old.txt", "x")
    before = snapshot_tree(tmp_path)
    touch(tmp_path / "staticfiles" / "site.css", "a")
    touch(tmp_path / "static" / "site.css", "changed")
    (tmp_path / "old.txt").unlink()
    result = StaticResult.between(before, snapshot_tree(tmp_path, previous=before))
    assert sorted(result.written) == ["static/site.css", "staticfiles", "staticfiles/site.css"]
    assert result.removed == ("old.txt",)
    assert StaticResult.from_json(result.to_json()) == result


def test_a_restored_result_has_the_runs_paths_bytes_and_modes(tmp_path: Path) -> None:
    from python_cnb.layers.staticfiles import (
        CachedStaticFiles,
        prepare_static_files,
        restore_static_files,
        save_static_files,
    )

    source = tmp_path / "source"
    touch(source / "static" / "site.css", "a")
    touch(source / "stale.txt", "x")
    metadata = key(tmp_path)
    ctx = build_context(tmp_path)

    def run(app_dir: Path) -> None:  # what a run might do
        touch(app_dir / "staticfiles" / "css" / "site.css", "a")
        touch(app_dir / "staticfiles" / "css" / "site.0cc175b9c0f1.css", "a")  # same bytes
        (app_dir / "staticfiles" / "css" / "site.css").chmod(0o640)
        (app_dir / "staticfiles" / "css").chmod(0o750)
        (app_dir / "staticfiles" / "latest.css").symlink_to("css/site.css")
        (app_dir / "stale.txt").unlink()

    ran = fresh_app(tmp_path, source)
    before = snapshot_tree(ran)
    run(ran)
    result = StaticResult.between(before, snapshot_tree(ran, previous=before))
    cached = prepare_static_files(ctx, metadata, before, keep_cache=True)
    save_static_files(cached, ran, before, result)
    after_run = snapshot_tree(ran)
    assert len(list((tmp_path / "layers" / "staticfiles" / "blobs").iterdir())) == 1

    restored = fresh_app(tmp_path, source)
    cached = prepare_static_files(ctx, metadata, snapshot_tree(restored), keep_cache=True)
    assert isinstance(cached, CachedStaticFiles) and cached.result is not None
    restore_static_files(cached, restored)
    assert snapshot_tree(restored) == after_run


def test_a_record_naming_paths_outside_the_app_is_not_used(tmp_path: Path) -> None:
    from python_cnb.cnb.layers import Layer
    from python_cnb.layers.staticfiles import RESULT, _damage

    layer = Layer(tmp_path, "staticfiles")
    layer.path.mkdir()
    for path in ("../escape", "/etc/passwd", "a/../../b"):
        (layer.path / RESULT).write_text(StaticResult({path: ("d", 0o755, "")}, ()).to_json())
        assert _damage(layer) == [
            f"Its record of the static files names a path outside the app: {path!r}"
        ]
    (layer.path / RESULT).write_text("{")
    assert _damage(layer)[0].startswith("Its record of the static files could not be read")
